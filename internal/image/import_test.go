package image

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

func TestImportWithChanges(t *testing.T) {
	s := newStore(t)
	changes := []string{
		`CMD ["/bin/sh", "-c", "echo hi"]`,
		`ENTRYPOINT /bin/run me`,
		`ENV PATH=/usr/bin:/bin`,
		`ENV A=1 B="two words"`,
		`WORKDIR /srv`,
		`USER 1000:1000`,
		`LABEL org.x=y "k 2"=v2`,
		`EXPOSE 80 53/udp`,
		`STOPSIGNAL SIGINT`,
		`VOLUME ["/data"]`,
	}
	img, err := s.Import(bytes.NewReader(gzipped(t, smallRootfs(t))), "bb", changes)
	if err != nil {
		t.Fatal(err)
	}
	c := img.Config.Config
	want := struct {
		cmd, ep, env []string
	}{
		[]string{"/bin/sh", "-c", "echo hi"},
		[]string{"/bin/sh", "-c", "/bin/run me"},
		[]string{"PATH=/usr/bin:/bin", "A=1", "B=two words"},
	}
	if !reflect.DeepEqual(c.Cmd, want.cmd) || !reflect.DeepEqual(c.Entrypoint, want.ep) || !reflect.DeepEqual(c.Env, want.env) {
		t.Errorf("cmd %q entrypoint %q env %q", c.Cmd, c.Entrypoint, c.Env)
	}
	if c.WorkingDir != "/srv" || c.User != "1000:1000" || c.StopSignal != "SIGINT" {
		t.Errorf("workdir %q user %q stopsignal %q", c.WorkingDir, c.User, c.StopSignal)
	}
	if c.Labels["org.x"] != "y" || c.Labels["k 2"] != "v2" {
		t.Errorf("labels %v", c.Labels)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok {
		t.Errorf("exposed %v", c.ExposedPorts)
	}
	if _, ok := c.ExposedPorts["53/udp"]; !ok {
		t.Errorf("exposed %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("volumes %v", c.Volumes)
	}
	if len(img.ID) != 64 || img.Names[0] != "localhost/bb:latest" || len(img.Layers) != 1 || img.Size == 0 {
		t.Errorf("record %+v", img)
	}
	// Lookups by every form.
	for _, q := range []string{"bb", "bb:latest", "localhost/bb", "localhost/bb:latest", img.ID, img.ID[:5], "sha256:" + img.ID} {
		got, err := s.Lookup(q)
		if err != nil || got.ID != img.ID {
			t.Errorf("Lookup(%q) = %v, %v", q, got, err)
		}
	}
	dirs, err := s.LayerDirs(img)
	if err != nil || len(dirs) != 1 {
		t.Fatalf("LayerDirs = %v, %v", dirs, err)
	}
	if b, err := os.ReadFile(filepath.Join(dirs[0], "etc/passwd")); err != nil || string(b) == "" {
		t.Errorf("layer content: %q %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dirs[0], "bin/ls")); err != nil || l != "sh" {
		t.Errorf("symlink: %q %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(dirs[0], "bin/sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("mode: %v %v", fi, err)
	}
}

func TestImportBadChange(t *testing.T) {
	s := newStore(t)
	for _, ch := range []string{"FROB x", "CMD", `LABEL "unterminated`} {
		if _, err := s.Import(bytes.NewReader(smallRootfs(t)), "bb", []string{ch}); !errdefs.Is(err, errdefs.ErrInvalid) {
			t.Errorf("change %q: %v", ch, err)
		}
	}
	if len(storeFiles(t, s)) != 0 || len(ids(t, s)) != 0 {
		t.Errorf("a refused import left %v", storeFiles(t, s))
	}
}

func TestImportWhiteoutsAndSafety(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts are device nodes: needs root")
	}
	s := newStore(t)
	layer := makeTar(t, []entry{
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/.wh.gone", body: ""},
		{name: "opq/", typ: tar.TypeDir, mode: 0o750, uid: 7, gid: 8},
		{name: "opq/.wh..wh..opq", body: ""},
		{name: "opq/kept", body: "k", uid: 1000, gid: 1000, mode: 0o4755, xattrs: map[string]string{"user.test": "v"}},
		{name: "link-out", typ: tar.TypeSymlink, link: "/"},
		{name: "link-out/etc/inside", body: "stays in the layer"},
		{name: "../../escape", body: "no"},
		{name: "up", typ: tar.TypeSymlink, link: "../../../../../../tmp"},
		{name: "up/pea-escape-test", body: "stays too"},
		{name: "hard", typ: tar.TypeLink, link: "opq/kept"},
		{name: "dev/", typ: tar.TypeDir},
		{name: "dev/null", typ: tar.TypeChar},
	})
	img, err := s.Import(bytes.NewReader(layer), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Names) != 0 {
		t.Errorf("names %v, want none", img.Names)
	}
	dirs, _ := s.LayerDirs(img)
	d := dirs[0]
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(d, "etc/gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout: %+v %v", st, err)
	}
	if _, err := os.Lstat(filepath.Join(d, "etc/.wh.gone")); err == nil {
		t.Error("the .wh. file itself was kept")
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(d, "opq"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr: %q %v", buf[:n], err)
	}
	if err := unix.Lstat(filepath.Join(d, "opq/kept"), &st); err != nil || st.Uid != 1000 || st.Mode&0o7777 != 0o4755 || st.Nlink != 2 {
		t.Errorf("owner/mode/link: %+v %v", st, err)
	}
	if err := unix.Lstat(filepath.Join(d, "opq"), &st); err != nil || st.Uid != 7 || st.Gid != 8 || st.Mode&0o777 != 0o750 {
		t.Errorf("dir owner/mode: %+v %v", st, err)
	}
	if n, err := unix.Lgetxattr(filepath.Join(d, "opq/kept"), "user.test", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr: %q %v", buf[:n], err)
	}
	if b, err := os.ReadFile(filepath.Join(d, "etc/inside")); err != nil || string(b) != "stays in the layer" {
		t.Errorf("write through an absolute symlink: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(d, "escape")); err != nil {
		t.Errorf("../../escape should land inside the layer: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(d, "tmp/pea-escape-test")); err != nil || string(b) != "stays too" {
		t.Errorf("write through a relative symlink climbing out: %q %v", b, err)
	}
	for _, p := range []string{filepath.Join(s.Dir(), "..", "escape"), "/etc/inside", "/tmp/pea-escape-test"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written outside the layer", p)
		}
	}
	if err := unix.Lstat(filepath.Join(d, "dev/null"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("device: %+v %v", st, err)
	}
}

func TestImportHardlinkOutside(t *testing.T) {
	s := newStore(t)
	layer := makeTar(t, []entry{{name: "h", typ: tar.TypeLink, link: "../../../../etc/passwd"}})
	if _, err := s.Import(bytes.NewReader(layer), "h", nil); !errdefs.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("a hard link to a file outside the layer: %v", err)
	}
	if len(storeFiles(t, s)) != 0 {
		t.Errorf("left %v", storeFiles(t, s))
	}
}

func TestImportCorrupt(t *testing.T) {
	s := newStore(t)
	good, err := s.Import(bytes.NewReader(smallRootfs(t)), "good", nil)
	if err != nil {
		t.Fatal(err)
	}
	before, beforeIDs := storeFiles(t, s), ids(t, s)
	big := makeTar(t, []entry{{name: "f", body: string(bytes.Repeat([]byte("x"), 100000))}, {name: "g", body: "y"}})
	for name, data := range map[string][]byte{
		"truncated plain":      big[:5000],
		"truncated mid-header": big[:512*3],
		"no end marker":        makeTar(t, []entry{{name: "f", body: "x"}, {name: "g", body: "y"}})[:2048],
		"truncated gzip":       gzipped(t, big)[:300],
		"garbage":              bytes.Repeat([]byte{0x42}, 4096),
		"empty":                nil,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Import(bytes.NewReader(data), "bad", nil)
			if !errdefs.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("want an invalid-input error, got %v", err)
			}
			if after := storeFiles(t, s); !reflect.DeepEqual(after, before) {
				t.Errorf("store changed:\nbefore %v\nafter  %v", before, after)
			}
			if !reflect.DeepEqual(ids(t, s), beforeIDs) {
				t.Errorf("images changed")
			}
		})
	}
	if _, err := s.Lookup("bad"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Errorf("bad image: %v", err)
	}
	if _, err := s.Lookup("good"); err != nil {
		t.Errorf("good image: %v", err)
	}
	_ = good
}

func TestLookupErrorsTagRemove(t *testing.T) {
	s := newStore(t)
	// An ID prefix two images share is ambiguous. Of 17 IDs two share a first digit; no
	// other image is there, and these are named "p…", which no prefix of a (hex) ID can be taken
	// for (with images "a" and "b" alone, the prefix "a" once named image a, and 15 runs in 16
	// had none).
	firsts := map[byte]string{}
	var made []string
	prefix := ""
	for i := 0; prefix == ""; i++ {
		img, err := s.Import(bytes.NewReader(smallRootfs(t)), "p"+strconv.Itoa(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, img.ID)
		if other, ok := firsts[img.ID[0]]; ok && other != img.ID {
			n := 0
			for img.ID[n] == other[n] {
				n++
			}
			prefix = img.ID[:n]
		}
		firsts[img.ID[0]] = img.ID
	}
	if _, err := s.Lookup(prefix); !errdefs.Is(err, errdefs.ErrAmbiguous) {
		t.Errorf("ambiguous prefix %q: %v", prefix, err)
	}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(made))) {
		if err := s.Remove(id); err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.Import(bytes.NewReader(smallRootfs(t)), "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Import(bytes.NewReader(smallRootfs(t)), "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Layers[0] != b.Layers[0] {
		t.Fatal("the same tarball gave two layers")
	}
	_, err = s.Lookup("nosuch/img:1")
	if !errdefs.Is(err, errdefs.ErrNotFound) || err.Error() != "nosuch/img:1: image not known" {
		t.Errorf("unknown: %v", err)
	}
	if err := s.Tag("a", "127.0.0.1:5000/acc/bb:1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Lookup("bb:1"); got == nil || got.ID != a.ID {
		t.Errorf("short name by repository suffix: %v", got)
	}
	// Moving a name takes it from the other image.
	if err := s.Tag("b", "a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Lookup("a"); got.ID != b.ID {
		t.Errorf("tag did not move the name")
	}
	if err := s.Untag(b.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Untag(b.ID, "zzz"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Errorf("untag of a name the image lacks: %v", err)
	}
	if err := s.Remove(a.ID); err != nil {
		t.Fatal(err)
	}
	// The shared layer stays for b.
	if _, err := s.LayerDirs(b); err != nil {
		t.Errorf("b lost its layer: %v", err)
	}
	if err := s.Remove(b.ID); err != nil {
		t.Fatal(err)
	}
	if left := storeFiles(t, s); len(left) != 0 {
		t.Errorf("left after removing everything: %v", left)
	}
}
