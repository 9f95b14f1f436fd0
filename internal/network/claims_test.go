package network

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// claimManagers makes n stores' managers sharing a claim registry of their own, apart from the
// host's, so that what they choose depends only on each other and the host's links and routes.
func claimManagers(t *testing.T, n int) ([]*Manager, string) {
	t.Helper()
	reg := filepath.Join(t.TempDir(), "claims")
	var ms []*Manager
	for range n {
		m := newTestManager(t)
		m.claimDir = reg
		ms = append(ms, m)
	}
	return ms, reg
}

// claimsIn returns the registry's claims as "kind key" -> the conflist each names.
func claimsIn(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	data, err := os.ReadFile(filepath.Join(dir, claimFile))
	if errors.Is(err, os.ErrNotExist) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range parseClaims(data) {
		out[c.kind+" "+c.key] = c.config
	}
	return out
}

func TestClaimsFormat(t *testing.T) {
	in := []claim{
		{kind: "bridge", key: "pea7", ino: 12, mtime: 1733040000123456789, config: "/var/lib/pea/networks/web.conflist"},
		{kind: "subnet", key: "10.90.1.0/24", prefix: netip.MustParsePrefix("10.90.1.0/24"), ino: 12, mtime: 1, config: "/tmp/a root\n\"x\"/networks/web.conflist"},
		{kind: "subnet", key: "fd12:3456:789a:1::/64", prefix: netip.MustParsePrefix("fd12:3456:789a:1::/64"), ino: 13, mtime: 2, config: "/r/networks/ds.conflist"},
	}
	data := formatClaims(in)
	// Lines pea cannot read claim nothing: a torn write, a relative path, a bad subnet.
	data = append(data, "bridge pea9 1 2 \"/r/networks/x.conflist\n"+
		"bridge pea9 1 2 \"networks/x.conflist\"\n"+
		"subnet 10.1.2.0 1 2 \"/r/networks/x.conflist\"\n"+
		"route pea9 1 2 \"/r/networks/x.conflist\"\n"+
		"bridge pea9 1 2\n"...)
	if got := parseClaims(data); !slices.Equal(got, in) {
		t.Errorf("parseClaims(formatClaims(x)) = %+v, want %+v", got, in)
	}
	if !strings.HasPrefix(string(data), "# ") {
		t.Errorf("no header line: %q", data)
	}
}

// TestClaimsKeepStoresApart: two stores whose networks have no bridge yet choose different
// bridge names and subnets, and neither may take the other's by name.
func TestClaimsKeepStoresApart(t *testing.T) {
	requireRoot(t)
	ms, reg := claimManagers(t, 2)
	a, b := ms[0], ms[1]
	na, err := a.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := b.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if na.NetworkInterface == nb.NetworkInterface || na.Subnets[0].Subnet == nb.Subnets[0].Subnet {
		t.Fatalf("two stores chose the same: %s %s and %s %s", na.NetworkInterface, na.Subnets[0].Subnet, nb.NetworkInterface, nb.Subnets[0].Subnet)
	}
	da, err := a.Default()
	if err != nil {
		t.Fatal(err)
	}
	db, err := b.Default()
	if err != nil {
		t.Fatal(err)
	}
	if da.NetworkInterface == db.NetworkInterface || netip.MustParsePrefix(da.Subnets[0].Subnet).Overlaps(netip.MustParsePrefix(db.Subnets[0].Subnet)) {
		t.Fatalf("two stores' default networks meet: %+v and %+v", da, db)
	}
	want := map[string]string{
		"bridge " + na.NetworkInterface:  a.absConfPath(na.Name),
		"subnet " + na.Subnets[0].Subnet: a.absConfPath(na.Name),
		"bridge " + nb.NetworkInterface:  b.absConfPath(nb.Name),
		"subnet " + nb.Subnets[0].Subnet: b.absConfPath(nb.Name),
		"bridge " + da.NetworkInterface:  a.absConfPath(DefaultName),
		"subnet " + db.Subnets[0].Subnet: b.absConfPath(DefaultName),
	}
	got := claimsIn(t, reg)
	for f, config := range want {
		if got[f] != config {
			t.Errorf("claim %s names %q, want %q (registry: %v)", f, got[f], config, got)
		}
	}
	refused := []CreateOptions{
		{Name: "x", NetworkInterface: na.NetworkInterface},
		{Name: "x", Subnets: []string{na.Subnets[0].Subnet}},
		{Name: "x", Subnets: []string{netip.MustParsePrefix(na.Subnets[0].Subnet).Addr().String() + "/28"}},
	}
	for _, o := range refused {
		_, err := b.Create(o)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "network "+na.Name+" of another store ("+a.absConfPath(na.Name)+")") {
			t.Errorf("Create(%+v) in the other store = %v, want it refused", o, err)
		}
	}
	// A macvlan network claims nothing: another store may use the same LAN subnet.
	if parent, err := defaultRouteInterface(); err == nil {
		for _, m := range []*Manager{a, b} {
			if _, err := m.Create(CreateOptions{Name: "lan", Driver: "macvlan", Parent: parent, Subnets: []string{testSubnet(20)}}); err != nil {
				t.Fatalf("macvlan on the same subnet in two stores: %v", err)
			}
		}
	}
}

// TestStaleClaimTakenOver: the claims of a network that is gone (its store deleted without a
// reset) do not hold; the next allocation deletes them and may take their names.
func TestStaleClaimTakenOver(t *testing.T) {
	requireRoot(t)
	ms, reg := claimManagers(t, 2)
	a, b := ms[0], ms[1]
	na, err := a.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The store goes without releasing anything; its NAT rules are the test's to remove.
	t.Cleanup(func() { a.removeMasq(na) })
	if err := os.Remove(a.confPath(na.Name)); err != nil {
		t.Fatal(err)
	}
	// A line a torn write left: it claims nothing.
	data, err := os.ReadFile(filepath.Join(reg, claimFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(reg, claimFile), append(data, "bridge "+unique("j")+" 1 2 \"/x"...), 0o644); err != nil {
		t.Fatal(err)
	}
	nb, err := b.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nb.NetworkInterface != na.NetworkInterface || nb.Subnets[0].Subnet != na.Subnets[0].Subnet {
		t.Errorf("stale claims on %s %s not taken over: got %s %s", na.NetworkInterface, na.Subnets[0].Subnet, nb.NetworkInterface, nb.Subnets[0].Subnet)
	}
	for f, config := range claimsIn(t, reg) {
		if config != b.absConfPath(nb.Name) {
			t.Errorf("claim %s names %q after the takeover, want only %s's", f, config, nb.Name)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(reg, claimFile)); strings.Contains(string(data), unique("j")) {
		t.Errorf("the torn line is still in the registry:\n%s", data)
	}

	// A network that no longer uses what it claimed (its conflist rewritten) holds nothing;
	// one whose conflist changed but still uses it holds, and its claim takes the new inode.
	r, err := b.claimRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer r.unlock()
	moved := *nb
	moved.NetworkInterface = unique("mv")
	if err := b.writeConflist(&moved); err != nil {
		t.Fatal(err)
	}
	for i := range r.claims {
		c := &r.claims[i]
		held := r.holds(c)
		if c.kind == "bridge" && held {
			t.Errorf("claim on %s holds for a network that uses %s", c.key, moved.NetworkInterface)
		}
		if c.kind == "subnet" {
			var st unix.Stat_t
			unix.Stat(c.config, &st)
			if !held || c.ino != st.Ino || c.mtime != st.Mtim.Nano() {
				t.Errorf("claim on %s: holds %v, inode %d (conflist's %d), want it held and updated", c.key, held, c.ino, st.Ino)
			}
		}
	}
	if err := b.writeConflist(nb); err != nil {
		t.Fatal(err)
	}
}

// TestClaimsReleased: removing a network releases its claims and no other's; ReleaseClaims
// (system reset) releases every claim of its store; the registry goes with its last claim.
func TestClaimsReleased(t *testing.T) {
	requireRoot(t)
	ms, reg := claimManagers(t, 2)
	a, b := ms[0], ms[1]
	var nets []*Network
	for _, m := range []*Manager{a, a, b} {
		n, err := m.Create(CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, n)
	}
	count := func(m *Manager) int {
		k := 0
		for _, config := range claimsIn(t, reg) {
			if filepath.Dir(config) == filepath.Dir(m.absConfPath("x")) {
				k++
			}
		}
		return k
	}
	if count(a) != 4 || count(b) != 2 {
		t.Fatalf("claims before: %v", claimsIn(t, reg))
	}
	if err := a.Remove(nets[0].Name); err != nil {
		t.Fatal(err)
	}
	got := claimsIn(t, reg)
	if _, ok := got["bridge "+nets[0].NetworkInterface]; ok || count(a) != 2 || count(b) != 2 {
		t.Fatalf("claims after removing %s: %v", nets[0].Name, got)
	}
	if err := a.ReleaseClaims(); err != nil {
		t.Fatal(err)
	}
	if count(a) != 0 || count(b) != 2 {
		t.Fatalf("claims after a's ReleaseClaims: %v", claimsIn(t, reg))
	}
	if err := b.Remove(nets[2].Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(reg); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("registry left after its last claim went: %v (%v)", err, claimsIn(t, reg))
	}
}

// TestRegistryLockAcrossRemoval: a process waiting for the registry while the holder removes
// it (empty) locks the directory made afresh, never the removed one.
func TestRegistryLockAcrossRemoval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "claims")
	first, err := lockRegistry(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *registry, 1)
	go func() {
		r, err := lockRegistry(dir)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("second lock taken while the first is held")
	case <-cpupin.After(100 * time.Millisecond):
	}
	first.unlock() // empty: removed
	second := <-got
	if second == nil {
		return
	}
	var locked, atPath unix.Stat_t
	if err := unix.Fstat(second.fd, &locked); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(dir, &atPath); err != nil || locked.Ino != atPath.Ino || locked.Nlink == 0 {
		t.Fatalf("the second holder locked a directory that is not the registry's (%v)", err)
	}
	second.claims = []claim{{kind: "bridge", key: "x", config: "/r/networks/x.conflist"}}
	second.dirty = true
	if err := second.save(); err != nil {
		t.Fatal(err)
	}
	second.unlock()
	if got := claimsIn(t, dir); got["bridge x"] != "/r/networks/x.conflist" {
		t.Fatalf("a registry with a claim in it: %v", got)
	}
}
