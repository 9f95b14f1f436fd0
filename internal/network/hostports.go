package network

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"pea/internal/cpupin"
)

// Published ports are pea's own NAT rules, made with one iptables-restore per address family
// and removed with one more. CNI's portmap plugin, which pea ran before, makes the same kind of
// rules with a separate iptables process for every check, chain and rule: 20 processes for one
// published port (~2 ms each with iptables-nft, which reads the whole ruleset every time), about
// 45 ms of a `pod start` that took 73 ms, and as many again to remove them. Per container and
// network, in the nat table:
//
//	PEA-DN-<hash>:  [-d <host IP>] -p <proto> --dport <host port> -j DNAT --to-destination <ctr>:<port>
//	PREROUTING, OUTPUT:  -p <proto> -m addrtype --dst-type LOCAL -m multiport --dports <host ports>
//	                     -m comment --comment "pea ports <container>" -j PEA-DN-<hash>
//	POSTROUTING:  -s <subnet> -d <ctr> -p <proto> -m multiport --dports <container ports>
//	              -m conntrack --ctstate DNAT -m comment ... -j MASQUERADE
//	              (and -s 127.0.0.0/8 for IPv4)
//
// The DNAT chain takes connections to the host's addresses, from outside (PREROUTING) and from
// the host itself (OUTPUT). The masquerade rules cover what DNAT alone cannot: a container that
// reaches its own network's published port (hairpin: the answer would bypass the NAT) and the
// host reaching 127.0.0.1:<port> (a loopback source cannot leave on the bridge, so IPv4 also
// sets route_localnet on the bridge, as portmap does). IPv6 has no route_localnet: the kernel
// drops packets from ::1 that DNAT sends off the loopback, so the host's [::1]:<port> does not
// reach a container (nor does it with netavark or portmap); its other addresses do. Only
// connections that were DNATed are masqueraded: a client from outside keeps its own address.
//
// An iptables-restore is one transaction: the rules of one family appear or fail together, and
// a removal whose rules are no longer all there (a host firewall reload flushed them) changes
// nothing; pea then sweeps what is left by the rules' comment.

// portChain names a container's DNAT chain on a network, by a hash of the store's config
// directory, the network and the container (chain names are at most 28 characters).
func (m *Manager) portChain(network, containerID string) string {
	sum := sha256.Sum256([]byte(m.configDir + "\x00" + network + "\x00" + containerID))
	return "PEA-DN-" + hex.EncodeToString(sum[:])[:12]
}

func portComment(containerID string) string { return "pea ports " + containerID }

// portTarget is one address family of a container on a network: its address and subnet.
type portTarget struct {
	addr   netip.Addr
	subnet netip.Prefix
}

// multiportMax is how many ports one multiport match takes.
const multiportMax = 15

// hostPortRules returns the rules for ports published on t, as iptables-restore lines without
// their -A/-D: the chain's own, and the jumps and masquerades in the built-in chains. It
// returns no rules when no mapping applies to t's family.
func hostPortRules(chain, comment string, t portTarget, ports []PortMapping) (own, builtin []string) {
	v6 := t.addr.Is6()
	comm := "-m comment " + commentMatch(comment)
	var protos []string
	hostPorts := map[string][]string{}
	ctrPorts := map[string][]string{}
	for _, p := range ports {
		hostIP, ok := portHostIP(p.HostIP, v6)
		if !ok {
			continue
		}
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		dest := t.addr.String()
		if v6 {
			dest = "[" + dest + "]"
		}
		rule := chain
		if hostIP != "" {
			rule += " -d " + hostIP
		}
		rule += fmt.Sprintf(" -p %s -m %s --dport %d -j DNAT --to-destination %s:%d", proto, proto, p.HostPort, dest, p.ContainerPort)
		own = append(own, rule)
		if !slices.Contains(protos, proto) {
			protos = append(protos, proto)
		}
		if hp := strconv.Itoa(int(p.HostPort)); !slices.Contains(hostPorts[proto], hp) {
			hostPorts[proto] = append(hostPorts[proto], hp)
		}
		if cp := strconv.Itoa(int(p.ContainerPort)); !slices.Contains(ctrPorts[proto], cp) {
			ctrPorts[proto] = append(ctrPorts[proto], cp)
		}
	}
	ctrAddr := netip.PrefixFrom(t.addr, t.addr.BitLen()).String()
	sources := []string{t.subnet.Masked().String()}
	if !v6 {
		sources = append(sources, "127.0.0.0/8")
	}
	for _, proto := range protos {
		for hp := range slices.Chunk(hostPorts[proto], multiportMax) {
			jump := fmt.Sprintf(" -p %s -m addrtype --dst-type LOCAL -m multiport --dports %s %s -j %s", proto, strings.Join(hp, ","), comm, chain)
			builtin = append(builtin, "PREROUTING"+jump, "OUTPUT"+jump)
		}
		for cp := range slices.Chunk(ctrPorts[proto], multiportMax) {
			for _, src := range sources {
				builtin = append(builtin, fmt.Sprintf("POSTROUTING -s %s -d %s -p %s -m multiport --dports %s -m conntrack --ctstate DNAT %s -j MASQUERADE",
					src, ctrAddr, proto, strings.Join(cp, ","), comm))
			}
		}
	}
	return own, builtin
}

// portHostIP returns the -d address of a mapping's host IP in one family ("" for any address),
// and false when the mapping is for the other family.
func portHostIP(hostIP string, v6 bool) (string, bool) {
	if hostIP == "" {
		return "", true
	}
	a, err := netip.ParseAddr(hostIP)
	if err != nil {
		return "", false
	}
	a = a.Unmap()
	if a.Is6() != v6 {
		return "", false
	}
	if a.IsUnspecified() {
		return "", true
	}
	return netip.PrefixFrom(a, a.BitLen()).String(), true
}

// addPortsScript and delPortsScript are the iptables-restore input that makes and removes the
// rules. Declaring the chain empties it if a crashed earlier attachment left it behind.
func addPortsScript(chain string, own, builtin []string) string {
	var b strings.Builder
	b.WriteString("*nat\n:" + chain + " - [0:0]\n")
	for _, r := range own {
		b.WriteString("-A " + r + "\n")
	}
	for _, r := range builtin {
		b.WriteString("-A " + r + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

func delPortsScript(chain string, builtin []string) string {
	var b strings.Builder
	b.WriteString("*nat\n")
	for _, r := range builtin {
		b.WriteString("-D " + r + "\n")
	}
	b.WriteString("-F " + chain + "\n-X " + chain + "\nCOMMIT\n")
	return b.String()
}

// restore runs iptables-restore (or ip6tables-restore) on script, adding to the tables.
func restore(v6 bool, script string) error {
	bin, err := iptablesBin(v6, "-restore")
	if err != nil {
		return err
	}
	cmd := cpupin.Command(bin, "--noflush", "-w")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(bin), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// publishPorts makes the rules for a container's ports on network n, whose addresses are
// targets; on failure nothing is left.
func (m *Manager) publishPorts(n *Network, containerID string, targets []portTarget, ports []PortMapping) error {
	chain, comment := m.portChain(n.Name, containerID), portComment(containerID)
	var done []portTarget
	for _, t := range targets {
		own, builtin := hostPortRules(chain, comment, t, ports)
		if len(own) == 0 {
			continue
		}
		if t.addr.Is4() && needsRouteLocalnet(ports) && n.NetworkInterface != "" {
			// Ignored when it fails: only the host's own 127.0.0.1 connections need it.
			os.WriteFile(filepath.Join("/proc/sys/net/ipv4/conf", n.NetworkInterface, "route_localnet"), []byte("1"), 0o644)
		}
		if err := restore(t.addr.Is6(), addPortsScript(chain, own, builtin)); err != nil {
			m.unpublishPorts(n.Name, containerID, done, ports)
			return fmt.Errorf("network %s: publishing ports: %w", n.Name, err)
		}
		done = append(done, t)
		// Best effort, as portmap's: a flow it misses ends when its client pauses.
		forgetUDPFlows(t.addr.Is6(), ports)
	}
	return nil
}

// needsRouteLocalnet: a mapping for every host address or for a loopback one takes the host's
// connections to 127.0.0.1.
func needsRouteLocalnet(ports []PortMapping) bool {
	for _, p := range ports {
		if p.HostIP == "" || p.HostIP == "0.0.0.0" {
			return true
		}
		if a, err := netip.ParseAddr(p.HostIP); err == nil && a.Unmap().IsLoopback() {
			return true
		}
	}
	return false
}

// unpublishPorts removes the rules publishPorts made for targets. When a family's rules are not
// all there it sweeps that family for the container's rules instead, and with no targets (the
// addresses are not known any more) both families. Rules that are already gone are fine.
func (m *Manager) unpublishPorts(network, containerID string, targets []portTarget, ports []PortMapping) error {
	chain, comment := m.portChain(network, containerID), portComment(containerID)
	var errs []error
	for _, t := range targets {
		own, builtin := hostPortRules(chain, comment, t, ports)
		if len(own) == 0 {
			continue // no mapping of this family: publishPorts made nothing here
		}
		if restore(t.addr.Is6(), delPortsScript(chain, builtin)) != nil {
			if err := sweepPorts(t.addr.Is6(), chain, comment); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(targets) == 0 {
		for _, v6 := range []bool{false, true} {
			if err := sweepPorts(v6, chain, comment); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// sweepPorts removes, in one family, every nat rule with the container's comment and its
// chain, whatever they hold.
func sweepPorts(v6 bool, chain, comment string) error {
	match := commentMatch(comment)
	var b strings.Builder
	hasChain := false
	for _, line := range natRules(v6) {
		switch {
		case line == "-N "+chain:
			hasChain = true
		case strings.HasPrefix(line, "-A ") && strings.Contains(line, match) && !strings.HasPrefix(line, "-A "+chain+" "):
			b.WriteString("-D " + line[3:] + "\n")
		}
	}
	if hasChain {
		b.WriteString("-F " + chain + "\n-X " + chain + "\n")
	}
	if b.Len() == 0 {
		return nil
	}
	if err := restore(v6, "*nat\n"+b.String()+"COMMIT\n"); err != nil {
		return fmt.Errorf("removing published ports: %w", err)
	}
	return nil
}

// resultTargets returns the addresses a CNI result gives the interface ifname, one per family.
func resultTargets(res types.Result, ifname string) []portTarget {
	if res == nil {
		return nil
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil
	}
	idx := -1
	for i, ifc := range r.Interfaces {
		if ifc.Sandbox != "" && ifc.Name == ifname {
			idx = i
		}
	}
	var out []portTarget
	seen := map[bool]bool{}
	for _, ip := range r.IPs {
		if idx >= 0 && ip.Interface != nil && *ip.Interface != idx {
			continue
		}
		a, ok := netip.AddrFromSlice(ip.Address.IP)
		if !ok {
			continue
		}
		a = a.Unmap()
		ones, _ := ip.Address.Mask.Size()
		if seen[a.Is6()] {
			continue
		}
		seen[a.Is6()] = true
		out = append(out, portTarget{addr: a, subnet: netip.PrefixFrom(a, ones)})
	}
	return out
}

// capPorts reads the port mappings of a capability-argument map, as given or as cached (JSON).
func capPorts(caps map[string]any) []PortMapping {
	switch v := caps["portMappings"].(type) {
	case nil:
		return nil
	case []PortMapping:
		return v
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		var pms []PortMapping
		if json.Unmarshal(data, &pms) != nil {
			return nil
		}
		return pms
	}
}
