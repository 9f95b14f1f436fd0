package network

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"

	"pea/internal/errdefs"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestConflistGolden(t *testing.T) {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		file string
		n    Network
	}{
		{"bridge.conflist", Network{
			Name: "web", ID: networkID("web"), Driver: "bridge", NetworkInterface: "pea1", Created: created, DNSEnabled: true,
			Subnets: []Subnet{{Subnet: "10.90.1.0/24", Gateway: "10.90.1.1", LeaseRange: &LeaseRange{StartIP: "10.90.1.128", EndIP: "10.90.1.254"}}},
			Labels:  map[string]string{"app": "web"}, Options: map[string]string{"mtu": "1400"},
		}},
		{"internal.conflist", Network{
			Name: "back", ID: networkID("back"), Driver: "bridge", NetworkInterface: "pea2", Created: created, Internal: true,
			Subnets: []Subnet{{Subnet: "10.90.2.0/24", Gateway: "10.90.2.1"}},
		}},
		{"dualstack.conflist", Network{
			Name: "ds", ID: networkID("ds"), Driver: "bridge", NetworkInterface: "pea3", Created: created, DNSEnabled: true, IPv6Enabled: true,
			Subnets: []Subnet{{Subnet: "10.90.3.0/24", Gateway: "10.90.3.1"}, {Subnet: "fd12:3456:789a:1::/64", Gateway: "fd12:3456:789a:1::1"}},
		}},
		{"macvlan.conflist", Network{
			Name: "lan", ID: networkID("lan"), Driver: "macvlan", NetworkInterface: "eth0", Created: created, DNSEnabled: true,
			Subnets: []Subnet{{Subnet: "192.168.1.0/24", Gateway: "192.168.1.1"}}, Options: map[string]string{"mode": "bridge"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := conflistBytes(&tc.n)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("conflist differs from %s (run with -update if intended):\n%s", golden, got)
			}
			back, err := parseConflist(got, time.Time{})
			if err != nil {
				t.Fatalf("parse back: %v", err)
			}
			bs, ws := back.Subnets[0], tc.n.Subnets[0]
			if back.Name != tc.n.Name || back.ID != tc.n.ID || back.Driver != tc.n.Driver ||
				back.NetworkInterface != tc.n.NetworkInterface || back.Internal != tc.n.Internal ||
				!back.Created.Equal(created) || bs.Subnet != ws.Subnet || bs.Gateway != ws.Gateway ||
				(ws.LeaseRange != nil) != (bs.LeaseRange != nil) || ws.LeaseRange != nil && *bs.LeaseRange != *ws.LeaseRange {
				t.Errorf("parse back = %+v, want %+v", back, tc.n)
			}
		})
	}
}

func TestCreateGetListRemove(t *testing.T) {
	m := newTestManager(t)

	// Auto name and subnet: the first free /24 above 10.90.0.0/24 (kept for the default).
	auto, err := m.Create(CreateOptions{})
	if err != nil {
		t.Fatalf("Create auto: %v", err)
	}
	sub := netip.MustParsePrefix(auto.Subnets[0].Subnet)
	if auto.Name != "pea1" || auto.Driver != "bridge" || sub.Bits() != 24 || sub == netip.MustParsePrefix("10.90.0.0/24") ||
		!netip.MustParsePrefix("10.90.0.0/15").Contains(sub.Addr()) && !strings.HasPrefix(sub.String(), "10.") {
		t.Errorf("auto network = %+v", auto)
	}
	if auto.Subnets[0].Gateway != sub.Addr().Next().String() || len(auto.ID) != 64 {
		t.Errorf("auto gateway %s, ID %q", auto.Subnets[0].Gateway, auto.ID)
	}
	if auto.NetworkInterface == defaultBridge || !strings.HasPrefix(auto.NetworkInterface, "pea") {
		t.Errorf("auto bridge name %q", auto.NetworkInterface)
	}

	explicit, err := m.Create(CreateOptions{Name: "web", Subnets: []string{"10.199.250.7/24"}, Gateways: []string{"10.199.250.254"},
		IPRanges: []string{"10.199.250.128/25"}, Labels: map[string]string{"app": "web"}, NetworkInterface: unique("w")})
	if err != nil {
		t.Fatalf("Create explicit: %v", err)
	}
	want := Subnet{Subnet: "10.199.250.0/24", Gateway: "10.199.250.254", LeaseRange: &LeaseRange{"10.199.250.128", "10.199.250.254"}}
	if got := explicit.Subnets[0]; got.Subnet != want.Subnet || got.Gateway != want.Gateway || *got.LeaseRange != *want.LeaseRange {
		t.Errorf("explicit subnet = %+v, want %+v", got, want)
	}

	again, err := m.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Name != "pea2" || again.Subnets[0].Subnet == auto.Subnets[0].Subnet || again.NetworkInterface == auto.NetworkInterface {
		t.Errorf("second auto network %+v collides with %+v", again, auto)
	}

	bad := []struct {
		name  string
		o     CreateOptions
		class error
		msg   string
	}{
		{"overlap", CreateOptions{Name: "x", Subnets: []string{"10.199.250.128/25"}}, errdefs.ErrInvalid, "subnet 10.199.250.128/25 overlaps with network web"},
		{"gateway outside", CreateOptions{Name: "x", Subnets: []string{"10.199.251.0/24"}, Gateways: []string{"10.199.252.1"}}, errdefs.ErrInvalid, "outside subnet"},
		{"range outside", CreateOptions{Name: "x", Subnets: []string{"10.199.251.0/24"}, IPRanges: []string{"10.199.0.0/24"}}, errdefs.ErrInvalid, "outside subnet"},
		{"bad subnet", CreateOptions{Name: "x", Subnets: []string{"10.199.251.0"}}, errdefs.ErrInvalid, "want a CIDR"},
		{"exists", CreateOptions{Name: "web"}, errdefs.ErrExists, "web"},
		{"bad name", CreateOptions{Name: "no/slash"}, errdefs.ErrInvalid, "network name"},
		{"bad driver", CreateOptions{Name: "x", Driver: "overlay"}, errdefs.ErrInvalid, "driver"},
		{"bad option", CreateOptions{Name: "x", Options: map[string]string{"color": "red"}}, errdefs.ErrInvalid, "color"},
		{"bridge name taken", CreateOptions{Name: "x", NetworkInterface: explicit.NetworkInterface}, errdefs.ErrInvalid, "already used"},
		{"missing parent", CreateOptions{Name: "x", Driver: "macvlan", Parent: "nosuchlink0"}, errdefs.ErrInvalid, "does not exist"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Create(tc.o)
			if !errors.Is(err, tc.class) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Create(%+v) = %v, want %v containing %q", tc.o, err, tc.class, tc.msg)
			}
		})
	}

	got, err := m.Get("web")
	if err != nil || got.Labels["app"] != "web" || got.Created.IsZero() {
		t.Fatalf("Get(web) = %+v, %v", got, err)
	}
	if byID, err := m.Get(explicit.ID[:12]); err != nil || byID.Name != "web" {
		t.Fatalf("Get by ID prefix = %v, %v", byID, err)
	}
	if _, err := m.Get("nosuch"); !errors.Is(err, errdefs.ErrNotFound) || err.Error() != "unable to find network with name or ID nosuch: network not found" {
		t.Fatalf("Get(nosuch) = %v, want ErrNotFound", err)
	}
	list, err := m.List()
	if err != nil || len(list) != 3 || list[0].Name != "pea1" || list[2].Name != "web" {
		t.Fatalf("List = %v, %v", list, err)
	}

	for _, n := range list {
		cl, err := libcni.ConfListFromFile(m.confPath(n.Name))
		if err != nil {
			t.Fatalf("libcni cannot load %s: %v", n.Name, err)
		}
		var types []string
		for _, p := range cl.Plugins {
			types = append(types, p.Network.Type)
		}
		if cl.Name != n.Name || strings.Join(types, ",") != "bridge,tuning,portmap" {
			t.Errorf("%s: libcni sees %q with plugins %v", n.Name, cl.Name, types)
		}
	}

	if err := m.Remove("web"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get("web"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Get after Remove = %v", err)
	}
	if err := m.Remove("web"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("second Remove = %v, want ErrNotFound", err)
	}
}

func TestDefault(t *testing.T) {
	m := newTestManager(t)
	d, err := m.Default()
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != DefaultName || d.Driver != "bridge" || d.Internal {
		t.Fatalf("Default = %+v", d)
	}
	if !linkExists(defaultBridge) && (d.NetworkInterface != defaultBridge || d.Subnets[0].Subnet != "10.90.0.0/16" || d.Subnets[0].Gateway != "10.90.0.1") {
		t.Errorf("on a host without pea0, Default = %+v, want pea0 and 10.90.0.0/16", d)
	}
	if sub := netip.MustParsePrefix(d.Subnets[0].Subnet); sub.Bits() != 16 {
		t.Errorf("default network %s: want a /16, room for every pod of the store", sub)
	}
	again, err := m.Default()
	if err != nil || again.ID != d.ID || !again.Created.Equal(d.Created) {
		t.Fatalf("second Default = %+v, %v", again, err)
	}
	// A user network created later never takes the default's subnet or bridge.
	n, err := m.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Subnets[0].Subnet == d.Subnets[0].Subnet || n.NetworkInterface == d.NetworkInterface {
		t.Errorf("network %+v collides with the default %+v", n, d)
	}
}

// validName accepts exactly what podman's name pattern accepts.
func TestValidNameMatchesPodmansPattern(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	names := []string{"", "a", "Z9", "pea", "my-net_1.2", "-a", "_a", ".a", "a b", "a/b", "é", "a\n", "0", "a-", "ÿ", "a:b"}
	for c := 0; c < 256; c++ {
		names = append(names, string(rune(c)), "a"+string([]byte{byte(c)}), string([]byte{byte(c)})+"a")
	}
	for _, n := range names {
		if got, want := validName(n), re.MatchString(n); got != want {
			t.Errorf("validName(%q) = %v, the pattern says %v", n, got, want)
		}
	}
}

// TestRemoveLeavesAnotherStoresBridge: a bridge name another store's network claims is refused
// to an explicit --interface-name; a network that names it all the same (made before the claim
// registry: its conflist written directly) leaves the bridge when removed, whether the claim
// decides or, for two unclaimed networks, the bridge's addresses do.
func TestRemoveLeavesAnotherStoresBridge(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	a, b := newTestManager(t), newTestManager(t)
	br := unique("sh")
	na := createTestNet(t, a, CreateOptions{Name: unique("sa"), Subnets: []string{testSubnet(13)}, NetworkInterface: br})
	ns := newTestNS(t, a, "s")
	o := AttachOptions{ContainerID: unique("s"), NetNSPath: ns, Networks: []string{na.Name}}
	if _, err := a.Setup(ctx, o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Teardown(ctx, o) })
	_, err := b.Create(CreateOptions{Name: unique("sb"), Subnets: []string{testSubnet(14)}, NetworkInterface: br})
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "already used by network "+na.Name+" of another store") {
		t.Fatalf("Create with another store's bridge name = %v, want it refused", err)
	}
	legacy := func() *Network {
		n := &Network{Name: unique("sb"), ID: networkID(unique("sb")), Driver: "bridge", NetworkInterface: br, Subnets: []Subnet{{Subnet: testSubnet(14)}}}
		if err := b.writeConflist(n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, claimed := range []bool{true, false} {
		if !claimed {
			a.releaseClaims(na) // as if a's network too were older than the registry
		}
		nb := legacy()
		if err := b.Remove(nb.Name); err != nil {
			t.Fatal(err)
		}
		if !linkExists(br) {
			t.Fatalf("claimed %v: removing the other store's network deleted bridge %s", claimed, br)
		}
	}
}
