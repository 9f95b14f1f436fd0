package engine

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"pea/internal/model"
	"pea/internal/network"
)

// networks returns the network manager (cheap; no I/O until used).
func (r *Runtime) networks() *network.Manager {
	if r.net == nil {
		r.net = network.NewManager(filepath.Join(r.opts.Root, "networks"), filepath.Join(r.opts.RunRoot, "network"), nil)
	}
	return r.net
}

// beginNetwork gives a container that owns its network namespace (a standalone container or an
// infra container on a bridge network) a pinned namespace attached to its CNI networks. It pins
// the namespace and names it in nsPaths at once, attaches the CNI networks in the background, and returns the function that waits for
// the attachment and records it in c.State. The caller creates the container meanwhile (the
// plugins and the runtime each take about 20 ms) and must wait before the container's process
// starts. On failure the namespace is gone when the wait returns.
func (r *Runtime) beginNetwork(ctx context.Context, c *model.Container, nsPaths map[string]string) (wait func() error, err error) {
	if nsPaths[model.NSNet] != "" || c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
		return func() error { return nil }, nil
	}
	m := r.networks()
	path, err := m.NewNetNS(c.Config.ID)
	if err != nil {
		return nil, err
	}
	o := attachOptions(c, path)
	slog.Debug("attaching to CNI networks", "container", c.Config.ID, "netns", path, "networks", o.Networks, "ports", len(o.Ports))
	type result struct {
		statuses []network.Status
		err      error
	}
	done := make(chan result, 1)
	go func() {
		st, err := m.Setup(ctx, o)
		done <- result{st, err}
	}()
	nsPaths[model.NSNet] = path
	// The wait may be called twice (on success, then by a rollback): the second call returns the
	// first's answer.
	return sync.OnceValue(func() error {
		res := <-done
		if res.err != nil {
			m.RemoveNetNS(path)
			return res.err
		}
		c.State.NetNS = path
		c.State.Networks = map[string]model.NetworkStatus{}
		for _, s := range res.statuses {
			c.State.Networks[s.Network] = model.NetworkStatus{
				Interface: s.Interface, IPAddress: s.IP, PrefixLen: s.PrefixLen, Gateway: s.Gateway, MacAddress: s.MAC,
			}
		}
		return nil
	}), nil
}

func attachOptions(c *model.Container, nsPath string) network.AttachOptions {
	nc := c.Config.Network
	o := network.AttachOptions{
		ContainerID: c.Config.ID, ContainerName: c.Config.Name, NetNSPath: nsPath, IfName: "eth0",
		Networks: nc.Networks, StaticMAC: nc.StaticMAC,
	}
	if nc.StaticIP != "" {
		o.StaticIP = net.ParseIP(nc.StaticIP)
	}
	o.Ports = expandPorts(nc.Ports)
	return o
}

// teardownNetwork releases a container's namespace and CNI attachments; idempotent. It does not
// trust the recorded state alone: a pea killed between attaching and recording leaves a pinned
// namespace and CNI attachments that only the container's ID leads to.
func (r *Runtime) teardownNetwork(c *model.Container) {
	if detach := r.networkDetacher(c); detach != nil {
		detach()
	}
}

// networkDetacher clears the container's network state and returns the work that detaches it
// (CNI DEL, then the namespace's removal), nil when there is none. The work touches nothing of
// c, so it may run while the caller goes on: a removal runs it side by side with the rest
// (the DEL of a bridge attachment waits for the kernel to unregister the veth, an RCU grace
// period of 5-20 ms here). A bridge-mode container whose state lost its namespace path is
// still detached by ID (the CNI cache and host-local leases know it).
func (r *Runtime) networkDetacher(c *model.Container) func() {
	if c.State.NetNS == "" && c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
		return nil
	}
	m := r.networks()
	path := c.State.NetNS
	if path == "" {
		path = m.NetNSPath(c.Config.ID)
		if _, err := os.Stat(path); err != nil {
			path = ""
		}
	}
	o := attachOptions(c, path)
	c.State.NetNS = ""
	c.State.Networks = nil
	return func() {
		m.Teardown(context.Background(), o)
		if path != "" {
			m.RemoveNetNS(path)
		}
	}
}
