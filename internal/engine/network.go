package engine

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/rootless"
)

// networks returns the network manager (cheap; no I/O until used).
func (r *Runtime) networks() *network.Manager {
	if r.net == nil {
		nc := r.conf().Network
		r.net = network.NewManager(filepath.Join(r.opts.Root, "networks"), filepath.Join(r.opts.RunRoot, "network"), nc.CNIPluginDirs)
		r.net.SetHelperDirs(r.conf().Engine.HelperBinariesDir)
		if nc.DefaultSubnet != "" || len(nc.DefaultSubnetPools) > 0 {
			pools := make([]network.SubnetPool, 0, len(nc.DefaultSubnetPools))
			for _, p := range nc.DefaultSubnetPools {
				pools = append(pools, network.SubnetPool{Base: p.Base, Size: p.Size})
			}
			r.net.SetDefaults(nc.DefaultSubnet, pools)
		}
		if rootless.Active() {
			// Bridge networks live in the rootless network namespace (network/within.go);
			// iptables' lock file (/run/xtables.lock) is root's.
			r.net.SetWorkNamespace(r.net.EnsureRootlessNetNS)
			os.Setenv("XTABLES_LOCKFILE", filepath.Join(r.opts.RunRoot, "network", "xtables.lock"))
		}
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
	if nsPaths[model.NSNet] == "" && c.Config.NS(model.NSNet).UserNet() {
		return r.beginUserNet(c, nsPaths)
	}
	if nsPaths[model.NSNet] != "" || c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
		return func() error { return nil }, nil
	}
	m := r.networks()
	if len(c.Config.Network.Ports) > 0 {
		// Containers that are not running may share a host port (Docker's and podman's rule:
		// compose makes a service's new container before it removes the old one); two that run
		// may not.
		if err := r.checkPortsRunning(c.Config.Network.Ports, c.Config.ID); err != nil {
			return nil, err
		}
	}
	if path := m.NetNSPath(c.Config.ID); pathExists(path) {
		// A start killed before it recorded the namespace left it pinned, maybe attached (the
		// container is not running: its lock is held and its state names no namespace).
		m.Teardown(ctx, attachOptions(c, path))
		m.RemoveNetNS(path)
	}
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
			c.State.Networks[s.Network] = networkStatus(s)
		}
		return nil
	}), nil
}

// networkStatus is the record of one attachment in a container's state.
func networkStatus(s network.Status) model.NetworkStatus {
	return model.NetworkStatus{
		Interface: s.Interface, IPAddress: s.IP, PrefixLen: s.PrefixLen, Gateway: s.Gateway, MacAddress: s.MAC,
		IPv6: s.IPv6, IPv6PrefixLen: s.IPv6PrefixLen, IPv6Gateway: s.IPv6Gateway,
	}
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
	if nc.StaticIP6 != "" {
		o.StaticIP6 = net.ParseIP(nc.StaticIP6)
	}
	if len(nc.Addrs) > 0 {
		o.Addrs = make(map[string]network.Addr, len(nc.Addrs))
		for n, a := range nc.Addrs {
			o.Addrs[n] = network.Addr{IP: parseIP(a.IP), IP6: parseIP(a.IP6), MAC: a.MAC}
		}
	}
	o.Ports = expandPorts(nc.Ports)
	return o
}

// parseIP is net.ParseIP with "" as nil.
func parseIP(s string) net.IP {
	if s == "" {
		return nil
	}
	return net.ParseIP(s)
}

// teardownNetwork releases a container's namespace and CNI attachments; idempotent. It does not
// trust the recorded state alone: a pea killed between attaching and recording leaves a pinned
// namespace and CNI attachments that only the container's ID leads to.
func (r *Runtime) teardownNetwork(c *model.Container) {
	if detach := r.networkDetacher(c, false); detach != nil {
		detach()
	}
}

// networkDetacher clears the container's network state and returns the work that detaches it
// (CNI DEL, then the namespace's removal), nil when there is none. The work touches nothing of
// c, so it may run while the caller goes on: a removal runs it side by side with the rest
// (the DEL of a bridge attachment waits for the kernel to unregister the veth, an RCU grace
// period of 5-20 ms here). A bridge-mode container whose state lost its namespace path is
// still detached by ID (the CNI cache and host-local leases know it).
//
// With exited set (the container's process has ended) and nothing else able to be in the
// namespace (netnsAlone), the namespace's pin goes first: the kernel then destroys the
// namespace and its end of the veth pair in the background, and the bridge plugin's DEL, which
// finds no namespace, only releases the address. Deleting the veth itself waits for the kernel to
// unregister it (20-30 ms for `ip link del` of a veth here); measured, a `run --rm`'s network
// teardown 22-30 -> 7.7 ms. The host's end of the pair goes with the namespace, a few
// milliseconds after the command returns.
func (r *Runtime) networkDetacher(c *model.Container, exited bool) func() {
	if c.Config.NS(model.NSNet).UserNet() {
		return r.userNetDetacher(c)
	}
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
	if path != "" && exited && r.netnsAlone(c) {
		return func() {
			m.RemoveNetNS(path)
			m.Teardown(context.Background(), o)
		}
	}
	return func() {
		m.Teardown(context.Background(), o)
		if path != "" {
			m.RemoveNetNS(path)
		}
	}
}

// netnsAlone reports whether no process can be left in the network namespace of c, an exited
// container: its processes ended with its own PID namespace, and no container that joins its
// namespaces (a pod's members join the infra's) is created or running. Were one left, the
// namespace would outlive its pin with an interface whose address DEL had given back.
func (r *Runtime) netnsAlone(c *model.Container) bool {
	if c.Config.NS(model.NSPid).Mode != model.NSModePrivate {
		return false
	}
	st, err := r.state()
	if err != nil {
		return false
	}
	others, err := st.ContainersMentioning(c.Config.ID)
	if err != nil {
		return false
	}
	for _, o := range others {
		if !o.State.Active() && o.State.Status != model.StatusCreated && o.State.Pid == 0 {
			continue
		}
		for _, ns := range o.Config.Namespaces {
			if ns.Mode == model.NSModeContainer && ns.Value == c.Config.ID {
				return false
			}
		}
	}
	return true
}

// beginUserNet gives c a pinned network namespace served by slirp4netns (network/slirp.go) or
// pasta (network/pasta.go), with its published ports forwarded, as beginNetwork does for CNI:
// the program configures the namespace while the caller creates the container, and the
// returned wait (before the container's process starts) waits for it (and adds slirp4netns's
// forwards).
func (r *Runtime) beginUserNet(c *model.Container, nsPaths map[string]string) (func() error, error) {
	if len(c.Config.Network.Ports) > 0 {
		if err := r.checkPortsRunning(c.Config.Network.Ports, c.Config.ID); err != nil {
			return nil, err
		}
	}
	m := r.networks()
	ns := c.Config.NS(model.NSNet)
	stopUserNet(m, ns, c.Config.ID, true) // one a killed pea left
	path := m.NetNSPath(c.Config.ID)
	if _, err := os.Stat(path); err == nil {
		m.RemoveNetNS(path)
	}
	path, err := m.NewNetNS(c.Config.ID)
	if err != nil {
		return nil, err
	}
	ports := expandPorts(c.Config.Network.Ports)
	var wait func() error
	if ns.Mode == model.NSModePasta {
		wait, err = m.BeginPasta(network.PastaOptions{ID: c.Config.ID, NetNSPath: path, Ports: ports, Options: r.pastaOptions(ns)})
	} else {
		wait, err = m.BeginSlirp(network.SlirpOptions{ID: c.Config.ID, NetNSPath: path, Ports: ports, Options: slirpOptions(ns)})
	}
	if err != nil {
		m.RemoveNetNS(path)
		return nil, err
	}
	nsPaths[model.NSNet] = path
	c.State.NetNS = path
	// The wait may be called twice (on success, then by a rollback): the second call returns
	// the first's answer.
	return sync.OnceValue(func() error {
		if err := wait(); err != nil {
			m.RemoveNetNS(path)
			c.State.NetNS = ""
			return err
		}
		return nil
	}), nil
}

// stopUserNet ends the namespace's slirp4netns or pasta; with wait, once it has exited (so
// that the ports it forwarded are free).
func stopUserNet(m *network.Manager, ns model.Namespace, id string, wait bool) {
	switch {
	case ns.Mode == model.NSModePasta:
		m.StopPasta(id, wait)
	case wait:
		m.StopSlirp(id)
	default:
		m.KillSlirp(id)
	}
}

// userNetDetacher is networkDetacher for a slirp4netns or pasta namespace: the program goes,
// then the pin. It is waited for only when it forwards ports: its exit closes its tap device,
// whose unregistering waits out an RCU grace period that nothing else needs to wait for.
func (r *Runtime) userNetDetacher(c *model.Container) func() {
	m := r.networks()
	path := c.State.NetNS
	c.State.NetNS = ""
	c.State.Networks = nil
	ports := len(c.Config.Network.Ports) > 0
	ns := c.Config.NS(model.NSNet)
	return func() {
		stopUserNet(m, ns, c.Config.ID, ports)
		if path == "" {
			path = m.NetNSPath(c.Config.ID)
			if _, err := os.Stat(path); err != nil {
				return
			}
		}
		m.RemoveNetNS(path)
	}
}

// StopRootlessNetwork ends a rootless store's rootless network namespace (system reset).
func (r *Runtime) StopRootlessNetwork() {
	if rootless.Active() {
		r.networks().StopRootlessNetNS()
	}
}

// pathExists reports whether something is at path (not following a last symbolic link).
func pathExists(path string) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil
}
