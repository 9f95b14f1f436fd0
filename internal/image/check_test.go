package image

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A layer whose tar has what unpacking resolves in its own ways (entries replaced, whiteouts,
// hard links, a parent reached through a symlink, a directory replaced by a file) is sound to
// the check as unpacked, and each change to its files is found: the check must never call a
// sound layer damaged, since --repair removes what it calls damaged.
func TestCheckLayerContents(t *testing.T) {
	s := newStore(t)
	layer := makeTar(t, []entry{
		{name: "./", typ: tar.TypeDir},
		{name: "bin/", typ: tar.TypeDir},
		{name: "bin/sh", body: "#!fake shell\n", mode: 0o755},
		{name: "bin/ls", typ: tar.TypeSymlink, link: "sh"},
		{name: "bin/sh2", typ: tar.TypeLink, link: "bin/sh"},
		{name: "etc/", typ: tar.TypeDir, mode: 0o750},
		{name: "etc/passwd", body: "old\n"},
		{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/sh\n", mode: 0o600},
		{name: "usr/", typ: tar.TypeDir},
		{name: "usr/lib/", typ: tar.TypeDir},
		{name: "usr/lib/gone", body: "x"},
		{name: "usr/.wh.lib"},
		{name: "lib", typ: tar.TypeSymlink, link: "usr"},
		{name: "lib/viaLink", body: "through the symlink"},
		{name: "opt/", typ: tar.TypeDir},
		{name: "opt/sub/", typ: tar.TypeDir},
		{name: "opt/sub/f", body: "below"},
		{name: "opt/sub", body: "now a file"},
		{name: "var/", typ: tar.TypeDir},
		{name: "var/.wh..wh..opq"},
	})
	img, err := s.Import(bytes.NewReader(gzipped(t, layer)), "localhost/chk:latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(CheckOptions{MaxAge: time.Hour})
	if err != nil || rep.Damaged() {
		t.Fatalf("sound store: %+v %v", rep, err)
	}
	diff := filepath.Join(s.layerPath(img.Layers[0]), "diff")
	for _, c := range []struct {
		name, want string
		damage     func() error
	}{
		{"content", "/etc/passwd has other content", func() error {
			return os.WriteFile(filepath.Join(diff, "etc/passwd"), []byte("ROOT:x:0:0:root:/root:/bin/sh\n"), 0o600)
		}},
		{"size", "/bin/sh has 3 bytes", func() error { return os.Truncate(filepath.Join(diff, "bin/sh"), 3) }},
		{"missing", "/usr/viaLink is missing", func() error { return os.Remove(filepath.Join(diff, "usr/viaLink")) }},
		{"mode", "/etc has mode 0755, the layer has 0750", func() error { return os.Chmod(filepath.Join(diff, "etc"), 0o755) }},
		{"symlink", `/bin/ls points to "busybox"`, func() error {
			os.Remove(filepath.Join(diff, "bin/ls"))
			return os.Symlink("busybox", filepath.Join(diff, "bin/ls"))
		}},
		{"extra", "/opt/planted is not in the layer", func() error { return os.WriteFile(filepath.Join(diff, "opt/planted"), nil, 0o644) }},
		{"size file", "its size file", func() error { return os.Remove(filepath.Join(s.layerPath(img.Layers[0]), "size")) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Import(bytes.NewReader(gzipped(t, layer)), "localhost/chk:latest", nil); err != nil {
				t.Fatal(err)
			}
			// (the import found the layer in place: put it back as unpacked)
			os.RemoveAll(s.layerPath(img.Layers[0]))
			if _, err := s.Import(bytes.NewReader(gzipped(t, layer)), "localhost/chk:latest", nil); err != nil {
				t.Fatal(err)
			}
			if err := c.damage(); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Check(CheckOptions{MaxAge: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(rep.Layers[strings.TrimPrefix(img.Layers[0], "sha256:")], "\n")
			if !strings.Contains(got, c.want) || len(rep.Images[img.ID]) != 1 {
				t.Fatalf("want %q, got %q (%+v)", c.want, got, rep)
			}
		})
	}
}

// A damaged blob is found by its digest; --quick only sees that it is there.
func TestCheckBlob(t *testing.T) {
	s := newStore(t)
	img, err := s.Import(bytes.NewReader(gzipped(t, smallRootfs(t))), "localhost/chk:latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := s.blobPath(img.LayerBlobs[0])
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	os.WriteFile(p, b, 0o600)
	if rep, _ := s.Check(CheckOptions{Quick: true, MaxAge: time.Hour}); rep.Damaged() {
		t.Fatalf("quick: %+v", rep)
	}
	rep, _ := s.Check(CheckOptions{MaxAge: time.Hour})
	if got := strings.Join(rep.Layers[strings.TrimPrefix(img.Layers[0], "sha256:")], "\n"); !strings.Contains(got, "is corrupt: its content hashes to") {
		t.Fatalf("corrupt blob: %q", got)
	}
}
