package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"pea/internal/cpupin"
)

// Outbound NAT and forwarding are pea's, one chain each per network rather than rules per
// container: the bridge plugin's ipMasq makes a chain and three rules for every container, the
// firewall plugin six more checks and two rules, and both undo them again: about 25 iptables
// processes (5–10 ms each with iptables-nft) per container start and stop. pea runs the bridge
// plugin with ipMasq off, no firewall plugin, and keeps per subnet of a bridge network that is
// not internal:
//
//	nat POSTROUTING -s <subnet> -m comment --comment "pea network <name>" -j PEA-MASQ-<hash>
//	nat PEA-MASQ-<hash>:  -d <subnet> -j RETURN;  -d 224.0.0.0/4 -j RETURN (IPv4);  -j MASQUERADE
//	filter FORWARD (first) -m comment --comment "pea network <name>" -j PEA-FWD-<hash>
//	filter PEA-FWD-<hash>:  -d <subnet> -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT;
//	                        -s <subnet> -j ACCEPT
//
// made with the network and removed with it. RETURN, not ACCEPT, in the NAT chain, so that rules
// after it in POSTROUTING (portmap's hairpin masquerade) still apply. The forward chain is
// jumped to first, so a host whose FORWARD policy is DROP (Docker sets that) still forwards.

// The chains are named by a hash of the store's config directory, the network and the subnet:
// two stores (throw-away test stores among them) never share or remove each other's chains,
// even when their networks happen to have the same name or subnet.
func (m *Manager) masqChain(n *Network, subnet string) string {
	return "PEA-MASQ-" + m.chainHash(n, subnet)
}

func (m *Manager) fwdChain(n *Network, subnet string) string {
	return "PEA-FWD-" + m.chainHash(n, subnet)
}

func (m *Manager) chainHash(n *Network, subnet string) string {
	sum := sha256.Sum256([]byte(m.configDir + "\x00" + n.Name + "\x00" + subnet))
	return hex.EncodeToString(sum[:])[:12]
}

func masqComment(network string) string { return "pea network " + network }

// needsMasq reports whether pea does outbound NAT for n.
func needsMasq(n *Network) bool { return n.Driver == "bridge" && !n.Internal }

// iptablesFor finds the iptables of a subnet's family ("" when it has none).
func iptablesFor(subnet string) (string, bool) {
	p, err := netip.ParsePrefix(subnet)
	v6 := err == nil && p.Addr().Is6()
	path, _ := iptablesBin(v6, "")
	return path, v6
}

func (m *Manager) jumpArgs(op string, n *Network, subnet string) []string {
	return []string{"-w", "-t", "nat", op, "POSTROUTING", "-s", subnet, "-m", "comment", "--comment", masqComment(n.Name), "-j", m.masqChain(n, subnet)}
}

func (m *Manager) fwdJumpArgs(op string, n *Network, subnet string) []string {
	args := []string{"-w", "-t", "filter", op, "FORWARD"}
	if op == "-I" {
		args = append(args, "1")
	}
	return append(args, "-m", "comment", "--comment", masqComment(n.Name), "-j", m.fwdChain(n, subnet))
}

// masqPresent reports whether every subnet of n has its forward jump, which is made last (one
// iptables call per subnet).
func (m *Manager) masqPresent(n *Network) bool {
	for _, s := range n.Subnets {
		bin, _ := iptablesFor(s.Subnet)
		if bin == "" || cpupin.Command(bin, m.fwdJumpArgs("-C", n, s.Subnet)...).Run() != nil {
			return false
		}
	}
	return true
}

// ensureMasq makes n's NAT rules when they are missing; the caller holds the network lock.
func (m *Manager) ensureMasq(n *Network) error {
	if !needsMasq(n) || m.masqPresent(n) {
		return nil
	}
	return m.makeMasq(n)
}

// makeMasq makes n's NAT and forwarding chains afresh (flushed and filled) and the jumps to
// them that are missing; the caller holds the network lock.
func (m *Manager) makeMasq(n *Network) error {
	for _, s := range n.Subnets {
		bin, v6 := iptablesFor(s.Subnet)
		if bin == "" {
			return fmt.Errorf("network %s: iptables not found: outbound NAT cannot be set up", n.Name)
		}
		chain := m.masqChain(n, s.Subnet)
		run := func(args ...string) error {
			out, err := cpupin.Command(bin, append([]string{"-w", "-t", "nat"}, args...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("network %s: %s %s: %s", n.Name, bin, strings.Join(args, " "), strings.TrimSpace(string(out)))
			}
			return nil
		}
		run("-N", chain) // may exist already
		steps := [][]string{{"-F", chain}, {"-A", chain, "-d", s.Subnet, "-j", "RETURN"}}
		if !v6 {
			steps = append(steps, []string{"-A", chain, "-d", "224.0.0.0/4", "-j", "RETURN"})
		}
		steps = append(steps, []string{"-A", chain, "-j", "MASQUERADE"})
		for _, st := range steps {
			if err := run(st...); err != nil {
				return err
			}
		}
		if cpupin.Command(bin, m.jumpArgs("-C", n, s.Subnet)...).Run() != nil {
			if err := run(m.jumpArgs("-A", n, s.Subnet)[3:]...); err != nil {
				return err
			}
		}
		// Forwarding, in the filter table.
		fwd := m.fwdChain(n, s.Subnet)
		runF := func(args ...string) error {
			out, err := cpupin.Command(bin, append([]string{"-w", "-t", "filter"}, args...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("network %s: %s %s: %s", n.Name, bin, strings.Join(args, " "), strings.TrimSpace(string(out)))
			}
			return nil
		}
		runF("-N", fwd) // may exist already
		for _, st := range [][]string{
			{"-F", fwd},
			{"-A", fwd, "-d", s.Subnet, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
			{"-A", fwd, "-s", s.Subnet, "-j", "ACCEPT"},
		} {
			if err := runF(st...); err != nil {
				return err
			}
		}
		if cpupin.Command(bin, m.fwdJumpArgs("-C", n, s.Subnet)...).Run() != nil {
			if err := runF(m.fwdJumpArgs("-I", n, s.Subnet)[3:]...); err != nil {
				return err
			}
		}
	}
	// The forward chain starts without its jump to the isolation rules (isolate.go).
	return m.syncIsolation(false)
}

// removeMasq deletes n's NAT rules; missing ones are fine.
func (m *Manager) removeMasq(n *Network) {
	if !needsMasq(n) {
		return
	}
	if m.runDir != "" { // "": the chains of a deleted store (removeOrphans), which has no marker
		os.Remove(m.masqMarker(n))
	}
	for _, s := range n.Subnets {
		bin, _ := iptablesFor(s.Subnet)
		if bin == "" {
			continue
		}
		for cpupin.Command(bin, m.fwdJumpArgs("-D", n, s.Subnet)...).Run() == nil {
		}
		cpupin.Command(bin, "-w", "-t", "filter", "-F", m.fwdChain(n, s.Subnet)).Run()
		cpupin.Command(bin, "-w", "-t", "filter", "-X", m.fwdChain(n, s.Subnet)).Run()
		for cpupin.Command(bin, m.jumpArgs("-D", n, s.Subnet)...).Run() == nil {
		}
		chain := m.masqChain(n, s.Subnet)
		cpupin.Command(bin, "-w", "-t", "nat", "-F", chain).Run()
		cpupin.Command(bin, "-w", "-t", "nat", "-X", chain).Run()
	}
}

// sweepOrphanMasq removes the NAT and forwarding chains of this store's network name whose
// network is gone: the POSTROUTING jumps commented with the name whose chain is the one this
// store would name for that subnet (another store's network of the same name has other
// chains), and the FORWARD jumps likewise, the subnet read from their chain.
func (m *Manager) sweepOrphanMasq(name string) {
	comment := commentMatch(masqComment(name))
	for _, v6 := range []bool{false, true} {
		bin, err := iptablesBin(v6, "")
		if err != nil {
			continue
		}
		var subnets []string
		for _, line := range natRules(v6) {
			f := strings.Fields(line)
			if !strings.HasPrefix(line, "-A POSTROUTING ") || !strings.Contains(line, comment) {
				continue
			}
			if subnet := fieldAfter(f, "-s"); subnet != "" && fieldAfter(f, "-j") == m.masqChain(&Network{Name: name}, subnet) {
				subnets = append(subnets, subnet)
			}
		}
		out, _ := cpupin.Command(bin, "-w", "-t", "filter", "-S").Output()
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "-A" || !strings.HasPrefix(f[1], "PEA-FWD-") || fieldAfter(f, "-j") != "ACCEPT" {
				continue
			}
			if subnet := fieldAfter(f, "-s"); subnet != "" && f[1] == m.fwdChain(&Network{Name: name}, subnet) && !slices.Contains(subnets, subnet) {
				subnets = append(subnets, subnet)
			}
		}
		if len(subnets) == 0 {
			continue
		}
		n := &Network{Name: name, Driver: "bridge"}
		for _, s := range subnets {
			n.Subnets = append(n.Subnets, Subnet{Subnet: s})
		}
		m.removeMasq(n)
	}
}
