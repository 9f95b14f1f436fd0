package main

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

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

// residentPages counts the pages of a file that are in the page cache, and all its pages.
func residentPages(path string) (resident, total int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, 0, err
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		return 0, 0, e
	}
	for _, v := range vec {
		resident += int(v & 1)
	}
	return resident, len(vec), nil
}
