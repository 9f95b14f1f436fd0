package network

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"

	"pea/internal/errdefs"
)

// ForceDisconnect detaches a container from a network with whatever is left of the
// attachment (network disconnect --force): the cached one as Disconnect does; without one (the
// cache lost, the container gone from the network's view), what its host-local leases on the
// network say, with the network's configuration. Then, whatever the teardown did, the
// attachment is forgotten: its cached result and its leases are removed, so that it is no
// longer listed and its addresses are free. The teardown's error is returned, for the caller
// to report; the attachment is forgotten all the same.
func (m *Manager) forceDisconnectHere(ctx context.Context, o AttachOptions, network string) error {
	if o.ContainerID == "" {
		return invalidf("network disconnect needs a container ID")
	}
	name := network
	if n, err := m.Get(network); err == nil {
		name = n.Name
	}
	err := m.Disconnect(ctx, o, name)
	if errors.Is(err, errdefs.ErrNotFound) {
		err = nil
		done := map[string]bool{}
		for _, l := range m.leases(o.ContainerID) {
			if l.network != name || done[l.ifname] {
				continue
			}
			done[l.ifname] = true
			rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: o.NetNSPath, IfName: l.ifname, Args: cniArgs(o)}
			err = errors.Join(err, m.del(ctx, name, nil, rt))
		}
	}
	m.forget(o.ContainerID, name)
	return err
}

// forget removes what records an attachment of the container to the network: its cached CNI
// results and its host-local leases.
func (m *Manager) forget(containerID, network string) {
	results, _ := filepath.Glob(filepath.Join(m.cacheDir(), "results", network+"-"+containerID+"-*"))
	for _, f := range results {
		os.Remove(f)
	}
	leases, _ := filepath.Glob(filepath.Join(m.ipamDir(), network, "*"))
	for _, f := range leases {
		data, err := os.ReadFile(f)
		if err != nil || len(data) > 512 {
			continue
		}
		if id, _, ok := strings.Cut(string(data), "\r\n"); ok && strings.TrimSpace(id) == containerID {
			os.Remove(f)
		}
	}
}
