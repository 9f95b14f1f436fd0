package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func trashEntries(t *testing.T, r *Runtime) int {
	t.Helper()
	entries, err := os.ReadDir(r.trashDir())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(entries)
}

func newTrashRuntime(t *testing.T, deferTrash bool) *Runtime {
	t.Helper()
	r, err := New(Options{Root: t.TempDir(), RunRoot: t.TempDir(), DeferTrash: deferTrash})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func makeTree(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "upper", "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "upper", "etc", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiscardDirGoesThroughTheTrash(t *testing.T) {
	r := newTrashRuntime(t, true)
	dir := r.ctrDir("c1")
	makeTree(t, dir)
	r.discardDir(dir)
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("the directory is still in place: %v", err)
	}
	if n := trashEntries(t, r); n != 1 || !r.trashed.Load() {
		t.Fatalf("trash: %d entries, pending %v; want 1, true", n, r.trashed.Load())
	}
	r.EmptyTrash()
	if n := trashEntries(t, r); n != 0 || r.trashed.Load() {
		t.Fatalf("after EmptyTrash: %d entries, pending %v", n, r.trashed.Load())
	}

	// Nothing to discard: nothing happens.
	r.discardDir(r.ctrDir("missing"))
	if r.trashed.Load() {
		t.Fatal("a missing directory left the trash pending")
	}

	// Closing the runtime empties what it put in the trash, unless another process took it over.
	makeTree(t, dir)
	r.discardDir(dir)
	r.HandOffTrash()
	r.Close()
	if n := trashEntries(t, r); n != 1 {
		t.Fatalf("handed off: the close emptied the trash (%d entries)", n)
	}
	makeTree(t, dir)
	r.discardDir(dir)
	r.Close()
	if n := trashEntries(t, r); n != 0 {
		t.Fatalf("close left %d entries in the trash", n)
	}
}

func TestDiscardDirWithoutDeferTrashRemovesInPlace(t *testing.T) {
	r := newTrashRuntime(t, false)
	dir := r.ctrDir("c1")
	makeTree(t, dir)
	r.discardDir(dir)
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("the directory is still in place: %v", err)
	}
	if _, err := os.Lstat(r.trashDir()); !os.IsNotExist(err) || r.trashed.Load() {
		t.Fatalf("a trash without DeferTrash: %v, pending %v", err, r.trashed.Load())
	}
}
