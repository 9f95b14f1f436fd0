package api

import (
	"fmt"

	"pea/internal/view"
)

// libpodSpec is podman 4.3's SpecGenerator as POST /libpod/containers/create takes it: the
// client has already turned `podman create/run`'s flags into it (sizes into bytes, --cpus into
// a quota and period, --read-only's tmpfs into mounts, -v into mounts or named volumes). It is
// view.ContainerSpec, the type `pea generate spec` writes, with the endpoint's methods. Every
// field pea can honour is read; any other field the request sets is refused
// (checkLibpodSpecKeys), so that no setting is ever dropped without a word.
type libpodSpec view.ContainerSpec

// idMapStrings are the maps as --uidmap and --gidmap values, and the size of an automatic one
// (m nil: none).
func idMapStrings(m *view.SpecIDMappings) (uidmap, gidmap []string, autoSize uint32) {
	if m == nil {
		return nil, nil, 0
	}
	for _, e := range m.UIDMap {
		uidmap = append(uidmap, fmt.Sprintf("%d:%d:%d", e.ContainerID, e.HostID, e.Size))
	}
	for _, e := range m.GIDMap {
		gidmap = append(gidmap, fmt.Sprintf("%d:%d:%d", e.ContainerID, e.HostID, e.Size))
	}
	return uidmap, gidmap, m.AutoUserNsOpts.Size
}
