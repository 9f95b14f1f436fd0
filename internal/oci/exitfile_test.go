package oci_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"pea/internal/oci"
)

// TestWaitExitCode: the exit code is returned once conmon's file lands, whether written in place
// or renamed into the directory, under any of the names; a missing file times out.
func TestWaitExitCode(t *testing.T) {
	dir := t.TempDir()
	if _, ok := oci.WaitExitCode(dir, []string{"a"}, 0); ok {
		t.Fatal("a code without a file")
	}
	start := time.Now()
	if _, ok := oci.WaitExitCode(dir, []string{"a"}, 50*time.Millisecond); ok || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("a missing file: ok=%v after %v", ok, time.Since(start))
	}
	for _, tc := range []struct {
		name  string
		write func(path string) error
	}{
		{"in place", func(path string) error { return os.WriteFile(path, []byte("3\n"), 0o600) }},
		{"renamed", func(path string) error {
			tmp := filepath.Join(dir, ".tmp")
			if err := os.WriteFile(tmp, []byte("3"), 0o600); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}},
	} {
		for _, name := range []string{"ctr", "removed-ctr"} {
			os.Remove(filepath.Join(dir, "ctr"))
			os.Remove(filepath.Join(dir, "removed-ctr"))
			errc := make(chan error, 1)
			go func() {
				time.Sleep(20 * time.Millisecond)
				errc <- tc.write(filepath.Join(dir, name))
			}()
			code, ok := oci.WaitExitCode(dir, []string{"ctr", "removed-ctr"}, 10*time.Second)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !ok || code != 3 {
				t.Fatalf("%s %s: code %d, ok %v", tc.name, name, code, ok)
			}
		}
	}
}
