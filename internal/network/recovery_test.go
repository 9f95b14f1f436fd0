package network

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSetupRollback makes the second of two networks fail (its only address is taken) and
// checks that the first one was detached again.
func TestSetupRollback(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := newTestManager(t)
	big := createTestNet(t, m, CreateOptions{Name: unique("big"), Subnets: []string{testSubnet(2)}, NetworkInterface: unique("b2")})
	small := createTestNet(t, m, CreateOptions{Name: unique("small"), Subnets: []string{strings.Replace(testSubnet(3), "/24", "/30", 1)}, NetworkInterface: unique("b3")})
	nsA, nsB := newTestNS(t, m, "a"), newTestNS(t, m, "b")
	oA := AttachOptions{ContainerID: unique("a"), NetNSPath: nsA, Networks: []string{small.Name}}
	if _, err := m.Setup(ctx, oA); err != nil {
		t.Fatalf("Setup A on the /30: %v", err)
	}
	t.Cleanup(func() { m.Teardown(ctx, oA) })
	before := iptablesRules(t)

	oB := AttachOptions{ContainerID: unique("b"), NetNSPath: nsB, Networks: []string{big.Name, small.Name},
		Ports: []PortMapping{{HostIP: "127.0.0.1", HostPort: 1, ContainerPort: 80, Protocol: "tcp"}}}
	st, err := m.Setup(ctx, oB)
	if err == nil {
		m.Teardown(ctx, oB)
		t.Fatalf("Setup B on a full network succeeded: %+v", st)
	}
	t.Logf("Setup B failed as it should: %v", err)
	if !strings.Contains(err.Error(), small.Name) {
		t.Errorf("error %q does not name network %s", err, small.Name)
	}
	if out, _ := inNS(t, nsB, "ip", "-o", "link", "show"); strings.Contains(out, "eth") {
		t.Errorf("interfaces left in B's namespace:\n%s", out)
	}
	if att, _ := m.Attachments(oB.ContainerID); len(att) != 0 {
		t.Errorf("B still has attachments: %+v", att)
	}
	if l := m.leases(oB.ContainerID); len(l) != 0 {
		t.Errorf("B still holds leases: %+v", l)
	}
	if diff := added(before, iptablesRules(t)); len(diff) != 0 {
		t.Errorf("iptables rules left by the failed Setup:\n%s", strings.Join(diff, "\n"))
	}
}

// TestTeardownWithoutCache loses the CNI cache after Setup, as when pea dies between the plugins
// and the cache write, and checks that Teardown still finds and removes everything through the
// host-local leases: one, or on a dual-stack network one per family.
func TestTeardownWithoutCache(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name    string
		subnets []string
		publish []string
	}{
		{"IPv4", []string{testSubnet(4)}, []string{"127.0.0.1::8080"}},
		{"dual stack", []string{testSubnet(12), testSubnet6(12)}, []string{"127.0.0.1::8080", "[::1]::8081"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := newTestManager(t)
			tag := strconv.Itoa(len(tc.subnets))
			n := createTestNet(t, m, CreateOptions{Name: unique("lost" + tag), Subnets: tc.subnets, NetworkInterface: unique("b4" + tag)})
			ns := newTestNS(t, m, "c")
			var ports []PortMapping
			for _, p := range tc.publish {
				pm, err := ParsePublish(p)
				if err != nil {
					t.Fatal(err)
				}
				ports = append(ports, pm...)
			}
			o := AttachOptions{ContainerID: unique("lost" + tag), NetNSPath: ns, Networks: []string{n.Name}, Ports: ports}
			before := iptablesRules(t)
			st, err := m.Setup(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Teardown(ctx, o) })
			if l := m.leases(o.ContainerID); len(l) != len(tc.subnets) {
				t.Fatalf("leases after Setup: %+v", l)
			}
			if err := os.RemoveAll(filepath.Join(m.runDir, "cni-cache")); err != nil {
				t.Fatal(err)
			}
			if err := m.Teardown(ctx, o); err != nil {
				t.Fatalf("Teardown without cache: %v", err)
			}
			if diff := added(before, iptablesRules(t)); len(diff) != 0 {
				t.Errorf("iptables rules left:\n%s", strings.Join(diff, "\n"))
			}
			if l := m.leases(o.ContainerID); len(l) != 0 {
				t.Errorf("leases left: %+v", l)
			}
			out, _ := inNS(t, ns, "ip", "-o", "addr", "show")
			for _, a := range []string{st[0].IP, st[0].IPv6} {
				if a != "" && strings.Contains(out, a) {
					t.Errorf("address %s left in the namespace:\n%s", a, out)
				}
			}
		})
	}
}

// TestTeardownAfterNetNSRemoved runs Teardown in the wrong order, after the namespace is gone.
// The bridge plugin then cannot find its masquerade rules; Teardown sweeps them by comment.
func TestTeardownAfterNetNSRemoved(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := newTestManager(t)
	n := createTestNet(t, m, CreateOptions{Name: unique("gone"), Subnets: []string{testSubnet(10)}, NetworkInterface: unique("b10")})
	ns, err := m.NewNetNS("gone")
	if err != nil {
		t.Fatal(err)
	}
	ports, err := ParsePublish("127.0.0.1::80")
	if err != nil {
		t.Fatal(err)
	}
	o := AttachOptions{ContainerID: unique("gone"), NetNSPath: ns, Networks: []string{n.Name}, Ports: ports}
	before := iptablesRules(t)
	if _, err := m.Setup(ctx, o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Teardown(ctx, o) })
	if err := m.RemoveNetNS(ns); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(ctx, o); err != nil {
		t.Fatalf("Teardown after RemoveNetNS: %v", err)
	}
	if diff := added(before, iptablesRules(t)); len(diff) != 0 {
		t.Errorf("iptables rules left:\n%s", strings.Join(diff, "\n"))
	}
	if l := m.leases(o.ContainerID); len(l) != 0 {
		t.Errorf("leases left: %+v", l)
	}
}
