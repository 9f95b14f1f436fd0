package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pea/internal/errdefs"
)

// testSubnet6 returns an IPv6 /64 derived from the pid and k, as testSubnet does for IPv4.
func testSubnet6(k int) string {
	return fmt.Sprintf("fd99:%x:%x::/64", os.Getpid()%0x10000, k)
}

// TestChooseSubnets covers podman's rules for a network's subnets: several, each with the
// gateway and range at its index; --ipv6 adds an IPv4 and a random ULA IPv6 subnet where none
// of the family is given; refusals leave nothing.
func TestChooseSubnets(t *testing.T) {
	web := &Network{Name: "web", Subnets: []Subnet{{Subnet: "10.199.250.0/24"}, {Subnet: "fd99:1::/64"}}}
	existing := []*Network{web}
	ula := netip.MustParsePrefix("fd00::/8")
	tests := []struct {
		name string
		o    CreateOptions
		want func(t *testing.T, got []Subnet)
	}{
		{"none: one IPv4", CreateOptions{}, func(t *testing.T, got []Subnet) {
			if len(got) != 1 || !netip.MustParsePrefix(got[0].Subnet).Addr().Is4() {
				t.Errorf("got %+v", got)
			}
		}},
		{"ipv6 alone: IPv4 then a ULA /64", CreateOptions{IPv6: true}, func(t *testing.T, got []Subnet) {
			if len(got) != 2 {
				t.Fatalf("got %+v", got)
			}
			v4, v6 := netip.MustParsePrefix(got[0].Subnet), netip.MustParsePrefix(got[1].Subnet)
			if !v4.Addr().Is4() || !v6.Addr().Is6() || v6.Bits() != 64 || !ula.Contains(v6.Addr()) || v6.Addr().As16()[0] != 0xfd {
				t.Errorf("got %+v", got)
			}
			if got[1].Gateway != v6.Addr().Next().String() {
				t.Errorf("IPv6 gateway %s", got[1].Gateway)
			}
		}},
		{"ipv6 with an IPv6 subnet: the IPv4 one is added after it", CreateOptions{IPv6: true, Subnets: []string{"fd99:2::/64"}}, func(t *testing.T, got []Subnet) {
			if len(got) != 2 || got[0].Subnet != "fd99:2::/64" || !netip.MustParsePrefix(got[1].Subnet).Addr().Is4() {
				t.Errorf("got %+v", got)
			}
		}},
		{"two given, gateways and ranges by index", CreateOptions{Subnets: []string{"10.199.251.0/24", "fd99:3::/64"},
			Gateways: []string{"10.199.251.254", "fd99:3::fe"}, IPRanges: []string{"", "fd99:3::100-fd99:3::1ff"}},
			func(t *testing.T, got []Subnet) {
				want := []Subnet{{Subnet: "10.199.251.0/24", Gateway: "10.199.251.254"},
					{Subnet: "fd99:3::/64", Gateway: "fd99:3::fe", LeaseRange: &LeaseRange{"fd99:3::100", "fd99:3::1ff"}}}
				if len(got) != 2 || got[0].Subnet != want[0].Subnet || got[0].Gateway != want[0].Gateway || got[0].LeaseRange != nil ||
					got[1].Subnet != want[1].Subnet || got[1].Gateway != want[1].Gateway || got[1].LeaseRange == nil || *got[1].LeaseRange != *want[1].LeaseRange {
					t.Errorf("got %+v, want %+v", got, want)
				}
			}},
		{"two of one family", CreateOptions{Subnets: []string{"10.199.252.0/24", "10.199.253.0/24"}}, func(t *testing.T, got []Subnet) {
			if len(got) != 2 {
				t.Errorf("got %+v", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chooseSubnets(tc.o, usedBy(existing, nil), false)
			if err != nil {
				t.Fatal(err)
			}
			tc.want(t, got)
		})
	}
	bad := []struct {
		name string
		o    CreateOptions
		msg  string
	}{
		{"v6 overlaps another network", CreateOptions{Subnets: []string{"10.199.254.0/24", "fd99:1::/48"}}, "subnet fd99:1::/48 overlaps with network web"},
		{"overlap inside the network", CreateOptions{Subnets: []string{"10.199.254.0/24", "10.199.254.128/25"}}, "subnet 10.199.254.128/25 overlaps with subnet 10.199.254.0/24 of the same network"},
		{"more gateways than subnets", CreateOptions{Subnets: []string{"10.199.254.0/24"}, Gateways: []string{"10.199.254.1", "fd99:5::1"}}, "2 gateways for 1 subnets"},
		{"more ranges than subnets", CreateOptions{Subnets: []string{"10.199.254.0/24"}, IPRanges: []string{"10.199.254.0/25", "10.199.254.128/25"}}, "2 IP ranges for 1 subnets"},
		{"gateway without subnet", CreateOptions{Gateways: []string{"10.199.254.1"}}, "needs the subnet"},
		{"IPv6 gateway outside", CreateOptions{Subnets: []string{"10.199.254.0/24", "fd99:6::/64"}, Gateways: []string{"", "fd99:7::1"}}, "gateway fd99:7::1 is outside subnet fd99:6::/64"},
		{"gateway of the other family", CreateOptions{Subnets: []string{"fd99:6::/64"}, Gateways: []string{"10.199.254.1"}}, "gateway 10.199.254.1 is outside subnet fd99:6::/64"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := chooseSubnets(tc.o, usedBy(existing, nil), false)
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line of ErrInvalid with %q", err, tc.msg)
			}
		})
	}
}

// TestDualStackConflist: a dual-stack network is one range set per subnet and a default route
// per family, and reads back the same.
func TestDualStackConflist(t *testing.T) {
	n := &Network{Name: "ds", ID: networkID("ds"), Driver: "bridge", NetworkInterface: "pea7", IPv6Enabled: true,
		Subnets: []Subnet{{Subnet: "10.90.7.0/24", Gateway: "10.90.7.1"}, {Subnet: "fd99:7::/64", Gateway: "fd99:7::1"}}}
	data, err := conflistBytes(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"dst": "0.0.0.0/0"`, `"dst": "::/0"`, `"subnet": "fd99:7::/64"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("conflist lacks %s:\n%s", want, data)
		}
	}
	back, err := parseConflist(data, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !back.IPv6Enabled || len(back.Subnets) != 2 || back.Subnets[1] != n.Subnets[1] {
		t.Errorf("read back %+v", back)
	}
}

// TestDualStackAttach attaches two namespaces to a dual-stack network, one with static
// addresses of both families: each gets one address per family on eth0, they reach each other
// over both, and detaching leaves no lease, veth or rule of the network's but its own chains,
// which go with the network.
func TestDualStackAttach(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := newTestManager(t)
	before := iptablesRules(t)
	n, err := m.Create(CreateOptions{Name: unique("ds"), Subnets: []string{testSubnet(11), testSubnet6(11)}, NetworkInterface: unique("b11")})
	if err != nil {
		t.Fatal(err)
	}
	if !n.IPv6Enabled || len(n.Subnets) != 2 {
		t.Fatalf("network %+v", n)
	}
	if !m.masqPresent(n) { // outbound NAT and forwarding for each family
		t.Errorf("the network's NAT and forwarding chains are not all there")
	}
	sub4 := strings.TrimSuffix(n.Subnets[0].Subnet, "0/24")
	sub6 := strings.TrimSuffix(n.Subnets[1].Subnet, "/64")
	ns1, ns2 := newTestNS(t, m, "d1"), newTestNS(t, m, "d2")
	o1 := AttachOptions{ContainerID: unique("d1") + "aaaa", NetNSPath: ns1, Networks: []string{n.Name}}
	o2 := AttachOptions{ContainerID: unique("d2") + "bbbb", NetNSPath: ns2, Networks: []string{n.Name},
		StaticIP: net.ParseIP(sub4 + "60"), StaticIP6: net.ParseIP(sub6 + "60")}
	st1, err := m.Setup(ctx, o1)
	if err != nil {
		t.Fatalf("Setup 1: %v", err)
	}
	t.Cleanup(func() { m.Teardown(ctx, o1) })
	st2, err := m.Setup(ctx, o2)
	if err != nil {
		t.Fatalf("Setup 2: %v", err)
	}
	t.Cleanup(func() { m.Teardown(ctx, o2) })
	s1, s2 := st1[0], st2[0]
	if !strings.HasPrefix(s1.IP, sub4) || s1.PrefixLen != 24 || s1.Gateway != sub4+"1" ||
		!strings.HasPrefix(s1.IPv6, sub6) || s1.IPv6PrefixLen != 64 || s1.IPv6Gateway != sub6+"1" {
		t.Errorf("status 1 = %+v", s1)
	}
	if s2.IP != sub4+"60" || s2.IPv6 != sub6+"60" {
		t.Errorf("status 2 = %+v, want the static %s60 and %s60", s2, sub4, sub6)
	}
	if att, err := m.Attachments(o2.ContainerID); err != nil || len(att) != 1 || att[0] != s2 {
		t.Errorf("Attachments = %+v, %v; want %+v", att, err, s2)
	}
	if out, _ := inNS(t, ns2, "ip", "-o", "addr", "show", "eth0"); !strings.Contains(out, sub4+"60/24") || !strings.Contains(out, sub6+"60/64") {
		t.Errorf("eth0 of the second namespace:\n%s", out)
	}
	if out, _ := inNS(t, ns2, "ip", "-6", "route", "show", "default"); !strings.Contains(out, "via "+sub6+"1") {
		t.Errorf("IPv6 default route: %q", out)
	}
	// The gateway's address is usable at once: the bridge was made with DAD off.
	if out, _ := exec.Command("ip", "-6", "addr", "show", "dev", n.NetworkInterface).CombinedOutput(); strings.Contains(string(out), "tentative") {
		t.Errorf("the bridge's IPv6 address is tentative:\n%s", out)
	}
	for _, to := range []string{s2.IP, s2.IPv6, sub6 + "1"} {
		if out, err := inNS(t, ns1, "/bin/busybox", "ping", "-c1", "-W2", to); err != nil {
			t.Errorf("ping %s: %v\n%s", to, err, out)
		}
	}
	if _, err := m.Setup(ctx, AttachOptions{ContainerID: "x", NetNSPath: ns1, Networks: []string{n.Name}, StaticIP6: net.ParseIP("fd98::5")}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("a static IPv6 address outside the network: %v", err)
	}

	for _, o := range []AttachOptions{o1, o2} {
		if err := m.Teardown(ctx, o); err != nil {
			t.Errorf("Teardown: %v", err)
		}
	}
	leases, _ := filepath.Glob(filepath.Join(m.runDir, "ipam", n.Name, "*"))
	for _, l := range leases { // host-local's lock and last_reserved_ip files stay
		if b := filepath.Base(l); b != "lock" && !strings.HasPrefix(b, "last_reserved_ip") {
			t.Errorf("lease left: %s", l)
		}
	}
	if err := m.Remove(n.Name); err != nil {
		t.Fatal(err)
	}
	if linkExists(n.NetworkInterface) {
		t.Errorf("bridge %s left", n.NetworkInterface)
	}
	// Only the network's own rules count: other tests on the host may add theirs meanwhile.
	for _, line := range added(before, iptablesRules(t)) {
		for _, s := range n.Subnets {
			if strings.Contains(line, s.Subnet) || strings.Contains(line, m.masqChain(n, s.Subnet)) || strings.Contains(line, m.fwdChain(n, s.Subnet)) {
				t.Errorf("rule left after the network's removal: %s", line)
			}
		}
	}
}

// containers.conf's default_subnet_pools: a network other than the default one takes the first
// free subnet of the first pool that has one.
func TestSubnetPools(t *testing.T) {
	pools := []SubnetPool{{Base: "10.250.0.0/23", Size: 24}, {Base: "10.251.8.0/22", Size: 25}}
	taken := map[string]bool{"10.250.0.0/24": true, "10.250.1.0/24": true, "10.251.8.0/25": true}
	free := func(p netip.Prefix) bool { return !taken[p.String()] }
	if p, err := poolSubnet(pools, free); err != nil || p.String() != "10.251.8.128/25" {
		t.Errorf("poolSubnet = %v, %v; want 10.251.8.128/25", p, err)
	}
	if _, err := poolSubnet([]SubnetPool{{Base: "10.250.0.0/24", Size: 24}}, func(netip.Prefix) bool { return false }); err == nil {
		t.Error("a full pool gave a subnet")
	}
	for _, bad := range []SubnetPool{{Base: "fd00::/64", Size: 80}, {Base: "10.0.0.0/24", Size: 16}, {Base: "nonsense", Size: 24}} {
		if _, err := poolSubnet([]SubnetPool{bad}, free); err == nil {
			t.Errorf("pool %+v taken", bad)
		}
	}
}
