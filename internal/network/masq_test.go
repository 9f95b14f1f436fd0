package network

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOutboundNATPerNetwork: a container's connection to an address outside its network leaves
// the host with the host's address (pea's per-network masquerade), and the rules go with the
// network. The "outside" is a namespace made here, joined to the host by a veth pair.
func TestOutboundNATPerNetwork(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := newTestManager(t)
	name := unique("nat")
	probe := &Network{Name: name}
	t.Cleanup(func() { // runs after the network's own clean-up has removed it
		rules, _ := exec.Command("iptables-save").Output()
		for _, chain := range []string{m.masqChain(probe, testSubnet(5)), m.fwdChain(probe, testSubnet(5))} {
			if strings.Contains(string(rules), chain) {
				t.Errorf("chain %s left after the network was removed", chain)
			}
		}
	})
	n := createTestNet(t, m, CreateOptions{Name: name, Subnets: []string{testSubnet(5)}, NetworkInterface: unique("b5")})
	if !m.masqPresent(n) {
		t.Fatal("Create made no NAT rules")
	}
	// The forward jump comes first, before any DROP a host firewall may have.
	out, _ := exec.Command("iptables", "-w", "-S", "FORWARD").Output()
	var rules []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "-A FORWARD") {
			rules = append(rules, l)
		}
	}
	if len(rules) == 0 || !strings.Contains(rules[0], m.fwdChain(n, n.Subnets[0].Subnet)) {
		t.Fatalf("pea's forward jump is not first: %v", rules)
	}
	outside := newTestNS(t, m, "outside")
	hostEnd, nsEnd := unique("vo"), unique("vi")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	third := 200 + (5+len(hostEnd))%50
	hostIP, outIP := fmt.Sprintf("198.51.%d.1", third), fmt.Sprintf("198.51.%d.2", third)
	run("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd)
	t.Cleanup(func() { exec.Command("ip", "link", "del", hostEnd).Run() })
	run("ip", "link", "set", nsEnd, "netns", outside)
	run("ip", "addr", "add", hostIP+"/24", "dev", hostEnd)
	run("ip", "link", "set", hostEnd, "up")
	run("nsenter", "--net="+outside, "ip", "addr", "add", outIP+"/24", "dev", nsEnd)
	run("nsenter", "--net="+outside, "ip", "link", "set", nsEnd, "up")
	l := listenIn(t, outside, outIP+":9999")

	ctr := newTestNS(t, m, "ctr")
	o := AttachOptions{ContainerID: unique("natc"), NetNSPath: ctr, Networks: []string{n.Name}}
	st, err := m.Setup(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Teardown(ctx, o)
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Close()
	}()
	if out, err := inNS(t, ctr, "/bin/busybox", "sh", "-c", "echo hi | nc "+outIP+" 9999"); err != nil {
		t.Fatalf("connect out: %v %s", err, out)
	}
	select {
	case src := <-got:
		if src != hostIP {
			t.Fatalf("the outside saw %s, want the host's %s (container %s)", src, hostIP, st[0].IP)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection arrived")
	}
}

// TestStoresKeepTheirOwnChains: two stores with a network of the same name and subnet each get
// their own chains, and removing one leaves the other's. The claim registry refuses the second
// store that subnet now; networks made before it may still share one (b's conflist is written
// directly, as an older pea wrote it).
func TestStoresKeepTheirOwnChains(t *testing.T) {
	requireRoot(t)
	a, b := newTestManager(t), newTestManager(t)
	name := unique("twin")
	na := createTestNet(t, a, CreateOptions{Name: name, Subnets: []string{testSubnet(6)}, NetworkInterface: unique("ta")})
	nb := &Network{Name: name, ID: networkID(name), Driver: "bridge", NetworkInterface: unique("tb"), Subnets: []Subnet{{Subnet: testSubnet(6)}}}
	if err := b.writeConflist(nb); err != nil {
		t.Fatal(err)
	}
	if err := b.withLock(func() error { return b.ensureMasq(nb) }); err != nil {
		t.Fatal(err)
	}
	if a.masqChain(na, testSubnet(6)) == b.masqChain(nb, testSubnet(6)) {
		t.Fatal("two stores share a chain")
	}
	if err := b.Remove(name); err != nil {
		t.Fatal(err)
	}
	if !a.masqPresent(na) {
		t.Fatal("removing one store's network took the other's rules")
	}
}

// TestMasqCheckSkippedWhileRulesetUnchanged: once an attachment found the network's chains in
// place, the next one skips the iptables check while the nftables generation has not moved; a
// flush of the forward jump (a firewall reload) moves it, and the next attachment puts the
// chains back.
func TestMasqCheckSkippedWhileRulesetUnchanged(t *testing.T) {
	requireRoot(t)
	if _, ok := nftGeneration(); !ok {
		t.Skip("iptables does not write to nftables here")
	}
	ctx := context.Background()
	m := newTestManager(t)
	n := createTestNet(t, m, CreateOptions{Name: unique("gen"), Subnets: []string{testSubnet(3)}, NetworkInterface: unique("bg")})
	ns := newTestNS(t, m, "gen")
	o := AttachOptions{ContainerID: unique("gen") + "eeee", NetNSPath: ns, Networks: []string{n.Name}}
	attach := func() int {
		t.Helper()
		before := masqChecks.Load()
		if _, err := m.Setup(ctx, o); err != nil {
			t.Fatalf("Setup: %v", err)
		}
		if err := m.Teardown(ctx, o); err != nil {
			t.Fatalf("Teardown: %v", err)
		}
		return int(masqChecks.Load() - before)
	}
	attach() // records the generation
	// Another process may change the ruleset meanwhile (then a check is due): try a few times.
	for try := 0; ; try++ {
		g0, _ := nftGeneration()
		got := attach()
		if g1, _ := nftGeneration(); g1 != g0 && try < 5 {
			continue
		}
		if got != 0 {
			t.Errorf("attachment with the ruleset unchanged made %d iptables checks, want 0", got)
		}
		break
	}
	jump := m.fwdJumpArgs("-D", n, n.Subnets[0].Subnet)
	if out, err := exec.Command("iptables", jump...).CombinedOutput(); err != nil {
		t.Fatalf("iptables %v: %v: %s", jump, err, out)
	}
	if got := attach(); got < 1 {
		t.Errorf("attachment after a flush made %d iptables checks, want 1", got)
	}
	if !m.masqPresent(n) {
		t.Errorf("the forward jump was not put back")
	}
}

// TestSweepMasquerade: the rules the bridge plugin's ipMasq made for an attachment (a jump from
// POSTROUTING per address, to a chain of its own; each rule with the attachment's comment) are
// removed with the chain, in both families, and another attachment's are left alone.
func TestSweepMasquerade(t *testing.T) {
	requireRoot(t)
	nw, id, other := unique("sm"), unique("ctra"), unique("ctrb")
	type masq struct {
		v6                        bool
		chain, src, dst, excluded string
		comment                   string
	}
	mk := func(v6 bool, chain, ctr, src, dst, excluded string) masq {
		return masq{v6, chain, src, dst, excluded, fmt.Sprintf("name: %q id: %q", nw, ctr)}
	}
	ours := []masq{
		mk(false, "CNI-"+unique("sma"), id, "10.254.7.5/32", "10.254.7.0/24", "224.0.0.0/4"),
		mk(true, "CNI-"+unique("sma"), id, "fd00:254:7::5/128", "fd00:254:7::/64", "ff00::/8"),
	}
	theirs := mk(false, "CNI-"+unique("smb"), other, "10.254.7.6/32", "10.254.7.0/24", "224.0.0.0/4")
	add := func(p masq) string {
		c := strconv.Quote(p.comment)
		return fmt.Sprintf("*nat\n:%s - [0:0]\n-A %s -d %s -m comment --comment %s -j ACCEPT\n-A %s ! -d %s -m comment --comment %s -j MASQUERADE\n-A POSTROUTING -s %s -m comment --comment %s -j %s\nCOMMIT\n",
			p.chain, p.chain, p.dst, c, p.chain, p.excluded, c, p.src, c, p.chain)
	}
	del := func(p masq) string {
		return fmt.Sprintf("*nat\n-D POSTROUTING -s %s -m comment --comment %s -j %s\n-F %s\n-X %s\nCOMMIT\n", p.src, strconv.Quote(p.comment), p.chain, p.chain, p.chain)
	}
	for _, p := range append(ours, theirs) {
		if err := restore(p.v6, add(p)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { restore(p.v6, del(p)) })
	}
	// A second address of the attachment jumps to the same chain.
	second := ours[0]
	second.src = "10.254.7.9/32"
	if err := restore(false, fmt.Sprintf("*nat\n-A POSTROUTING -s %s -m comment --comment %s -j %s\nCOMMIT\n", second.src, strconv.Quote(second.comment), second.chain)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { restore(false, del(second)) })
	if err := sweepMasquerade(nw, id); err != nil {
		t.Fatalf("sweepMasquerade: %v", err)
	}
	left := 0
	for _, l := range iptablesRules(t) {
		if strings.Contains(l, id) || strings.Contains(l, ours[0].chain) {
			t.Errorf("left after the sweep: %s", l)
		}
		if strings.Contains(l, theirs.chain) {
			left++
		}
	}
	if left != 4 { // the chain, its two rules and the jump
		t.Errorf("another attachment's rules: %d of 4 left", left)
	}
}
