package engine

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/network"
)

// preparePortsExcept gives ports without a host port a free random one, and refuses host ports
// that another running container or pod of this store (but self) publishes or that a host
// socket holds (one that is not running may have them: the start refuses them while another
// runs).
func (r *Runtime) preparePortsExcept(ports []model.PortMapping, self string) error {
	return r.preparePortsOf(ports, self, false)
}

// preparePortsReplacing is preparePortsExcept for a container made to replace container old (clone
// --destroy): what old publishes, configured or attached, is no clash.
func (r *Runtime) preparePortsReplacing(ports []model.PortMapping, old string) error {
	return r.preparePortsOf(ports, old, old != "")
}

// preparePortsAtStart is preparePortsExcept that leaves the running containers' ports to the start's
// check (CreateOptions.PortsAtStart).
func (r *Runtime) preparePortsAtStart(ports []model.PortMapping, _ string) error {
	return assignPorts(ports)
}

// assignPorts gives ports without a host port a free random one and refuses a host port given
// twice.
func assignPorts(ports []model.PortMapping) error {
	for i := range ports {
		p := &ports[i]
		if p.HostPort == 0 {
			port, err := freePort(p.Protocol, p.HostIP)
			if err != nil {
				return err
			}
			p.HostPort = port
		}
		for j := range ports[:i] {
			if clash(*p, ports[j]) {
				return fmt.Errorf("host port %d/%s is published twice: %w", p.HostPort, p.Protocol, errdefs.ErrInvalid)
			}
		}
	}
	return nil
}

func (r *Runtime) preparePortsOf(ports []model.PortMapping, self string, replacing bool) error {
	if len(ports) == 0 {
		return nil
	}
	st, err := r.state()
	if err != nil {
		return err
	}
	cs, err := st.ListContainers("", "")
	if err != nil {
		return err
	}
	if err := assignPorts(ports); err != nil {
		return err
	}
	var podNames map[string]string
	for i := range ports {
		p := &ports[i]
		for _, c := range cs {
			if c.Config.ID == self || !c.State.Live() {
				continue
			}
			for _, q := range c.Config.Network.Ports {
				if !clash(*p, q) {
					continue
				}
				owner := "container " + c.Config.Name
				if c.Config.IsInfra {
					if podNames == nil {
						podNames = r.podNames()
					}
					owner = "pod " + podNames[c.Config.Pod]
				}
				return fmt.Errorf("host port %d/%s is already published by %s: %w", p.HostPort, p.Protocol, owner, errdefs.ErrInUse)
			}
		}
	}
	if !replacing {
		self = ""
	}
	return r.networks().CheckPortsExcept(expandPorts(ports), self)
}

// checkPortsRunning refuses, at a start, host ports that an attached (running) container of
// this store other than self publishes, or that a host socket holds, naming the container.
func (r *Runtime) checkPortsRunning(ports []model.PortMapping, self string) error {
	err := r.networks().CheckPortsExcept(expandPorts(ports), self)
	var owned *network.PortOwnedError
	if errors.As(err, &owned) {
		owner := "container " + shortID(owned.Container)
		if st, serr := r.state(); serr == nil {
			if c, cerr := st.Container(owned.Container); cerr == nil {
				owner = "container " + c.Config.Name
				if c.Config.IsInfra {
					owner = "pod " + r.podNames()[c.Config.Pod]
				}
			}
		}
		return fmt.Errorf("host port %d/%s is already published by %s, which is running (stop it first, or publish another host port): %w", owned.HostPort, owned.Protocol, owner, errdefs.ErrInUse)
	}
	return err
}

// expandPorts turns ranges into one mapping per port, as the network's port rules take them.
func expandPorts(ports []model.PortMapping) []network.PortMapping {
	var nps []network.PortMapping
	for _, p := range ports {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			nps = append(nps, network.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort + i, ContainerPort: p.ContainerPort + i, Protocol: p.Protocol})
		}
	}
	return nps
}

func (r *Runtime) podNames() map[string]string {
	out := map[string]string{}
	st, err := r.state()
	if err != nil {
		return out
	}
	pods, _ := st.ListPods("")
	for _, p := range pods {
		out[p.Config.ID] = p.Config.Name
	}
	return out
}

// clash reports whether two mappings want overlapping host ports on overlapping addresses.
func clash(a, b model.PortMapping) bool {
	if a.Protocol != b.Protocol || (a.HostIP != "" && b.HostIP != "" && a.HostIP != b.HostIP) {
		return false
	}
	aEnd, bEnd := a.HostPort+max(a.Range, 1)-1, b.HostPort+max(b.Range, 1)-1
	return a.HostPort <= bEnd && b.HostPort <= aEnd
}

func freePort(proto, ip string) (uint16, error) {
	addr := net.JoinHostPort(ip, "0")
	var port string
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, err
		}
		_, port, _ = net.SplitHostPort(c.LocalAddr().String())
		c.Close()
	} else {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return 0, err
		}
		_, port, _ = net.SplitHostPort(l.Addr().String())
		l.Close()
	}
	n, _ := strconv.Atoi(port)
	return uint16(n), nil
}

// validateNetworks checks, before anything is made, that the networks exist and that each
// static IP (--ip, --ip6) lies in one of their subnets. A network given by ID prefix, or as
// "podman" (podman's default network: pea's own here), is recorded by its name, as podman
// records it.
func (r *Runtime) validateNetworks(nc *model.NetworkConfig) error {
	if len(nc.Networks) == 0 && nc.StaticIP == "" && nc.StaticIP6 == "" {
		return nil
	}
	var nets []*network.Network
	if len(nc.Networks) == 0 {
		n, err := r.networks().Default()
		if err != nil {
			return err
		}
		nets = append(nets, n)
	}
	for i, name := range nc.Networks {
		n, err := r.networks().Get(name)
		if errdefs.Is(err, errdefs.ErrNotFound) && name == r.conf().Network.DefaultNetworkName() {
			n, err = r.createConfDefaultNetwork(name)
		}
		if err != nil {
			return err
		}
		nets = append(nets, n)
		if n.Name != name {
			renameNetwork(nc, i, n.Name)
		}
	}
	for _, flag := range []struct{ name, ip string }{{"--ip", nc.StaticIP}, {"--ip6", nc.StaticIP6}} {
		if flag.ip == "" {
			continue
		}
		ip := net.ParseIP(flag.ip)
		if ip == nil {
			return fmt.Errorf("invalid %s %q: %w", flag.name, flag.ip, errdefs.ErrInvalid)
		}
		if err := inSubnets(nets, ip); err != nil {
			return err
		}
	}
	return nil
}

// renameNetwork names nc's network at index i to, with its static addresses and aliases.
func renameNetwork(nc *model.NetworkConfig, i int, to string) {
	from := nc.Networks[i]
	nc.Networks = slices.Clone(nc.Networks)
	nc.Networks[i] = to
	if a, ok := nc.Addrs[from]; ok {
		nc.Addrs = maps.Clone(nc.Addrs)
		delete(nc.Addrs, from)
		nc.Addrs[to] = a
	}
	if a, ok := nc.Aliases[from]; ok {
		nc.Aliases = maps.Clone(nc.Aliases)
		delete(nc.Aliases, from)
		nc.Aliases[to] = a
	}
}

// inSubnets checks that ip lies in a subnet of one of nets.
func inSubnets(nets []*network.Network, ip net.IP) error {
	var subnets []string
	for _, n := range nets {
		for _, s := range n.Subnets {
			if _, cidr, err := net.ParseCIDR(s.Subnet); err == nil {
				if cidr.Contains(ip) {
					return nil
				}
				subnets = append(subnets, s.Subnet)
			}
		}
	}
	return fmt.Errorf("static IP %s is outside the subnets of the network (%v): %w", ip, subnets, errdefs.ErrInvalid)
}
