package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKeepExitFileSweeps: a removed container's exit code is kept under "removed-<id>"; codes
// older than five minutes are dropped by a sweep that runs at most once a minute.
func TestKeepExitFileSweeps(t *testing.T) {
	r := newTestRuntime(t)
	dir := r.exitDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name string, age time.Duration) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("0"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}

	write("a", 0)
	write("removed-old1", 10*time.Minute)
	write("removed-recent", time.Minute)
	r.keepExitFile("a")
	if exists("a") || !exists("removed-a") {
		t.Fatal("the exit file of a was not kept as removed-a")
	}
	if exists("removed-old1") || !exists("removed-recent") {
		t.Fatalf("first sweep: old1 kept %v, recent kept %v; want dropped, kept", exists("removed-old1"), exists("removed-recent"))
	}

	// Within the minute: no sweep.
	write("removed-old2", 10*time.Minute)
	r.keepExitFile("b")
	if !exists("removed-old2") {
		t.Fatal("a second sweep ran within a minute of the first")
	}

	// A minute later: swept again.
	marker := filepath.Join(dir, ".swept")
	past := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(marker, past, past); err != nil {
		t.Fatal(err)
	}
	r.keepExitFile("c")
	if exists("removed-old2") || !exists("removed-a") {
		t.Fatalf("sweep after a minute: old2 kept %v, removed-a kept %v; want dropped, kept", exists("removed-old2"), exists("removed-a"))
	}
}
