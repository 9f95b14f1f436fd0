package network

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

// A network connect's ADD can be killed between the plugins' first change (the veth pair in the
// container's namespace) and libcni's cache entry, which is what every later DEL goes by; the
// host-local lease, written in between, may not be there either. The interface then blocks every
// later connect on its name ("eth1 already exists"). So connectHere leaves a mark naming the
// network and interface before the ADD and removes it once the ADD returned (a failed ADD has
// undone itself): a mark found later is an ADD that never finished, and the next connect or the
// teardown of the container detaches it (DEL of that network and interface) first.
//
//	runDir/cni-cache/pending/<container ID>.<ifname>   "<network>"

func (m *Manager) pendingDir() string { return filepath.Join(m.cacheDir(), "pending") }

// markPending records an ADD of the container's ifname on network about to begin; done removes
// the mark.
func (m *Manager) markPending(containerID, network, ifname string) (done func(), err error) {
	if err := os.MkdirAll(m.pendingDir(), 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(m.pendingDir(), containerID+"."+ifname)
	if err := os.WriteFile(path, []byte(network), 0o600); err != nil {
		return nil, err
	}
	return func() { os.Remove(path) }, nil
}

// undoPending detaches what the container's unfinished ADDs left, with o's namespace, and
// removes their marks. A mark whose DEL failed stays for the next try.
func (m *Manager) undoPending(ctx context.Context, o AttachOptions) error {
	marks, _ := filepath.Glob(filepath.Join(m.pendingDir(), o.ContainerID+".*"))
	var errs []error
	for _, f := range marks {
		network, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		ifname := strings.TrimPrefix(filepath.Base(f), o.ContainerID+".")
		rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: o.NetNSPath, IfName: ifname, Args: cniArgs(o)}
		err = m.del(ctx, string(network), nil, rt)
		if _, gone := m.Get(string(network)); err == nil || gone != nil {
			os.Remove(f)
			continue
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
