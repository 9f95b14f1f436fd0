package engine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/model"
)

func TestParseIDMaps(t *testing.T) {
	uid, gid, err := ParseIDMaps([]string{"0:100000:1000", "1000:5000:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.IDMap{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 1000, HostID: 5000, Size: 1}}
	if len(uid) != 2 || uid[0] != want[0] || uid[1] != want[1] || len(gid) != 2 || gid[1] != want[1] {
		t.Fatalf("uid %v gid %v", uid, gid)
	}
	if uid, gid, err = ParseIDMaps(nil, []string{"0:7:1"}); err != nil || len(uid) != 1 || uid[0].HostID != 7 || gid[0].HostID != 7 {
		t.Fatalf("--gidmap alone: %v %v %v", uid, gid, err)
	}
	if uid, gid, err = ParseIDMaps(nil, nil); err != nil || uid != nil || gid != nil {
		t.Fatalf("none: %v %v %v", uid, gid, err)
	}
	// The largest range the kernel takes ends at 4294967294.
	if _, _, err := ParseIDMaps([]string{"4294967285:0:10"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"0:1"}, {"0:1:2:3"}, {"a:1:2"}, {"-1:0:1"}, {"0:0:0"}, {"4294967286:0:10"}, {"0:4294967295:1"},
		{"0:100:10", "9:200:1"},  // inside, 9 twice
		{"0:100:10", "10:109:5"}, // outside, 109 twice
	} {
		if _, _, err := ParseIDMaps(bad, nil); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%v: want an invalid argument, got %v", bad, err)
		}
	}
	many := make([]string, maxIDMapLines+1)
	for i := range many {
		many[i] = FormatIDMap(model.IDMap{ContainerID: uint32(i), HostID: uint32(1000 + i), Size: 1})
	}
	if _, _, err := ParseIDMaps(many, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("%d ranges: %v", len(many), err)
	}
}

func TestParseUserNS(t *testing.T) {
	for _, c := range []struct {
		v       string
		maps    bool
		want    model.Namespace
		wantErr error
	}{
		{"", false, model.Namespace{Mode: model.NSModeHost}, nil},
		{"host", false, model.Namespace{Mode: model.NSModeHost}, nil},
		{"", true, model.Namespace{Mode: model.NSModePrivate}, nil},
		{"container:abc", false, model.Namespace{Mode: model.NSModeContainer, Value: "abc"}, nil},
		{"ns:/proc/self/ns/user", false, model.Namespace{Mode: model.NSModePath, Value: "/proc/self/ns/user"}, nil},
		{"ns:/nonexistent", false, model.Namespace{}, errdefs.ErrNotFound},
		{"auto", false, model.Namespace{Mode: model.NSModePrivate, Value: "auto"}, nil},
		{"auto:size=10", false, model.Namespace{Mode: model.NSModePrivate, Value: "auto:size=10"}, nil},
		{"auto:size=0", false, model.Namespace{}, errdefs.ErrInvalid},
		{"auto:gidmapping=0:1:1", false, model.Namespace{}, errdefs.ErrInvalid},
		{"auto", true, model.Namespace{}, errdefs.ErrInvalid},
		{"host", true, model.Namespace{}, errdefs.ErrInvalid},
		{"keep-id", false, model.Namespace{}, errdefs.ErrInvalid},
		{"container:", false, model.Namespace{}, errdefs.ErrInvalid},
		{"private", false, model.Namespace{}, errdefs.ErrInvalid},
	} {
		got, err := ParseUserNS(c.v, c.maps)
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Errorf("%q (maps %v): want %v, got %v", c.v, c.maps, c.wantErr, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q (maps %v): %+v, %v", c.v, c.maps, got, err)
		}
	}
}

// A start killed between mounting the ID-mapped views of the layers and the overlay leaves
// them mounted in the container's directory; each is the image layer itself, so the removal of
// that directory must unmount them, never delete through them.
func TestDiscardDirKeepsLeftoverLayerViews(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount")
	}
	for _, deferTrash := range []bool{false, true} {
		r := newTrashRuntime(t, deferTrash)
		layer := filepath.Join(t.TempDir(), "layer")
		if err := os.MkdirAll(filepath.Join(layer, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(layer, "bin", "sh"), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
		dir := r.ctrDir("c1")
		makeTree(t, dir)
		view := filepath.Join(idmapDir(dir), "0")
		if err := os.MkdirAll(view, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount(layer, view, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		r.discardDir(dir)
		r.EmptyTrash()
		if _, err := os.Stat(filepath.Join(layer, "bin", "sh")); err != nil {
			unix.Unmount(view, unix.MNT_DETACH)
			t.Fatalf("deferTrash %v: the layer lost its file: %v", deferTrash, err)
		}
		if _, err := os.Lstat(dir); !os.IsNotExist(err) {
			t.Fatalf("deferTrash %v: the container directory is still there: %v", deferTrash, err)
		}
	}
}

func TestPickRange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "subuid")
	body := "root:1:1\ncontainers:1000:100\nbad line\ncontainers:5000:50\ncontainers:x:1\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	m := func(h, n uint32) model.IDMap { return model.IDMap{HostID: h, Size: n} }
	for _, c := range []struct {
		size uint32
		used []model.IDMap
		want uint32 // 0: none fits
	}{
		{10, nil, 1000},
		{100, nil, 1000},
		{101, nil, 0},                          // larger than any range
		{10, []model.IDMap{m(1000, 10)}, 1010}, // right after a used one
		{10, []model.IDMap{m(1020, 5), m(1000, 10)}, 1010}, // the gap between two, unsorted
		{11, []model.IDMap{m(1020, 5), m(1000, 10)}, 1025},
		{10, []model.IDMap{m(995, 10)}, 1005}, // used from below the range
		{50, []model.IDMap{m(1010, 1)}, 1011},
		{90, []model.IDMap{m(1010, 1)}, 0},      // 89 left in the first, the second has 50
		{40, []model.IDMap{m(1000, 100)}, 5000}, // the next range
		{10, []model.IDMap{m(0, 1<<31)}, 0},
	} {
		ranges, err := subIDRanges(file, subIDUser)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pickRange(ranges, c.size, c.used, file)
		if c.want == 0 {
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("size %d used %v: want no room, got %d %v", c.size, c.used, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("size %d used %v: %d %v, want %d", c.size, c.used, got, err, c.want)
		}
	}
	none, err := subIDRanges(filepath.Join(t.TempDir(), "none"), subIDUser)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pickRange(none, 1, nil, "none"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("no file: %v", err)
	}
}

// releaseIdmapViews touches nothing through a link where its directory should be.
func TestReleaseIdmapViewsIgnoresALink(t *testing.T) {
	dir := t.TempDir()
	victim := t.TempDir()
	if err := os.WriteFile(filepath.Join(victim, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(victim, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, idmapDir(dir)); err != nil {
		t.Fatal(err)
	}
	if releaseIdmapViews(dir) {
		t.Fatal("a link in place of the views' directory was taken for released")
	}
	for _, n := range []string{"f", "d"} {
		if _, err := os.Lstat(filepath.Join(victim, n)); err != nil {
			t.Fatalf("%s behind the link: %v", n, err)
		}
	}
}
