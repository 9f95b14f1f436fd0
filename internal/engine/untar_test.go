package engine

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A directory keeps its entry's time though entries below it are written after it (a build
// context's COPY of a directory is cached by its files' times).
func TestUntarKeepsDirectoryTimes(t *testing.T) {
	when := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o755, ModTime: when},
		{Typeflag: tar.TypeDir, Name: "d/e/", Mode: 0o700, ModTime: when.Add(time.Hour)},
		{Typeflag: tar.TypeReg, Name: "d/e/f", Mode: 0o644, ModTime: when},
		{Typeflag: tar.TypeReg, Name: "d/g", Mode: 0o644, ModTime: when},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	dir := t.TempDir()
	if err := Untar(&buf, dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]time.Time{"d": when, "d/e": when.Add(time.Hour)} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.ModTime().Equal(want) {
			t.Errorf("%s: time %v (%v), want %v", name, fi.ModTime(), err, want)
		}
	}
}
