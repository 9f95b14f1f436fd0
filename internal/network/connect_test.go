package network

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

func TestConnectDisconnect(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := newTestManager(t)
	a := createTestNet(t, m, CreateOptions{Name: unique("ca"), Subnets: []string{testSubnet(5)}, NetworkInterface: unique("b5")})
	b := createTestNet(t, m, CreateOptions{Name: unique("cb"), Subnets: []string{testSubnet(6)}, NetworkInterface: unique("b6"), Internal: true})
	ns := newTestNS(t, m, "c")
	o := AttachOptions{ContainerID: unique("conn"), NetNSPath: ns, Networks: []string{a.Name}}
	if _, err := m.Setup(ctx, o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Teardown(ctx, o) })
	if _, err := m.Setup(ctx, o); !errors.Is(err, errdefs.ErrExists) {
		t.Errorf("second Setup = %v, want ErrExists", err)
	}
	if out, _ := inNS(t, ns, "ip", "-o", "link", "show", "eth0"); !strings.Contains(out, "eth0") {
		t.Errorf("the second Setup took eth0 down: %q", out)
	}
	internalOnly := AttachOptions{ContainerID: unique("int"), NetNSPath: ns, Networks: []string{b.Name},
		Ports: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}}
	if _, err := m.Setup(ctx, internalOnly); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("Setup publishing ports on an internal network = %v, want ErrInvalid", err)
	}

	st, err := m.Connect(ctx, o, b.Name)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if st.Interface != "eth1" || !strings.HasPrefix(st.IP, strings.TrimSuffix(b.Subnets[0].Subnet, "0/24")) {
		t.Errorf("Connect status = %+v, want eth1 in %s", st, b.Subnets[0].Subnet)
	}
	// An internal network gives no default route: the container keeps a's.
	if out, _ := inNS(t, ns, "ip", "-o", "route", "show", "default"); strings.Count(out, "default") != 1 || !strings.Contains(out, "eth0") {
		t.Errorf("default routes after connecting an internal network:\n%s", out)
	}
	if _, err := m.Connect(ctx, o, b.Name); !errors.Is(err, errdefs.ErrExists) {
		t.Errorf("second Connect = %v, want ErrExists", err)
	}
	if att, err := m.Attachments(o.ContainerID); err != nil || len(att) != 2 {
		t.Errorf("Attachments = %+v, %v; want two", att, err)
	}
	if err := m.Disconnect(ctx, o, b.Name); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if out, _ := inNS(t, ns, "ip", "-o", "link", "show"); strings.Contains(out, "eth1") || !strings.Contains(out, "eth0") {
		t.Errorf("links after Disconnect:\n%s", out)
	}
	if err := m.Disconnect(ctx, o, b.Name); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("second Disconnect = %v, want ErrNotFound", err)
	}
	// eth1 is free again and is reused.
	if st, err := m.Connect(ctx, o, b.Name); err != nil || st.Interface != "eth1" {
		t.Errorf("reconnect = %+v, %v", st, err)
	}
	if err := m.Teardown(ctx, o); err != nil {
		t.Fatal(err)
	}
	if out, _ := inNS(t, ns, "ip", "-o", "link", "show"); strings.Contains(out, "eth") {
		t.Errorf("links after Teardown:\n%s", out)
	}
}

func TestMacvlan(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := newTestManager(t)
	parent := unique("v")
	if out, err := exec.Command("ip", "link", "add", parent, "type", "veth", "peer", "name", parent+"p").CombinedOutput(); err != nil {
		t.Skipf("cannot create a veth parent: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", parent).Run() })
	exec.Command("ip", "link", "set", parent, "up").Run()

	for i, driver := range []string{"macvlan", "ipvlan"} {
		t.Run(driver, func(t *testing.T) {
			probe := unique("probe")
			if out, err := exec.Command("ip", "link", "add", "link", parent, "name", probe, "type", driver).CombinedOutput(); err != nil {
				t.Skipf("the kernel has no %s: %s", driver, out)
			}
			exec.Command("ip", "link", "del", probe).Run()
			n := createTestNet(t, m, CreateOptions{Name: unique(driver), Driver: driver, Parent: parent, Subnets: []string{testSubnet(7 + i)}})
			if n.NetworkInterface != parent {
				t.Fatalf("network interface = %q, want %q", n.NetworkInterface, parent)
			}
			ns := newTestNS(t, m, driver)
			o := AttachOptions{ContainerID: unique(driver) + "x", NetNSPath: ns, Networks: []string{n.Name}}
			st, err := m.Setup(ctx, o)
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			out, _ := inNS(t, ns, "ip", "-o", "addr", "show", "eth0")
			if !strings.Contains(out, st[0].IP+"/24") {
				t.Errorf("eth0 in namespace = %q, want %s", out, st[0].IP)
			}
			if err := m.Teardown(ctx, o); err != nil {
				t.Fatal(err)
			}
			if out, _ := inNS(t, ns, "ip", "-o", "link", "show"); strings.Contains(out, "eth0") {
				t.Errorf("eth0 left after Teardown:\n%s", out)
			}
		})
	}
}
