package network

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"pea/internal/errdefs"
)

// validName reports whether s is a valid network or interface name: a letter or digit, then
// letters, digits, '_', '.' and '-' (podman's ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$). A loop rather than a
// regular expression compiled when the program starts, which every pea command would pay.
func validName(s string) bool {
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// defaultBridge is the default network's bridge, unless another store on this host already took
// or claimed it (its subnet: chooseSubnets).
var defaultBridge = "pea0"

// Create writes a new network's conflist. Nothing is created on the host: the bridge plugin
// creates the bridge when the first container attaches.
func (m *Manager) createHere(o CreateOptions) (*Network, error) {
	unlock, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return m.create(o, false)
}

// Default returns the default network, creating it on first use: bridge pea0 and 10.90.0.0/16,
// or the next free bridge name and /16 when another store on this host already uses those.
func (m *Manager) defaultHere() (*Network, error) {
	if n, err := m.Get(DefaultName); err == nil || !errors.Is(err, errdefs.ErrNotFound) {
		return n, err
	}
	unlock, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if n, err := m.Get(DefaultName); err == nil || !errors.Is(err, errdefs.ErrNotFound) {
		return n, err
	}
	o := CreateOptions{Name: DefaultName}
	if m.defaultSubnet != "" {
		o.Subnets = []string{m.defaultSubnet}
	}
	return m.create(o, true)
}

func (m *Manager) create(o CreateOptions, isDefault bool) (*Network, error) {
	o.pools = m.pools
	existing, err := m.List()
	if err != nil {
		return nil, err
	}
	n := &Network{Name: o.Name, Driver: o.Driver, Internal: o.Internal, Created: time.Now().UTC(),
		IPAMOptions: map[string]string{"driver": "host-local"}}
	if n.Driver == "" {
		n.Driver = "bridge"
	}
	if n.Name == "" {
		n.Name = firstFree("pea", func(s string) bool { return findName(existing, s) != nil })
	}
	if !validName(n.Name) {
		return nil, invalidf("network name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit", n.Name)
	}
	if findName(existing, n.Name) != nil || n.Name == PodmanDefaultName && !isDefault {
		// podman's words; "podman" names the default network (Get)
		return nil, errdefs.Errorf(errdefs.ErrExists, "network name %s already used: network already exists", n.Name)
	}
	n.DNSEnabled = !o.DisableDNS && n.Name != DefaultName // the default network names no one
	if len(o.DNSServers) > 0 {
		if err := checkDNSServers(n, o.DNSServers); err != nil {
			return nil, err
		}
		n.NetworkDNSServers = uniqStrings(o.DNSServers)
	}
	if len(o.Labels) > 0 {
		n.Labels = o.Labels
	}
	if err := setOptions(n, o.Options); err != nil {
		return nil, err
	}
	for _, r := range o.Routes {
		route, err := parseRoute(r)
		if err != nil {
			return nil, err
		}
		n.Routes = append(n.Routes, route)
	}
	if n.Driver == "bridge" {
		// The bridge name and subnets are chosen and claimed under the host-wide lock, and
		// the conflist is written before it is released: the claims hold from then on.
		err = m.createClaimed(n, o, existing, isDefault)
	} else {
		err = m.choose(n, o, existing, nil, isDefault)
		if err == nil {
			err = m.writeConflist(n)
		}
	}
	if err != nil {
		return nil, err
	}
	// Leases of an earlier network of the same name are stale.
	os.RemoveAll(filepath.Join(m.ipamDir(), n.Name))
	if err := m.ensureMasq(n); err != nil {
		os.Remove(m.confPath(n.Name))
		m.removeMasq(n)
		m.releaseClaims(n)
		return nil, err
	}
	return n, nil
}

// createClaimed chooses a bridge network's bridge name and subnets apart from every other
// network on the host, writes the conflist and claims them, holding the claim registry's lock.
func (m *Manager) createClaimed(n *Network, o CreateOptions, existing []*Network, isDefault bool) error {
	reg, err := m.claimRegistry()
	if err != nil {
		return err
	}
	defer reg.unlock()
	reg.sweep()
	removeOrphans(reg) // before the choice: the names and subnets it frees may be taken now
	config := m.absConfPath(n.Name)
	mine := filepath.Dir(config)
	m.claimExisting(reg, existing)
	var others []claim
	for _, c := range reg.claims {
		if filepath.Dir(c.config) != mine {
			others = append(others, c)
		}
	}
	if err := m.choose(n, o, existing, others, isDefault); err != nil {
		reg.save() // what the sweep dropped
		return err
	}
	if err := m.writeConflist(n); err != nil {
		return err
	}
	err = reg.add(n, config)
	if err == nil {
		err = reg.save()
	}
	if err != nil {
		os.Remove(m.confPath(n.Name))
		return err
	}
	return nil
}

// claimExisting claims what the store's bridge networks use and no network holds: networks
// made before the registry existed, or whose claims were lost, are protected from then on.
func (m *Manager) claimExisting(reg *registry, existing []*Network) {
	for _, e := range existing {
		for _, want := range networkClaims(e, m.absConfPath(e.Name)) {
			if !reg.claimed(want.kind, want.key) {
				reg.addOne(want)
			}
		}
	}
}

// choose settles the bridge name (or parent) and subnets, apart from the store's networks and
// the claims of other stores' networks.
func (m *Manager) choose(n *Network, o CreateOptions, existing []*Network, others []claim, isDefault bool) error {
	if err := m.setInterface(n, o, existing, others, isDefault); err != nil {
		return err
	}
	var err error
	if n.Subnets, err = chooseSubnets(o, usedBy(existing, others), isDefault); err != nil {
		return err
	}
	for _, s := range n.Subnets {
		n.IPv6Enabled = n.IPv6Enabled || strings.Contains(s.Subnet, ":")
	}
	n.ID = networkID(n.Name)
	return nil
}

// writeConflist writes n's conflist, replacing it whole.
func (m *Manager) writeConflist(n *Network) error {
	data, err := conflistBytes(n)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.configDir, 0o755); err != nil {
		return err
	}
	tmp := m.confPath(n.Name) + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, m.confPath(n.Name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// parseRoute reads a --route: DESTINATION,GATEWAY, a CIDR and an address of one family.
func parseRoute(s string) (Route, error) {
	f := strings.Split(s, ",")
	if len(f) == 3 {
		return Route{}, invalidf("route %q: pea's CNI plugins set no route metric", s)
	}
	if len(f) != 2 {
		return Route{}, invalidf("route %q: DESTINATION,GATEWAY expected", s)
	}
	dst, err := netip.ParsePrefix(f[0])
	if err != nil {
		return Route{}, invalidf("route %q: destination %q is not a CIDR", s, f[0])
	}
	gw, err := netip.ParseAddr(f[1])
	if err != nil {
		return Route{}, invalidf("route %q: gateway %q is not an IP address", s, f[1])
	}
	if gw.Is4() != dst.Addr().Is4() {
		return Route{}, invalidf("route %q: the destination and the gateway are not of one IP family", s)
	}
	return Route{Destination: dst.Masked().String(), Gateway: gw.String()}, nil
}

func setOptions(n *Network, opts map[string]string) error {
	modes := map[string][]string{"macvlan": {"bridge", "private", "vepa", "passthru"}, "ipvlan": {"l2", "l3", "l3s"}}
	switch n.Driver {
	case "bridge", "macvlan", "ipvlan":
	default:
		return invalidf("network driver %q: use bridge, macvlan or ipvlan", n.Driver)
	}
	for k, v := range opts {
		switch k {
		case "mtu":
			if mtu, err := strconv.Atoi(v); err != nil || mtu < 68 || mtu > 65535 {
				return invalidf("network option mtu=%q: want a number from 68 to 65535", v)
			}
		case "vlan": // the bridge plugin's VLAN tag on the containers' ports
			if n.Driver != "bridge" {
				return invalidf("unsupported %s network option %s", n.Driver, k)
			}
			if id, err := strconv.Atoi(v); err != nil || id < 0 || id > 4094 {
				return invalidf("network option vlan=%q: want a VLAN ID from 0 to 4094", v)
			}
		case "isolate": // netavark's (isolate.go)
			if n.Driver != "bridge" {
				return invalidf("unsupported %s network option %s", n.Driver, k)
			}
			if v != "true" && v != "false" && v != "strict" && v != "1" && v != "0" {
				return invalidf("network option isolate=%q: want true, strict or false", v)
			}
		case "no_default_route":
			if v != "true" && v != "false" && v != "1" && v != "0" {
				return invalidf("network option no_default_route=%q: want true or false", v)
			}
		case "mode":
			ok := false
			for _, mode := range modes[n.Driver] {
				ok = ok || mode == v
			}
			if !ok {
				return invalidf("network option mode=%q: the %s driver takes one of %s", v, n.Driver, strings.Join(modes[n.Driver], ", "))
			}
		default:
			return invalidf("unsupported %s network option %s (pea's are mtu, no_default_route, isolate and vlan for a bridge, mode for macvlan and ipvlan)", n.Driver, k)
		}
		if n.Options == nil {
			n.Options = map[string]string{}
		}
		n.Options[k] = v
	}
	return nil
}

// setInterface picks the bridge name (bridge driver) or checks the parent (macvlan, ipvlan).
// A bridge name is the store's own choice only when no other store's network claims it.
func (m *Manager) setInterface(n *Network, o CreateOptions, existing []*Network, others []claim, isDefault bool) error {
	if n.Driver != "bridge" {
		if o.NetworkInterface != "" {
			return invalidf("the %s driver takes a parent interface, not an interface name", n.Driver)
		}
		parent := o.Parent
		if parent == "" {
			p, err := defaultRouteInterface()
			if err != nil {
				return invalidf("%s network: no parent interface given and %v", n.Driver, err)
			}
			parent = p
		}
		if !linkExists(parent) {
			return invalidf("parent interface %q does not exist", parent)
		}
		n.NetworkInterface = parent
		return nil
	}
	if o.Parent != "" {
		return invalidf("a bridge network takes no parent interface")
	}
	claimedBy := func(s string) *claim {
		for i := range others {
			if others[i].kind == "bridge" && others[i].key == s {
				return &others[i]
			}
		}
		return nil
	}
	taken := func(s string) bool {
		for _, e := range existing {
			if e.Driver == "bridge" && e.NetworkInterface == s {
				return true
			}
		}
		return claimedBy(s) != nil
	}
	name := o.NetworkInterface
	switch {
	case name != "":
		if len(name) > 15 || !validName(name) {
			return invalidf("interface name %q: use at most 15 letters, digits, '_', '.' or '-'", name)
		}
		if h := claimedBy(name); h != nil {
			return invalidf("interface name %q is already used by %s", name, h.owner())
		}
		if taken(name) {
			return invalidf("interface name %q is already used by another network", name)
		}
	case isDefault && !taken(defaultBridge) && !linkExists(defaultBridge):
		name = defaultBridge
	default:
		name = firstFree("pea", func(s string) bool { return s == defaultBridge || taken(s) || linkExists(s) })
	}
	n.NetworkInterface = name
	return nil
}

// firstFree returns prefix+N for the smallest N >= 1 that is not taken.
func firstFree(prefix string, taken func(string) bool) string {
	for i := 1; ; i++ {
		if s := prefix + strconv.Itoa(i); !taken(s) {
			return s
		}
	}
}

// Get finds a network by name, or by a unique prefix of its ID. "podman", podman's default
// network, is pea's (DefaultName) unless a network has that name.
func (m *Manager) Get(name string) (*Network, error) {
	if validName(name) {
		if n, err := m.read(m.confPath(name)); err == nil {
			return n, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if name == PodmanDefaultName {
			return m.Get(DefaultName)
		}
	}
	all, err := m.List()
	if err != nil {
		return nil, err
	}
	var found *Network
	for _, n := range all {
		if name != "" && strings.HasPrefix(n.ID, name) {
			if found != nil {
				return nil, fmt.Errorf("network ID prefix %s: %w", name, errdefs.ErrAmbiguous)
			}
			found = n
		}
	}
	if found == nil { // podman's words
		return nil, errdefs.Errorf(errdefs.ErrNotFound, "unable to find network with name or ID %s: network not found", name)
	}
	return found, nil
}

// List returns all networks, sorted by name. Conflists pea cannot read are skipped.
func (m *Manager) List() ([]*Network, error) {
	files, err := filepath.Glob(filepath.Join(m.configDir, "*.conflist"))
	if err != nil {
		return nil, err
	}
	var out []*Network
	for _, f := range files {
		if n, err := m.read(f); err == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *Manager) read(path string) (*Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var mod time.Time
	if fi, err := os.Stat(path); err == nil {
		mod = fi.ModTime()
	}
	n, err := parseConflist(data, mod)
	if err == nil && n.Name+".conflist" != filepath.Base(path) {
		err = fmt.Errorf("network name %q does not match the file name", n.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("network config %s: %w", path, err)
	}
	return n, nil
}

// removeHere deletes a network's conflist, its bridge, its leases and its claims. The caller
// makes sure that no container uses it.
func (m *Manager) removeHere(name string) error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	n, err := m.Get(name)
	if errors.Is(err, errdefs.ErrNotFound) {
		// A removal killed after the conflist went, or an older pea's, can have left the NAT
		// and forwarding chains of the name behind: nothing else would ever find them.
		m.sweepOrphanMasq(name)
	}
	if err != nil {
		return err
	}
	// The chains go first: a removal killed before the conflist is gone leaves a network
	// that can be removed again, never chains that nothing names.
	m.removeMasq(n)
	if n.Driver != "bridge" {
		if err := os.Remove(m.confPath(n.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("network %s: %w", n.Name, err)
		}
	} else if err := m.removeClaimed(n); err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(m.ipamDir(), n.Name))
	if err := m.syncIsolation(isolation(n) != ""); err != nil {
		slog.Warn("network isolation rules", "err", err) // the removal stands
	}
	return nil
}

// removeClaimed removes a bridge network's conflist, its claims and its bridge, holding the
// claim registry's lock: a bridge name another store's network claims is that network's, and
// its bridge stays; no store can claim the name before the bridge is gone.
func (m *Manager) removeClaimed(n *Network) error {
	reg, err := m.claimRegistry()
	if err != nil {
		return err
	}
	defer reg.unlock()
	config := m.absConfPath(n.Name)
	keepBridge := reg.claimedElsewhere(n.NetworkInterface, config) != nil
	if err := os.Remove(m.confPath(n.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	reg.drop(func(c *claim) bool { return c.config == config })
	if n.NetworkInterface != "" && !keepBridge && bridgeIsOurs(n) {
		if err := deleteLink(n.NetworkInterface); err != nil {
			reg.save()
			return fmt.Errorf("network %s: delete bridge %s: %w", n.Name, n.NetworkInterface, err)
		}
	}
	if err := reg.save(); err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	return nil
}

// bridgeIsOurs reports whether n's bridge carries no global address outside n's subnets. A
// bridge name another store's network claims is left to it before this is asked (Remove); this
// covers networks made before the claim registry, which two stores could have given one bridge
// name: the one the bridge is not serving must leave it to the other.
func bridgeIsOurs(n *Network) bool {
	ifi, err := net.InterfaceByName(n.NetworkInterface)
	if err != nil {
		return true // gone already: deleteLink does nothing
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return true
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || p.Addr().IsLinkLocalUnicast() {
			continue
		}
		mine := false
		for _, s := range n.Subnets {
			if q, err := netip.ParsePrefix(s.Subnet); err == nil && q.Contains(p.Addr()) {
				mine = true
			}
		}
		if !mine {
			return false
		}
	}
	return true
}

func (m *Manager) withLock(f func() error) error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}

func (m *Manager) lock() (func(), error) {
	if err := os.MkdirAll(m.runDir, 0o755); err != nil {
		return nil, err
	}
	return flock(m.lockPath())
}

func findName(list []*Network, name string) *Network {
	for _, n := range list {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalid)
}
