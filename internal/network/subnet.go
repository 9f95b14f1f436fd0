package network

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// chooseSubnets settles a new network's subnets, as podman's: the ones given (--subnet, each
// with the --gateway and --ip-range at its index), checked against each other and against the
// other networks; none given, one free IPv4 subnet; with IPv6 (dual stack), a free IPv4 subnet
// when none of that family is given and a random IPv6 ULA /64 from fd00::/8 (RFC 4193) when no
// IPv6 one is. Given subnets come first, in order, then the IPv4 one, then the IPv6 one.
func chooseSubnets(o CreateOptions, used usedSubnets, isDefault bool) ([]Subnet, error) {
	switch {
	case len(o.Subnets) == 0 && (len(o.Gateways) > 0 || len(o.IPRanges) > 0):
		return nil, invalidf("a gateway or IP range needs the subnet it belongs to (--subnet)")
	case len(o.Gateways) > len(o.Subnets):
		return nil, invalidf("%d gateways for %d subnets: give at most one gateway per subnet, in the order of the subnets", len(o.Gateways), len(o.Subnets))
	case len(o.IPRanges) > len(o.Subnets):
		return nil, invalidf("%d IP ranges for %d subnets: give at most one IP range per subnet, in the order of the subnets", len(o.IPRanges), len(o.Subnets))
	}
	var out []Subnet
	var mine []netip.Prefix
	has4, has6 := false, false
	for i, spec := range o.Subnets {
		p, err := explicitSubnet(spec, used)
		if err != nil {
			return nil, err
		}
		for _, q := range mine {
			if q.Overlaps(p) {
				return nil, invalidf("subnet %s overlaps with subnet %s of the same network", p, q)
			}
		}
		s, err := subnetSettings(p, at(o.Gateways, i), at(o.IPRanges, i))
		if err != nil {
			return nil, err
		}
		mine = append(mine, p)
		out = append(out, s)
		has4, has6 = has4 || p.Addr().Is4(), has6 || p.Addr().Is6()
	}
	if len(out) == 0 || o.IPv6 && !has4 {
		p, err := freeIPv4Subnet(used, isDefault, o.pools)
		if err != nil {
			return nil, err
		}
		s, _ := subnetSettings(p, "", "")
		out = append(out, s)
	}
	if o.IPv6 && !has6 {
		p, err := freeIPv6Subnet(used)
		if err != nil {
			return nil, err
		}
		s, _ := subnetSettings(p, "", "")
		out = append(out, s)
	}
	return out, nil
}

func at(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return ""
}

// usedSubnets are what a new network's subnets must not overlap: the subnets of the store's
// networks and, for a bridge network, those other stores' bridge networks claim (claims.go),
// parsed once: a free subnet is searched for among thousands of candidates.
type usedSubnets []usedSubnet

type usedSubnet struct {
	prefix  netip.Prefix
	network string // a network of the store, or
	claim   *claim // another store's claim
}

// usedBy lists the subnets of networks and of the subnet claims among claims.
func usedBy(networks []*Network, claims []claim) usedSubnets {
	var u usedSubnets
	for _, e := range networks {
		for _, s := range e.Subnets {
			if q, err := netip.ParsePrefix(s.Subnet); err == nil {
				u = append(u, usedSubnet{prefix: q, network: e.Name})
			}
		}
	}
	for i := range claims {
		if q := claims[i].subnet(); q.IsValid() {
			u = append(u, usedSubnet{prefix: q, claim: &claims[i]})
		}
	}
	return u
}

// overlap names the network whose subnet overlaps p, "" when none does.
func (u usedSubnets) overlap(p netip.Prefix) string {
	for _, s := range u {
		if s.prefix.Overlaps(p) {
			if s.claim != nil {
				return s.claim.owner()
			}
			return "network " + s.network
		}
	}
	return ""
}

// overlaps reports whether any subnet of u overlaps p.
func (u usedSubnets) overlaps(p netip.Prefix) bool {
	for _, s := range u {
		if s.prefix.Overlaps(p) {
			return true
		}
	}
	return false
}

// explicitSubnet parses a given subnet and refuses one too small for a container or one that
// overlaps another network's.
func explicitSubnet(spec string, used usedSubnets) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(spec)
	if err != nil {
		return p, invalidf("subnet %q: want a CIDR such as 10.91.0.0/24 or fd00:1::/64", spec)
	}
	p = p.Masked()
	if bits := p.Addr().BitLen(); p.Bits() > bits-2 {
		return p, invalidf("subnet %s is too small: it leaves no address for containers", p)
	}
	if owner := used.overlap(p); owner != "" {
		return p, invalidf("subnet %s overlaps with %s", p, owner)
	}
	return p, nil
}

// freeIPv4Subnet picks the first free IPv4 subnet (overlapping no network, no other store's
// claim and nothing the host routes): a /16 from 10.90.0.0 upward for the default network, a
// /24 from 10.90.1.0 upward for the others. 10.90.0.0/24 is left to the default network;
// podman's 10.88/16 and 10.89/16 lie below the range, so pea and podman networks do not meet.
//
// With pools (containers.conf's default_subnet_pools), a network other than the default one
// takes the first free subnet of the first pool that has one, as podman's.
func freeIPv4Subnet(used usedSubnets, isDefault bool, pools []SubnetPool) (netip.Prefix, error) {
	host := usedSubnets{}
	for _, h := range hostPrefixes() {
		host = append(host, usedSubnet{prefix: h})
	}
	free := func(p netip.Prefix) bool { return !used.overlaps(p) && !host.overlaps(p) }
	if len(pools) > 0 && !isDefault {
		return poolSubnet(pools, free)
	}
	// covered reports whether a /16 or larger taken prefix holds all of 10.b.0.0/16: its 256
	// /24s need no look each (the default network's 10.90.0.0/16 is one).
	covered := func(b int) bool {
		a := netip.AddrFrom4([4]byte{10, byte(b), 0, 0})
		for _, list := range []usedSubnets{used, host} {
			for _, s := range list {
				if s.prefix.Bits() <= 16 && s.prefix.Contains(a) {
					return true
				}
			}
		}
		return false
	}
	if isDefault {
		// The default network is a /16, as podman's (10.88.0.0/16): every pod and container
		// of a store may be on it (a /24 ran out at 253 pods). The first free one from
		// 10.90.0.0/16 upward; a /24 when none is.
		for b := 90; b <= 255; b++ {
			if p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(b), 0, 0}), 16); free(p) {
				return p, nil
			}
		}
	}
	for b := 90; b <= 255; b++ {
		if covered(b) {
			continue
		}
		for c := 0; c <= 255; c++ {
			if b == 90 && c == 0 {
				continue
			}
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(b), byte(c), 0}), 24)
			if free(p) {
				return p, nil
			}
		}
	}
	return netip.Prefix{}, invalidf("no free subnet left in 10.90.0.0-10.255.255.0; give one with --subnet")
}

// SubnetPool is a range new networks' IPv4 subnets are taken from: subnets of Size bits of
// Base (containers.conf's default_subnet_pools: {"base" = "10.89.0.0/16", "size" = 24}).
type SubnetPool struct {
	Base string
	Size int
}

// poolSubnet is the first free subnet of pools, in order.
func poolSubnet(pools []SubnetPool, free func(netip.Prefix) bool) (netip.Prefix, error) {
	for _, pool := range pools {
		base, err := netip.ParsePrefix(pool.Base)
		if err != nil || !base.Addr().Is4() || pool.Size < base.Bits() || pool.Size > 30 {
			return netip.Prefix{}, invalidf("containers.conf default_subnet_pools: invalid pool %q of size %d (an IPv4 CIDR, and a size from its prefix length to 30)", pool.Base, pool.Size)
		}
		base = base.Masked()
		step := uint32(1) << (32 - pool.Size)
		start := base.Addr().As4()
		first := uint32(start[0])<<24 | uint32(start[1])<<16 | uint32(start[2])<<8 | uint32(start[3])
		count := uint64(1) << (pool.Size - base.Bits())
		for i := uint64(0); i < count; i++ {
			a := first + uint32(i)*step
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), pool.Size)
			if free(p) {
				return p, nil
			}
		}
	}
	return netip.Prefix{}, invalidf("no free subnet left in containers.conf's default_subnet_pools; give one with --subnet")
}

// freeIPv6Subnet picks a random /64 of fd00::/8 that overlaps no network and no address of the
// host: RFC 4193's unique local addresses are chosen at random, not in order, so that two hosts'
// networks are unlikely to meet.
func freeIPv6Subnet(used usedSubnets) (netip.Prefix, error) {
	var host []netip.Prefix
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is6() {
				host = append(host, p.Masked())
			}
		}
	}
	for range 1000 {
		var b [16]byte
		if _, err := rand.Read(b[1:8]); err != nil {
			return netip.Prefix{}, fmt.Errorf("choosing an IPv6 subnet: %w", err)
		}
		b[0] = 0xfd
		p := netip.PrefixFrom(netip.AddrFrom16(b), 64)
		free := used.overlap(p) == ""
		for _, h := range host {
			free = free && !h.Overlaps(p)
		}
		if free {
			return p, nil
		}
	}
	return netip.Prefix{}, invalidf("no free IPv6 subnet found in fd00::/8; give one with --subnet")
}

// subnetSettings checks the gateway and lease range against the subnet.
func subnetSettings(sub netip.Prefix, gateway, ipRange string) (Subnet, error) {
	s := Subnet{Subnet: sub.String()}
	first, last := sub.Addr().Next(), lastAddr(sub)
	if !sub.Addr().Is6() {
		last = last.Prev() // the broadcast address
	}
	usable := func(a netip.Addr) bool { return sub.Contains(a) && a.Compare(first) >= 0 && a.Compare(last) <= 0 }
	gw := first
	if gateway != "" {
		a, err := netip.ParseAddr(gateway)
		if err != nil {
			return s, invalidf("gateway %q is not an IP address", gateway)
		}
		if !usable(a) {
			return s, invalidf("gateway %s is outside subnet %s (usable %s-%s)", a, sub, first, last)
		}
		gw = a
	}
	s.Gateway = gw.String()
	if ipRange == "" {
		return s, nil
	}
	var lo, hi netip.Addr
	if start, end, ok := strings.Cut(ipRange, "-"); ok {
		a, err1 := netip.ParseAddr(start)
		b, err2 := netip.ParseAddr(end)
		if err1 != nil || err2 != nil || b.Less(a) {
			return s, invalidf("ip range %q: want a CIDR or start-end with start <= end", ipRange)
		}
		lo, hi = a, b
	} else {
		p, err := netip.ParsePrefix(ipRange)
		if err != nil {
			return s, invalidf("ip range %q: want a CIDR or start-end", ipRange)
		}
		p = p.Masked()
		lo, hi = p.Addr(), lastAddr(p)
		if lo.Less(first) {
			lo = first
		}
		if last.Less(hi) {
			hi = last
		}
	}
	if !usable(lo) || !usable(hi) {
		return s, invalidf("ip range %s is outside subnet %s (usable %s-%s)", ipRange, sub, first, last)
	}
	s.LeaseRange = &LeaseRange{StartIP: lo.String(), EndIP: hi.String()}
	return s, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	ones := p.Bits()
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			if i*8+bit >= ones {
				b[i] |= 0x80 >> bit
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
