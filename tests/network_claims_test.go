package tests

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// netInfo is what a bridge network chose: its bridge, its (first) subnet and gateway.
type netInfo struct {
	bridge  string
	subnet  netip.Prefix
	gateway string
}

func inspectNet(t *testing.T, e *Env, name string) netInfo {
	t.Helper()
	out := e.Pea("network", "inspect", name, "--format", "{{.NetworkInterface}} {{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}")
	f := strings.Fields(out)
	if len(f) != 3 {
		t.Fatalf("network inspect %s: %q", name, out)
	}
	p, err := netip.ParsePrefix(f[1])
	if err != nil {
		t.Fatalf("network inspect %s: %q: %v", name, out, err)
	}
	return netInfo{bridge: f[0], subnet: p, gateway: f[2]}
}

func (n netInfo) String() string { return n.bridge + " " + n.subnet.String() + " gw " + n.gateway }

// claims are the registry's claims for what n chose.
func (n netInfo) claims() []string {
	return []string{"bridge " + n.bridge, "subnet " + n.subnet.String()}
}

// masterOf returns the bridge the host link with this index is enslaved to.
func masterOf(t *testing.T, index string) string {
	t.Helper()
	out, _ := exec.Command("ip", "-o", "link").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, index+": ") {
			continue
		}
		f := strings.Fields(l)
		if i := slices.Index(f, "master"); i >= 0 && i+1 < len(f) {
			return f[i+1]
		}
		return ""
	}
	t.Fatalf("no host link %s", index)
	return ""
}

// bridgeAddrs returns the IPv4 addresses on a host link.
func bridgeAddrs(name string) []string {
	out, _ := exec.Command("ip", "-o", "-4", "addr", "show", "dev", name).Output()
	var addrs []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if i := slices.Index(f, "inet"); i >= 0 && i+1 < len(f) {
			addrs = append(addrs, strings.Split(f[i+1], "/")[0])
		}
	}
	return addrs
}

func linkNamed(name string) bool {
	_, err := os.Lstat("/sys/class/net/" + name)
	return err == nil
}

// TestNetworkClaimsTwoStores: two stores' networks made while neither has a bridge yet get
// different bridges and subnets (pea's host-wide claims), neither store may take the other's by
// name, their containers each sit on their own bridge, and network rm and system reset give the
// claims back.
func TestNetworkClaimsTwoStores(t *testing.T) {
	a, b := newEnv(t).withBusybox(), newEnv(t).withBusybox()
	a.Pea("network", "create", "claimnet-a")
	b.Pea("network", "create", "claimnet-b")
	na, nb := inspectNet(t, a, "claimnet-a"), inspectNet(t, b, "claimnet-b")
	if na.bridge == nb.bridge || na.subnet.Overlaps(nb.subnet) {
		t.Fatalf("two stores chose alike: %+v and %+v", na, nb)
	}
	for _, c := range []struct {
		e *Env
		n netInfo
	}{{a, na}, {b, nb}} {
		if linkNamed(c.n.bridge) {
			t.Fatalf("bridge %s exists before any container joined its network", c.n.bridge)
		}
		if got := storeClaims(c.e.Root); !sameSet(got, c.n.claims()) {
			t.Fatalf("store %s claims %v, want %v", c.e.Root, got, c.n.claims())
		}
	}
	r := b.Fails(125, "network", "create", "--interface-name", na.bridge, "claimnet-x")
	if !strings.Contains(r.Stderr, "network claimnet-a of another store") {
		t.Errorf("another store's bridge name: %s", r)
	}
	r = b.Fails(125, "network", "create", "--subnet", na.subnet.String(), "claimnet-x")
	if !strings.Contains(r.Stderr, "overlaps with network claimnet-a of another store") {
		t.Errorf("another store's subnet: %s", r)
	}

	a.Pea("run", "-d", "--name", "k1", "--cap-add", "NET_RAW", "--network", "claimnet-a", "localhost/bb", "sleep", "300")
	b.Pea("run", "-d", "--name", "k2", "--cap-add", "NET_RAW", "--network", "claimnet-b", "localhost/bb", "sleep", "300")
	onOwnBridge := func(e *Env, ctr string, own, other netInfo) {
		t.Helper()
		if got := masterOf(t, hostPeer(t, e, ctr)); got != own.bridge {
			t.Errorf("%s's interface is on bridge %q, want %s", ctr, got, own.bridge)
		}
		if addrs := bridgeAddrs(own.bridge); !slices.Equal(addrs, []string{own.gateway}) {
			t.Errorf("bridge %s has addresses %v, want only its network's gateway %s", own.bridge, addrs, own.gateway)
		}
		if out := e.Pea("exec", ctr, "ip", "-4", "route", "show", "default"); !strings.Contains(out, "via "+own.gateway+" ") {
			t.Errorf("%s's default route %q is not through its gateway %s", ctr, out, own.gateway)
		}
		if r := e.Try("exec", ctr, "ping", "-c", "1", "-W", "2", own.gateway); r.Code != 0 {
			t.Errorf("%s cannot reach its bridge %s at %s: %s", ctr, own.bridge, own.gateway, r)
		}
		if slices.Contains(bridgeAddrs(own.bridge), other.gateway) {
			t.Errorf("%s's bridge %s carries the other store's gateway %s", ctr, own.bridge, other.gateway)
		}
	}
	onOwnBridge(a, "k1", na, nb)
	onOwnBridge(b, "k2", nb, na)

	// network rm gives back A's claims and A's bridge, and leaves B's.
	a.Pea("network", "rm", "-f", "-t", "0", "claimnet-a")
	if got := storeClaims(a.Root); slices.ContainsFunc(got, func(f string) bool { return slices.Contains(na.claims(), f) }) {
		t.Errorf("claims left after network rm: %v", got)
	}
	if linkNamed(na.bridge) {
		t.Errorf("bridge %s left after its network was removed", na.bridge)
	}
	if got := storeClaims(b.Root); !sameSet(got, nb.claims()) {
		t.Errorf("B's claims after A's network rm: %v, want %v", got, nb.claims())
	}
	onOwnBridge(b, "k2", nb, na)

	// system reset gives back every claim of the store.
	b.Pea("system", "reset", "-f")
	if got := storeClaims(b.Root); len(got) > 0 {
		t.Errorf("claims left after system reset: %v", got)
	}
	if linkNamed(nb.bridge) {
		t.Errorf("bridge %s left after system reset", nb.bridge)
	}
}

// TestNetworkClaimOfDeletedStoreTakenOver: a store deleted without system reset leaves claims
// that no longer hold; the next network created on the host deletes them and may take the
// bridge name and subnet.
func TestNetworkClaimOfDeletedStoreTakenOver(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	// --internal: no NAT rules, so deleting the store leaves nothing else on the host.
	a.Pea("network", "create", "--internal", "claimnet-old")
	old := inspectNet(t, a, "claimnet-old")
	if got := storeClaims(a.Root); !sameSet(got, old.claims()) {
		t.Fatalf("claims %v, want %v", got, old.claims())
	}
	if err := os.RemoveAll(filepath.Dir(a.Root)); err != nil {
		t.Fatal(err)
	}
	b.Pea("network", "create", "--internal", "claimnet-new")
	if got := storeClaims(a.Root); len(got) > 0 {
		t.Errorf("stale claims of the deleted store not swept: %v", got)
	}
	got := inspectNet(t, b, "claimnet-new")
	// What another process on the host took meanwhile (a link, a route) is skipped: only then
	// may the choice differ.
	if got.bridge != old.bridge && !linkNamed(old.bridge) {
		t.Errorf("bridge %s of the deleted store not taken over: got %s", old.bridge, got.bridge)
	}
	if route, _ := exec.Command("ip", "route", "show", old.subnet.String()).Output(); got.subnet != old.subnet && len(route) == 0 {
		t.Errorf("subnet %s of the deleted store not taken over: got %s", old.subnet, got.subnet)
	}
	if claims := storeClaims(b.Root); !sameSet(claims, got.claims()) {
		t.Errorf("claims of the new network: %v, want %v", claims, got.claims())
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestDeletedStoreNetworkTakenDown: a store deleted by hand leaves its network's bridge and its
// NAT and forwarding chains on the host; the next network created anywhere on the host, which
// drops the store's stale claims, takes them down too. Another store's network of the same
// name, in use, keeps its bridge and chains.
func TestDeletedStoreNetworkTakenDown(t *testing.T) {
	a, c := newEnv(t).withBusybox(), newEnv(t).withBusybox()
	a.Pea("network", "create", "orphnet")
	c.Pea("network", "create", "orphnet")
	a.Pea("run", "--rm", "--network", "orphnet", "localhost/bb", "true")
	c.Pea("run", "-d", "--name", "stays", "--network", "orphnet", "localhost/bb", "sleep", "300")
	na, nc := inspectNet(t, a, "orphnet"), inspectNet(t, c, "orphnet")
	chainsOf := func(n netInfo) []string {
		var out []string
		for _, table := range []string{"filter", "nat"} {
			rules, _ := exec.Command("iptables", "-w", "-t", table, "-S").Output()
			for _, l := range strings.Split(string(rules), "\n") {
				if f := strings.Fields(l); len(f) > 1 && f[0] == "-N" && strings.HasPrefix(f[1], "PEA-") && (strings.Contains(string(rules), "-A "+f[1]+" -s "+n.subnet.String()) || strings.Contains(string(rules), "-A "+f[1]+" -d "+n.subnet.String())) {
					out = append(out, table+" "+f[1])
				}
			}
		}
		return out
	}
	orphan, kept := chainsOf(na), chainsOf(nc)
	if !linkNamed(na.bridge) || len(orphan) != 2 || len(kept) != 2 {
		t.Fatalf("before: bridge %s present %v, chains of the store to delete %v, of the other %v", na.bridge, linkNamed(na.bridge), orphan, kept)
	}
	if err := os.RemoveAll(filepath.Dir(a.Root)); err != nil {
		t.Fatal(err)
	}
	b := newEnv(t)
	b.Pea("network", "create", "--internal", "claimnet-next")
	if linkNamed(na.bridge) {
		t.Errorf("bridge %s of the deleted store's network is still there", na.bridge)
	}
	if left := chainsOf(na); len(left) > 0 {
		t.Errorf("chains of the deleted store's network left: %v", left)
	}
	if !linkNamed(nc.bridge) || !slices.Equal(chainsOf(nc), kept) {
		t.Errorf("the other store's network lost its bridge %s (present %v) or chains %v (now %v)", nc.bridge, linkNamed(nc.bridge), kept, chainsOf(nc))
	}
	if out := c.Pea("exec", "stays", "ip", "-4", "route", "show", "default"); !strings.Contains(out, "via "+nc.gateway+" ") {
		t.Errorf("the other store's container lost its route: %q", out)
	}
}
