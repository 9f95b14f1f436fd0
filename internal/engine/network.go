package engine

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"

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

// setupNetwork gives a container that owns its network namespace (a standalone container or an
// infra container on a bridge network) a pinned namespace attached to its CNI networks.
func (r *Runtime) setupNetwork(ctx context.Context, c *model.Container, nsPaths map[string]string) error {
	if nsPaths[model.NSNet] != "" || c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
		return nil
	}
	m := r.networks()
	path, err := m.NewNetNS(c.Config.ID)
	if err != nil {
		return err
	}
	o := attachOptions(c, path)
	slog.Debug("attaching to CNI networks", "container", c.Config.ID, "netns", path, "networks", o.Networks, "ports", len(o.Ports))
	statuses, err := m.Setup(ctx, o)
	if err != nil {
		m.RemoveNetNS(path)
		return err
	}
	c.State.NetNS = path
	c.State.Networks = map[string]model.NetworkStatus{}
	for _, s := range statuses {
		c.State.Networks[s.Network] = model.NetworkStatus{
			Interface: s.Interface, IPAddress: s.IP, PrefixLen: s.PrefixLen, Gateway: s.Gateway, MacAddress: s.MAC,
		}
	}
	nsPaths[model.NSNet] = path
	return nil
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
	if c.State.NetNS == "" && c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
		return
	}
	m := r.networks()
	path := c.State.NetNS
	if path == "" {
		path = m.NetNSPath(c.Config.ID)
		if _, err := os.Stat(path); err != nil {
			path = ""
		}
	}
	m.Teardown(context.Background(), attachOptions(c, path))
	if path != "" {
		m.RemoveNetNS(path)
	}
	c.State.NetNS = ""
	c.State.Networks = nil
}
