package main

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// asInstalled leaves none of a just-written file's pages in the page cache (on a disk file
// system: a tmpfs file has no other place to be).
func TestAsInstalledDropsThePageCache(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("the temporary directory is on a tmpfs")
	}
	p := filepath.Join(dir, "bin")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o755); err != nil {
		t.Fatal(err)
	}
	if r, n, err := residentPages(p); err != nil || r != n {
		t.Fatalf("just written: %d of %d pages resident (%v)", r, n, err)
	}
	if err := asInstalled(p); err != nil {
		t.Fatal(err)
	}
	if r, n, err := residentPages(p); err != nil || r != 0 {
		t.Fatalf("after asInstalled: %d of %d pages resident (%v)", r, n, err)
	}
}
