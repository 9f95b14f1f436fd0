package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"pea/internal/cpupin"
)

// Network isolation (`-o isolate=true|strict`, netavark's option, which podman 4.3 takes): a
// container on an isolated bridge network reaches no other isolated network of the store, and
// one on a strict network no other network of the store at all, in either direction; the
// outside world and published ports stay reachable. The rules are one chain per store and
// family, rebuilt whole whenever the store's isolated networks change:
//
//	filter PEA-ISO-<hash>:  -i <bridge X> -o <bridge Y> -m comment --comment "pea isolation" -j DROP
//	                        (for every ordered pair X, Y the options keep apart)
//	filter PEA-FWD-<network's>: first rule -j PEA-ISO-<hash>, in every network's forward chain
//
// Every forward chain starts with the jump because FORWARD jumps to the networks' chains one
// after another and the first that accepts a packet decides: the drops must come before any
// of them. Stores without isolated networks have no such chain and pay nothing.

// isoChain is the store's isolation chain.
func (m *Manager) isoChain() string {
	sum := sha256.Sum256([]byte("isolate\x00" + m.configDir))
	return "PEA-ISO-" + hex.EncodeToString(sum[:])[:12]
}

const isoComment = "pea isolation"

// isolation is a network's isolate option: "", "true" or "strict".
func isolation(n *Network) string {
	switch v := n.Options["isolate"]; v {
	case "true", "1":
		return "true"
	case "strict":
		return v
	}
	return ""
}

// apart reports whether the isolation rules keep x's containers from y's.
func apart(x, y *Network) bool {
	if x.Name == y.Name || x.NetworkInterface == "" || y.NetworkInterface == "" || x.NetworkInterface == y.NetworkInterface {
		return false
	}
	ix, iy := isolation(x), isolation(y)
	return ix == "strict" || iy == "strict" || ix != "" && iy != ""
}

// syncIsolation rebuilds the store's isolation chains from its networks; with teardown it also
// removes them (and the jumps to them) when no isolated network is left. The caller holds the
// network lock.
func (m *Manager) syncIsolation(teardown bool) error {
	all, err := m.List()
	if err != nil {
		return err
	}
	var bridges []*Network
	isolated := false
	for _, n := range all {
		if needsMasq(n) {
			bridges = append(bridges, n)
			isolated = isolated || isolation(n) != ""
		}
	}
	if !isolated && !teardown {
		return nil
	}
	chain := m.isoChain()
	for _, v6 := range []bool{false, true} {
		bin, err := iptablesBin(v6, "")
		if err != nil {
			continue
		}
		run := func(args ...string) error {
			out, err := cpupin.Command(bin, append([]string{"-w", "-t", "filter"}, args...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s %s: %s", bin, strings.Join(args, " "), strings.TrimSpace(string(out)))
			}
			return nil
		}
		// The forward chains of this family, which jump to the isolation chain.
		var fwds []string
		for _, n := range bridges {
			for _, s := range n.Subnets {
				if p, err := netip.ParsePrefix(s.Subnet); err == nil && p.Addr().Is6() == v6 {
					fwds = append(fwds, m.fwdChain(n, s.Subnet))
				}
			}
		}
		jump := func(op, fwd string) []string {
			args := []string{op, fwd}
			if op == "-I" {
				args = append(args, "1")
			}
			return append(args, "-m", "comment", "--comment", isoComment, "-j", chain)
		}
		if !isolated {
			for _, fwd := range fwds {
				for run(jump("-D", fwd)...) == nil {
				}
			}
			run("-F", chain)
			run("-X", chain)
			continue
		}
		if len(fwds) == 0 {
			continue // no network of this family
		}
		run("-N", chain) // may exist already
		if err := run("-F", chain); err != nil {
			return err
		}
		for _, x := range bridges {
			for _, y := range bridges {
				if apart(x, y) {
					if err := run("-A", chain, "-i", x.NetworkInterface, "-o", y.NetworkInterface, "-m", "comment", "--comment", isoComment, "-j", "DROP"); err != nil {
						return err
					}
				}
			}
		}
		for _, fwd := range fwds {
			if run(jump("-C", fwd)...) != nil {
				if err := run(jump("-I", fwd)...); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
