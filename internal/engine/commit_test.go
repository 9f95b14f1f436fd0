package engine

import (
	"archive/tar"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// writeTree never reads what is not a regular file (a FIFO would hang it, a device would give
// the host's device), leaves sockets out, writes a file linked twice once, and turns an
// overlay's whiteouts and opaque directories into the OCI layer format.
func TestWriteTreeSpecialFiles(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root for device nodes and trusted xattrs")
	}
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "file"), []byte("data"), 0o644))
	must(os.Link(filepath.Join(dir, "file"), filepath.Join(dir, "hard")))
	must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(unix.Mknod(filepath.Join(dir, "zero"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))))
	must(unix.Mknod(filepath.Join(dir, "gone"), unix.S_IFCHR, 0)) // an overlay whiteout
	must(os.Mkdir(filepath.Join(dir, "opaque"), 0o755))
	must(unix.Setxattr(filepath.Join(dir, "opaque"), "trusted.overlay.opaque", []byte("y"), 0))
	must(os.Symlink("/etc/shadow", filepath.Join(dir, "link")))
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	must(err)
	defer l.Close()

	var buf bytes.Buffer
	must(writeTree(&buf, dir, nil, nil, true))
	got := map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		got[h.Name] = h
	}
	check := func(name string, typ byte) *tar.Header {
		t.Helper()
		h := got[name]
		if h == nil || h.Typeflag != typ {
			t.Fatalf("%s: %+v, want type %c", name, h, typ)
		}
		return h
	}
	files := []string{"file", "hard"}
	first := check(files[0], tar.TypeReg)
	if first.Size != 4 {
		t.Fatalf("file: %+v", first)
	}
	if h := check("hard", tar.TypeLink); h.Linkname != "file" {
		t.Fatalf("hard: %+v", h)
	}
	check("fifo", tar.TypeFifo)
	if h := check("zero", tar.TypeChar); h.Devmajor != 1 || h.Devminor != 5 || h.Size != 0 {
		t.Fatalf("zero: %+v", h)
	}
	check(".wh.gone", tar.TypeReg)
	check("opaque/", tar.TypeDir)
	check("opaque/.wh..wh..opq", tar.TypeReg)
	if h := check("link", tar.TypeSymlink); h.Linkname != "/etc/shadow" {
		t.Fatalf("link: %+v", h)
	}
	if got["sock"] != nil {
		t.Fatal("a socket was written")
	}
}
