package engine

import (
	"errors"
	"slices"
	"testing"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// keep-id's mappings, as podman 4.3 makes them: container 0..ID-1 are the subordinate IDs
// 1..ID, ID is the user (0 of pea's namespace), the rest the same subordinate IDs.
func TestKeepIDMap(t *testing.T) {
	m := func(c, h, n uint32) model.IDMap { return model.IDMap{ContainerID: c, HostID: h, Size: n} }
	for _, c := range []struct {
		name    string
		id, sub uint32
		want    []model.IDMap
	}{
		{"a user below the range", 1000, 65536, []model.IDMap{m(0, 1, 1000), m(1000, 0, 1), m(1001, 1001, 64536)}},
		{"uid=200", 200, 65536, []model.IDMap{m(0, 1, 200), m(200, 0, 1), m(201, 201, 65336)}},
		{"root", 0, 65536, []model.IDMap{m(0, 0, 1), m(1, 1, 65536)}},
		{"a user beyond the range", 70000, 65536, []model.IDMap{m(0, 1, 65536), m(70000, 0, 1)}},
		{"the last subordinate ID", 65536, 65536, []model.IDMap{m(0, 1, 65536), m(65536, 0, 1)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := keepIDMap(c.id, c.sub)
			if !slices.Equal(got, c.want) {
				t.Fatalf("keepIDMap(%d, %d) = %v, want %v", c.id, c.sub, got, c.want)
			}
			// Every container ID maps to one of pea's IDs 0..sub, each at most once.
			seen := map[uint32]bool{}
			for _, e := range got {
				for i := uint32(0); i < e.Size; i++ {
					if h := e.HostID + i; h > c.sub || seen[h] {
						t.Fatalf("%v: host ID %d outside the namespace or mapped twice", got, h)
					}
					seen[e.HostID+i] = true
				}
			}
		})
	}
}

func TestParseRootlessUserNS(t *testing.T) {
	for _, c := range []struct {
		in, want string // want "": invalid
	}{
		{"keep-id", "keep-id"},
		{"nomap", "nomap"},
		{"keep-id:uid=200,gid=210", "keep-id:uid=200,gid=210"},
		{"keep-id:gid=5,uid=7", "keep-id:uid=7,gid=5"},
		{"keep-id:uid=3", "keep-id:uid=3"},
		{"keep-id:uid=x", ""},
		{"keep-id:size=3", ""},
		{"keep-id:uid=-1", ""},
	} {
		ns, err := parseRootlessUserNS(c.in)
		if c.want == "" {
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("%s: %v %v, want invalid", c.in, ns, err)
			}
			continue
		}
		if err != nil || ns.Mode != model.NSModePrivate || ns.Value != c.want {
			t.Errorf("%s: %+v %v, want private %s", c.in, ns, err, c.want)
		}
	}
	uid, gid, own, ok := keepID(model.Namespace{Mode: model.NSModePrivate, Value: "keep-id:uid=200,gid=210"})
	if uid != 200 || gid != 210 || own || !ok {
		t.Errorf("keepID with options: %d %d %v %v", uid, gid, own, ok)
	}
	if _, _, _, ok := keepID(model.Namespace{Mode: model.NSModePrivate, Value: model.UserNSAuto}); ok {
		t.Error("auto is not keep-id")
	}
}

// fuse-overlayfs takes the mappings as colon-separated triples (a comma would end its option).
func TestFuseIDMapping(t *testing.T) {
	got := fuseIDMapping([]model.IDMap{{ContainerID: 0, HostID: 1, Size: 1000}, {ContainerID: 1000, HostID: 0, Size: 1}})
	if got != "0:1:1000:1000:0:1" {
		t.Fatalf("%q", got)
	}
}
