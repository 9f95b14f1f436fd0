package network

import (
	"net/netip"
	"strings"
)

// chooseSubnet parses an explicit subnet and refuses overlaps with other networks, or picks the
// first free subnet (overlapping no network and nothing the host routes): a /16 from 10.90.0.0
// upward for the default network, a /24 from 10.90.1.0 upward for the others. 10.90.0.0/24 is
// left to the default network; podman's 10.88/16 and 10.89/16 lie below the range, so pea and
// podman networks do not meet.
func chooseSubnet(spec string, existing []*Network, isDefault bool) (netip.Prefix, error) {
	overlapping := func(p netip.Prefix) *Network {
		for _, e := range existing {
			for _, s := range e.Subnets {
				if q, err := netip.ParsePrefix(s.Subnet); err == nil && q.Overlaps(p) {
					return e
				}
			}
		}
		return nil
	}
	if spec != "" {
		p, err := netip.ParsePrefix(spec)
		if err != nil {
			return p, invalidf("subnet %q: want a CIDR such as 10.91.0.0/24", spec)
		}
		p = p.Masked()
		if bits := p.Addr().BitLen(); p.Bits() > bits-2 {
			return p, invalidf("subnet %s is too small: it leaves no address for containers", p)
		}
		if e := overlapping(p); e != nil {
			return p, invalidf("subnet %s overlaps with network %s", p, e.Name)
		}
		return p, nil
	}
	host := hostPrefixes()
	free := func(p netip.Prefix) bool {
		if overlapping(p) != nil {
			return false
		}
		for _, h := range host {
			if h.Overlaps(p) {
				return false
			}
		}
		return true
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
