package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/libcni"

	"pea/internal/errdefs"
)

// AttachOptions say which namespace joins which networks, and how.
type AttachOptions struct {
	ContainerID   string
	ContainerName string
	NetNSPath     string
	IfName        string   // name of the first interface; empty: eth0, then eth1, eth2...
	Networks      []string // names or ID prefixes; empty: the default network
	Ports         []PortMapping
	// StaticIP and StaticIP6 (--ip, --ip6) go to the network whose subnet holds each: both
	// to one dual-stack network, or each to a network of its family.
	StaticIP  net.IP
	StaticIP6 net.IP
	StaticMAC string // on the first network
	// Addrs are static addresses on further networks, by network name (network connect's).
	Addrs map[string]Addr
	// Reattach (Connect): the caller's record says the container is not on the network, so an
	// attachment found there is what a connect killed before the record was written left, and
	// is detached first instead of refused.
	Reattach bool
}

// Addr is a static address on one network: IPv4, IPv6 (either or both) and MAC.
type Addr struct {
	IP, IP6 net.IP
	MAC     string
}

// Status is one attachment: the interface inside the namespace and its addresses, the first
// of each family (a dual-stack network gives one of each; an IPv6-only one leaves IP empty).
type Status struct {
	Network       string `json:"network"`
	Interface     string `json:"interface"`
	IP            string `json:"ip"`
	PrefixLen     int    `json:"prefix_len"`
	Gateway       string `json:"gateway,omitempty"`
	IPv6          string `json:"ipv6,omitempty"`
	IPv6PrefixLen int    `json:"ipv6_prefix_len,omitempty"`
	IPv6Gateway   string `json:"ipv6_gateway,omitempty"`
	MAC           string `json:"mac"`
}

// Setup attaches the namespace to each network in turn (CNI ADD), on eth0 (or o.IfName), eth1...
// Ports are published through the first bridge network that is not internal; the MAC goes to
// the first interface, the static IP to the network whose subnet holds it. When one network
// fails, those already attached are detached again, so nothing is left half set up.
func (m *Manager) setupHere(ctx context.Context, o AttachOptions) ([]Status, error) {
	if o.ContainerID == "" || o.NetNSPath == "" {
		return nil, invalidf("network setup needs a container ID and a namespace path")
	}
	nets, err := m.resolve(o.Networks)
	if err != nil {
		return nil, err
	}
	ips, err := staticIPs(nets, o.StaticIP, o.StaticIP6)
	if err != nil {
		return nil, err
	}
	if o.StaticMAC != "" {
		if _, err := net.ParseMAC(o.StaticMAC); err != nil {
			return nil, invalidf("MAC address %q", o.StaticMAC)
		}
		if nets[0].Driver == "ipvlan" {
			return nil, invalidf("network %s: an ipvlan interface cannot have its own MAC address", nets[0].Name)
		}
	}
	portIndex := -1
	for i, n := range nets {
		if n.Driver == "bridge" && !n.Internal && portIndex < 0 {
			portIndex = i
		}
	}
	if len(o.Ports) > 0 && portIndex < 0 {
		return nil, invalidf("ports can only be published on a bridge network that is not internal")
	}
	// A second ADD on an attached interface would fail, and its clean-up DEL would take the
	// first attachment down with it.
	if atts, err := m.cniConfig().GetCachedAttachments(o.ContainerID); err != nil {
		return nil, err
	} else if len(atts) > 0 {
		return nil, fmt.Errorf("container %s is already attached to network %s: %w", o.ContainerID, atts[0].Network, errdefs.ErrExists)
	}
	// Outbound NAT is made with each network; a host firewall reload may have flushed it.
	for _, n := range nets {
		if needsMasq(n) && !m.masqPresentCached(n) {
			if err := m.withLock(func() error { return m.ensureMasq(n) }); err != nil {
				return nil, err
			}
		}
	}
	var out []Status
	var done []*libcni.RuntimeConf
	undo := func() {
		for i := len(done) - 1; i >= 0; i-- {
			m.del(context.WithoutCancel(ctx), out[i].Network, nil, done[i])
		}
	}
	for i, n := range nets {
		rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: o.NetNSPath, IfName: "eth" + strconv.Itoa(i)}
		if i == 0 && o.IfName != "" {
			rt.IfName = o.IfName
		}
		rt.CapabilityArgs = capabilityArgs(o, i == portIndex, i == 0, ips[i])
		if a, ok := o.Addrs[n.Name]; ok {
			if a.IP != nil || a.IP6 != nil {
				own, err := staticIPs([]*Network{n}, a.IP, a.IP6)
				if err != nil {
					undo()
					return nil, err
				}
				rt.CapabilityArgs["ips"] = own[0]
			}
			if a.MAC != "" {
				rt.CapabilityArgs["mac"] = a.MAC
			}
		}
		rt.Args = cniArgs(o)
		st, err := m.add(ctx, n, rt)
		if err != nil {
			undo()
			return nil, err
		}
		out = append(out, st)
		done = append(done, rt)
	}
	return out, nil
}

// Teardown detaches the namespace from every network it is attached to (CNI DEL), with the
// options it was attached with, as recorded in the CNI cache; so published ports go too. An
// attachment that got an address but never reached the cache (pea died during Setup) is found
// by its host-local lease and detached with o's namespace and ports. o.Networks is not needed.
// Teardown goes on after a failure and returns all errors joined; detaching twice is not an
// error.
func (m *Manager) teardownHere(ctx context.Context, o AttachOptions) error {
	if o.ContainerID == "" {
		return invalidf("network teardown needs a container ID")
	}
	atts, err := m.cniConfig().GetCachedAttachments(o.ContainerID)
	if err != nil {
		return err
	}
	errs := []error{m.undoPending(ctx, o)}
	for _, a := range atts {
		rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: a.NetNS, IfName: a.IfName, Args: a.CniArgs, CapabilityArgs: a.CapabilityArgs}
		if o.NetNSPath != "" {
			rt.NetNS = o.NetNSPath
		}
		errs = append(errs, m.del(ctx, a.Network, withoutIdlePortmap(a.Config, a.CapabilityArgs), rt))
	}
	detached := map[[2]string]bool{} // a dual-stack attachment has a lease per subnet: one DEL
	for _, l := range m.leases(o.ContainerID) {
		k := [2]string{l.network, l.ifname}
		if detached[k] {
			continue
		}
		detached[k] = true
		rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: o.NetNSPath, IfName: l.ifname, Args: cniArgs(o)}
		rt.CapabilityArgs = capabilityArgs(o, true, false, nil)
		if err := m.del(ctx, l.network, nil, rt); !errors.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Connect attaches a running container's namespace to one more network, on the first free
// ethN unless o.IfName names the interface. o.StaticIP, StaticIP6 and StaticMAC, when set, are for the
// new interface (pass the container's own only if it should have the same); o.Networks and
// o.Ports are ignored: ports stay on the network they were published on.
func (m *Manager) connectHere(ctx context.Context, o AttachOptions, network string) (Status, error) {
	if o.ContainerID == "" || o.NetNSPath == "" {
		return Status{}, invalidf("network connect needs a container ID and a namespace path")
	}
	n, err := m.Get(network)
	if err != nil {
		return Status{}, err
	}
	// What a connect killed half-way left: an ADD begun (its pending mark), or one done whose
	// container record was never written (o.Reattach).
	m.undoPending(ctx, o)
	atts, err := m.cniConfig().GetCachedAttachments(o.ContainerID)
	if err != nil {
		return Status{}, err
	}
	used := map[string]bool{}
	for _, a := range atts {
		if a.Network == n.Name && !o.Reattach {
			return Status{}, fmt.Errorf("container %s is already connected to network %s: %w", o.ContainerID, n.Name, errdefs.ErrExists)
		}
		if a.Network == n.Name {
			rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: o.NetNSPath, IfName: a.IfName, Args: a.CniArgs, CapabilityArgs: a.CapabilityArgs}
			if err := m.del(ctx, a.Network, a.Config, rt); err != nil {
				return Status{}, fmt.Errorf("container %s: network %s: detach what an interrupted connect left: %w", o.ContainerID, n.Name, err)
			}
			continue
		}
		used[a.IfName] = true
	}
	ifname := o.IfName
	for i := 0; ifname == ""; i++ {
		if s := "eth" + strconv.Itoa(i); !used[s] {
			ifname = s
		}
	}
	ips, err := staticIPs([]*Network{n}, o.StaticIP, o.StaticIP6)
	if err != nil {
		return Status{}, err
	}
	rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: o.NetNSPath, IfName: ifname, Args: cniArgs(o)}
	rt.CapabilityArgs = capabilityArgs(o, false, true, ips[0])
	done, err := m.markPending(o.ContainerID, n.Name, ifname)
	if err != nil {
		return Status{}, err
	}
	defer done()
	return m.add(ctx, n, rt)
}

// Disconnect detaches a container's namespace from one network.
func (m *Manager) disconnectHere(ctx context.Context, o AttachOptions, network string) error {
	if o.ContainerID == "" {
		return invalidf("network disconnect needs a container ID")
	}
	name := network
	if n, err := m.Get(network); err == nil {
		name = n.Name
	}
	atts, err := m.cniConfig().GetCachedAttachments(o.ContainerID)
	if err != nil {
		return err
	}
	for _, a := range atts {
		if a.Network == name {
			rt := &libcni.RuntimeConf{ContainerID: o.ContainerID, NetNS: a.NetNS, IfName: a.IfName, Args: a.CniArgs, CapabilityArgs: a.CapabilityArgs}
			if o.NetNSPath != "" {
				rt.NetNS = o.NetNSPath
			}
			return m.del(ctx, name, a.Config, rt)
		}
	}
	return fmt.Errorf("container %s is not connected to network %s: %w", o.ContainerID, name, errdefs.ErrNotFound)
}

// Attachments returns a container's current attachments, read from the CNI cache.
func (m *Manager) Attachments(containerID string) ([]Status, error) {
	c := m.cniConfig()
	atts, err := c.GetCachedAttachments(containerID)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, a := range atts {
		list, err := libcni.ConfListFromBytes(a.Config)
		if err != nil {
			continue
		}
		rt := &libcni.RuntimeConf{ContainerID: a.ContainerID, NetNS: a.NetNS, IfName: a.IfName}
		res, err := c.GetNetworkListCachedResult(list, rt)
		if err != nil || res == nil {
			continue
		}
		if st, err := status(a.Network, rt, res); err == nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { // eth0, eth1, ..., eth10
		a, b := out[i].Interface, out[j].Interface
		return len(a) < len(b) || len(a) == len(b) && a < b
	})
	return out, nil
}

func (m *Manager) resolve(names []string) ([]*Network, error) {
	if len(names) == 0 {
		n, err := m.Default()
		if err != nil {
			return nil, err
		}
		return []*Network{n}, nil
	}
	var out []*Network
	seen := map[string]bool{}
	for _, name := range names {
		n, err := m.Get(name)
		if err != nil {
			return nil, err
		}
		if seen[n.Name] {
			return nil, invalidf("network %s is listed twice", n.Name)
		}
		seen[n.Name] = true
		out = append(out, n)
	}
	return out, nil
}

// staticIPs returns, by index in nets, the static addresses each network is asked for (the
// host-local "ips" capability): each of ips (nil ones skipped) goes to the network whose subnet
// holds it. host-local gives each range set the requested address it holds.
func staticIPs(nets []*Network, ips ...net.IP) (map[int][]string, error) {
	var out map[int][]string
	for _, ip := range ips {
		if ip == nil {
			continue
		}
		i, a, err := staticIPNetwork(nets, ip)
		if err != nil {
			return nil, err
		}
		for _, other := range out[i] {
			if strings.Contains(other, ":") == a.Is6() {
				return nil, invalidf("network %s: two static IPs of one family (%s, %s)", nets[i].Name, other, a)
			}
		}
		if out == nil {
			out = map[int][]string{}
		}
		out[i] = append(out[i], a.String())
	}
	return out, nil
}

// staticIPNetwork returns the index of the network whose subnet holds ip.
func staticIPNetwork(nets []*Network, ip net.IP) (int, netip.Addr, error) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return -1, a, invalidf("static IP %v", ip)
	}
	a = a.Unmap()
	var names []string
	for i, n := range nets {
		names = append(names, n.Name)
		for _, s := range n.Subnets {
			if p, err := netip.ParsePrefix(s.Subnet); err == nil && p.Contains(a) {
				return i, a, nil
			}
		}
	}
	return -1, a, invalidf("static IP %s is in no subnet of network(s) %v", a, names)
}

// withoutIdlePortmap drops the portmap plugin from an attachment's cached configuration list
// when the attachment published no ports: portmap's DEL has nothing to undo then (its ADD made
// no rules), and it is one plugin process (~4 ms, on the path of every container's end) less.
// The cache keeps the plugin, for a later UpdatePorts. Anything it cannot read is returned as is.
func withoutIdlePortmap(config []byte, caps map[string]any) []byte {
	switch pm := caps["portMappings"].(type) {
	case nil:
	case []any:
		if len(pm) > 0 {
			return config
		}
	default:
		return config // set, but not as a list: leave it to the plugin
	}
	var list map[string]any
	if json.Unmarshal(config, &list) != nil {
		return config
	}
	plugins, ok := list["plugins"].([]any)
	if !ok {
		return config
	}
	kept := make([]any, 0, len(plugins))
	for _, p := range plugins {
		if pm, ok := p.(map[string]any); ok && pm["type"] == "portmap" {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == len(plugins) {
		return config
	}
	list["plugins"] = kept
	out, err := json.Marshal(list)
	if err != nil {
		return config
	}
	return out
}
