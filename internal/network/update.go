package network

import (
	"net/netip"
	"slices"
)

// UpdateOptions are `pea network update`'s changes (podman 5's): upstream DNS servers added to
// the network's and dropped from them.
type UpdateOptions struct {
	AddDNSServers, DropDNSServers []string
}

// Update changes the network's upstream DNS servers in its conflist and returns it. Dropped
// servers go first, added ones are appended after those kept, each once (podman's order).
// Running containers see the change once aardvark-dns's file is rewritten (the engine's).
func (m *Manager) Update(name string, o UpdateOptions) (*Network, error) {
	unlock, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	n, err := m.Get(name)
	if err != nil {
		return nil, err
	}
	if err := checkDNSServers(n, o.AddDNSServers); err != nil {
		return nil, err
	}
	for _, s := range o.DropDNSServers {
		if _, err := netip.ParseAddr(s); err != nil {
			return nil, invalidf("unable to parse ip %s specified in RemoveDNSServer", s)
		}
	}
	var after []string
	for _, s := range n.NetworkDNSServers {
		if !slices.Contains(o.DropDNSServers, s) {
			after = append(after, s)
		}
	}
	after = uniqStrings(append(after, o.AddDNSServers...))
	if slices.Equal(after, n.NetworkDNSServers) {
		return n, nil
	}
	n.NetworkDNSServers = after
	if err := m.writeConflist(n); err != nil {
		return nil, err
	}
	return n, nil
}

// checkDNSServers checks servers to be a network's upstream DNS servers: addresses, on a
// network whose containers ask aardvark-dns (which is what asks them), as podman's.
func checkDNSServers(n *Network, servers []string) error {
	for _, s := range servers {
		if _, err := netip.ParseAddr(s); err != nil {
			return invalidf("unable to parse ip %s specified in AddDNSServer", s)
		}
	}
	if len(servers) > 0 && (!n.DNSEnabled || n.Driver != "bridge") {
		return invalidf("cannot set NetworkDNSServers if DNS is not enabled for the network")
	}
	return nil
}

func uniqStrings(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
