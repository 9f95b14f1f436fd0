package network

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHostPortRules: the rules for one address family of a container, as iptables-restore
// lines. Mappings for the other family's host IPs are left out, loopback sources are
// masqueraded only for IPv4, and more than 15 ports take more than one multiport match.
func TestHostPortRules(t *testing.T) {
	ports := []PortMapping{
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostPort: 8081, ContainerPort: 81, Protocol: "tcp"},
		{HostIP: "::1", HostPort: 8082, ContainerPort: 82, Protocol: "tcp"},
		{HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
	}
	c := `-m comment --comment "pea ports c1"`
	v4 := portTarget{netip.MustParseAddr("10.88.0.5"), netip.MustParsePrefix("10.88.0.5/24")}
	own, builtin := hostPortRules("PEA-DN-x", "pea ports c1", v4, ports)
	wantOwn := []string{
		"PEA-DN-x -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.5:80",
		"PEA-DN-x -p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.88.0.5:81",
		"PEA-DN-x -p udp -m udp --dport 5353 -j DNAT --to-destination 10.88.0.5:53",
	}
	wantBuiltin := []string{
		"PREROUTING -p tcp -m addrtype --dst-type LOCAL -m multiport --dports 8080,8081 " + c + " -j PEA-DN-x",
		"OUTPUT -p tcp -m addrtype --dst-type LOCAL -m multiport --dports 8080,8081 " + c + " -j PEA-DN-x",
		"POSTROUTING -s 10.88.0.0/24 -d 10.88.0.5/32 -p tcp -m multiport --dports 80,81 -m conntrack --ctstate DNAT " + c + " -j MASQUERADE",
		"POSTROUTING -s 127.0.0.0/8 -d 10.88.0.5/32 -p tcp -m multiport --dports 80,81 -m conntrack --ctstate DNAT " + c + " -j MASQUERADE",
		"PREROUTING -p udp -m addrtype --dst-type LOCAL -m multiport --dports 5353 " + c + " -j PEA-DN-x",
		"OUTPUT -p udp -m addrtype --dst-type LOCAL -m multiport --dports 5353 " + c + " -j PEA-DN-x",
		"POSTROUTING -s 10.88.0.0/24 -d 10.88.0.5/32 -p udp -m multiport --dports 53 -m conntrack --ctstate DNAT " + c + " -j MASQUERADE",
		"POSTROUTING -s 127.0.0.0/8 -d 10.88.0.5/32 -p udp -m multiport --dports 53 -m conntrack --ctstate DNAT " + c + " -j MASQUERADE",
	}
	if !slices.Equal(own, wantOwn) {
		t.Errorf("IPv4 chain rules:\n%s\nwant:\n%s", strings.Join(own, "\n"), strings.Join(wantOwn, "\n"))
	}
	if !slices.Equal(builtin, wantBuiltin) {
		t.Errorf("IPv4 built-in chain rules:\n%s\nwant:\n%s", strings.Join(builtin, "\n"), strings.Join(wantBuiltin, "\n"))
	}

	v6 := portTarget{netip.MustParseAddr("fd00::5"), netip.MustParsePrefix("fd00::5/64")}
	own, builtin = hostPortRules("PEA-DN-x", "pea ports c1", v6, ports)
	wantOwn = []string{
		"PEA-DN-x -p tcp -m tcp --dport 8081 -j DNAT --to-destination [fd00::5]:81",
		"PEA-DN-x -d ::1/128 -p tcp -m tcp --dport 8082 -j DNAT --to-destination [fd00::5]:82",
		"PEA-DN-x -p udp -m udp --dport 5353 -j DNAT --to-destination [fd00::5]:53",
	}
	if !slices.Equal(own, wantOwn) {
		t.Errorf("IPv6 chain rules:\n%s\nwant:\n%s", strings.Join(own, "\n"), strings.Join(wantOwn, "\n"))
	}
	for _, r := range builtin {
		if strings.Contains(r, "127.0.0.0/8") || strings.Contains(r, "10.88.") {
			t.Errorf("IPv6 rule with an IPv4 address: %s", r)
		}
	}
	if own, builtin := hostPortRules("PEA-DN-x", "pea ports c1", v6, ports[:1]); len(own)+len(builtin) != 0 {
		t.Errorf("an IPv4 host IP gave IPv6 rules: %v %v", own, builtin)
	}

	var many []PortMapping
	for i := range 20 {
		many = append(many, PortMapping{HostPort: uint16(9000 + i), ContainerPort: uint16(9000 + i), Protocol: "tcp"})
	}
	_, builtin = hostPortRules("PEA-DN-x", "pea ports c1", v4, many)
	var jumps []string
	for _, r := range builtin {
		if strings.HasPrefix(r, "PREROUTING") {
			jumps = append(jumps, r)
		}
	}
	if len(jumps) != 2 || !strings.Contains(jumps[0], "--dports 9000,9001,") || !strings.Contains(jumps[0], ",9014 ") ||
		!strings.Contains(jumps[1], "--dports 9015,9016,9017,9018,9019 ") {
		t.Errorf("20 ports: PREROUTING jumps %q, want 15 ports then 5", jumps)
	}
}

// TestUnpublishSweepsWhatIsLeft: when some of a container's port rules are gone (a host
// firewall reload, a hand), the exact removal fails as a whole, and Teardown sweeps the rest by
// their comment instead of leaving them.
func TestUnpublishSweepsWhatIsLeft(t *testing.T) {
	m, n, o := attachPublished(t, "sw", 4)
	ctx, id := context.Background(), o.ContainerID
	chain := m.portChain(n.Name, id)
	ours := func() []string {
		var out []string
		for _, l := range iptablesRules(t) {
			if strings.Contains(l, id) || strings.Contains(l, chain) {
				out = append(out, l)
			}
		}
		return out
	}
	rules := ours()
	var jump string
	for _, l := range rules {
		if r, ok := strings.CutPrefix(l, "iptables-save -A OUTPUT "); ok {
			jump = "OUTPUT " + r
		}
	}
	if jump == "" || len(rules) < 5 {
		t.Fatalf("rules after Setup:\n%s", strings.Join(rules, "\n"))
	}
	// Take one rule away by hand.
	if err := restore(false, "*nat\n-D "+jump+"\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(ctx, o); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	if left := ours(); len(left) > 0 {
		t.Fatalf("rules left after Teardown:\n%s", strings.Join(left, "\n"))
	}
}

// attachPublished attaches a namespace, on a network of its own (subnet k), with a port
// published on 127.0.0.1; Teardown runs at the end of the test too.
func attachPublished(t *testing.T, tag string, k int) (*Manager, *Network, AttachOptions) {
	t.Helper()
	requireRoot(t)
	m := newTestManager(t)
	n := createTestNet(t, m, CreateOptions{Name: unique(tag), Subnets: []string{testSubnet(k)}, NetworkInterface: unique("b" + tag)})
	ports, err := ParsePublish("127.0.0.1::80")
	if err != nil {
		t.Fatal(err)
	}
	o := AttachOptions{ContainerID: unique(tag) + "cccc", NetNSPath: newTestNS(t, m, tag), Networks: []string{n.Name}, Ports: ports}
	if _, err := m.Setup(context.Background(), o); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() { m.Teardown(context.Background(), o) })
	return m, n, o
}

// TestUpdatePortsMovesRules: UpdatePorts takes the old port's rules away and publishes the new
// one on the same address; Teardown then removes the new one's.
func TestUpdatePortsMovesRules(t *testing.T) {
	m, n, o := attachPublished(t, "up", 5)
	ctx, id, first := context.Background(), o.ContainerID, o.Ports
	l := listenIn(t, o.NetNSPath, ":80")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "hello")
			c.Close()
		}
	}()
	answers := func(port uint16) bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		return err == nil && line == "hello\n"
	}
	if !answers(first[0].HostPort) {
		t.Fatalf("port %d does not answer after Setup", first[0].HostPort)
	}
	second, err := ParsePublish("127.0.0.1::80")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.UpdatePorts(ctx, id, second); err != nil {
		t.Fatalf("UpdatePorts: %v", err)
	}
	if !answers(second[0].HostPort) {
		t.Errorf("new port %d does not answer", second[0].HostPort)
	}
	if answers(first[0].HostPort) {
		t.Errorf("old port %d still answers", first[0].HostPort)
	}
	if got := capPortsOf(t, m, id); !slices.Equal(got, second) {
		t.Errorf("cached ports %v, want %v", got, second)
	}
	if err := m.Teardown(ctx, o); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	for _, line := range iptablesRules(t) {
		if strings.Contains(line, id) || strings.Contains(line, m.portChain(n.Name, id)) {
			t.Errorf("rule left after Teardown: %s", line)
		}
	}
}

func capPortsOf(t *testing.T, m *Manager, id string) []PortMapping {
	t.Helper()
	atts, err := m.cniConfig().GetCachedAttachments(id)
	if err != nil || len(atts) != 1 {
		t.Fatalf("cached attachments of %s: %v, %v", id, atts, err)
	}
	return capPorts(atts[0].CapabilityArgs)
}

// TestForgetUDPFlows: a UDP flow to a host port, tracked before the port is published, is
// forgotten by forgetUDPFlows, so that its next packets meet the new DNAT rule; one to another
// port is kept, also when that port is published for IPv6 or TCP, or on another address.
func TestForgetUDPFlows(t *testing.T) {
	requireRoot(t)
	// Flows are tracked only while a rule needs connection tracking (a NAT target, a
	// conntrack match): on a host with a published port or another engine's masquerade, one
	// does; make sure with a rule of our own that matches nothing. A rule in the nat table that
	// uses no such expression is not enough (Linux 6.18 with iptables-nft: the test failed once
	// the host had no other such rule left).
	tag := unique("ct")
	rule := []string{"-w", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "--dport", "9", "-m", "conntrack", "--ctstate", "NEW",
		"-m", "comment", "--comment", tag, "-j", "RETURN"}
	if out, err := exec.Command("iptables", rule...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v: %s", err, out)
	}
	t.Cleanup(func() {
		rule[3] = "-D"
		exec.Command("iptables", rule...).Run()
	})
	send := func() (uint16, uint16) {
		// Two free ports: bind and let go, then send to them with nothing listening.
		var ports [2]uint16
		for i := range ports {
			l, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ports[i] = uint16(l.LocalAddr().(*net.UDPAddr).Port)
			l.Close()
		}
		for _, p := range ports {
			c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("x"))
			c.Close()
		}
		return ports[0], ports[1]
	}
	gone, kept := send()
	tracked := func(port uint16) bool {
		flows, err := dumpUDPFlows(false)
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		for _, f := range flows {
			if f.port == port && f.dst == netip.MustParseAddr("127.0.0.1") {
				return true
			}
		}
		return false
	}
	if !tracked(gone) || !tracked(kept) {
		t.Fatalf("flows to %d and %d are not tracked (is conntrack on?)", gone, kept)
	}
	if err := forgetUDPFlows(false, []PortMapping{{HostIP: "127.0.0.1", HostPort: gone, Protocol: "udp"}, {HostIP: "::1", HostPort: kept, Protocol: "udp"}, {HostPort: kept, Protocol: "tcp"}}); err != nil {
		t.Fatalf("forgetUDPFlows: %v", err)
	}
	if tracked(gone) {
		t.Errorf("flow to %d still tracked", gone)
	}
	if !tracked(kept) {
		t.Errorf("flow to %d, another port, was forgotten", kept)
	}
	if err := forgetUDPFlows(false, []PortMapping{{HostIP: "127.0.0.2", HostPort: kept, Protocol: "udp"}}); err != nil || !tracked(kept) {
		t.Errorf("a flow to another host address was forgotten (%v)", err)
	}
}
