package network

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pea/internal/errdefs"
)

// TestSetupTeardown attaches two namespaces to one bridge network, checks they reach each other
// and that a published port answers on the host's loopback, then detaches them and checks that
// no veth, iptables rule, lease or mount is left.
func TestSetupTeardown(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := newTestManager(t)
	n := createTestNet(t, m, CreateOptions{Name: unique("net"), Subnets: []string{testSubnet(1)}, NetworkInterface: unique("b1")})
	sub := strings.TrimSuffix(n.Subnets[0].Subnet, "0/24")
	ns1, ns2 := newTestNS(t, m, "c1"), newTestNS(t, m, "c2")
	id1, id2 := unique("c1")+"aaaa", unique("c2")+"bbbb"
	ports, err := ParsePublish("127.0.0.1::80")
	if err != nil {
		t.Fatal(err)
	}
	anyAddr, err := ParsePublish("80") // every host address, random port
	if err != nil {
		t.Fatal(err)
	}
	ports = append(ports, anyAddr...)
	staticIP, staticMAC := net.ParseIP(sub+"50"), "02:42:0a:c7:00:32"
	o1 := AttachOptions{ContainerID: id1, ContainerName: "one", NetNSPath: ns1, Networks: []string{n.Name}, Ports: ports}
	o2 := AttachOptions{ContainerID: id2, NetNSPath: ns2, Networks: []string{n.Name}, StaticIP: staticIP, StaticMAC: staticMAC}
	before := iptablesRules(t)

	start := time.Now()
	st1, err := m.Setup(ctx, o1)
	if err != nil {
		t.Fatalf("Setup 1: %v", err)
	}
	t.Cleanup(func() { m.Teardown(ctx, o1) })
	t.Logf("Setup with a published port: %v", time.Since(start))
	start = time.Now()
	st2, err := m.Setup(ctx, o2)
	if err != nil {
		t.Fatalf("Setup 2: %v", err)
	}
	t.Cleanup(func() { m.Teardown(ctx, o2) })
	t.Logf("Setup with static IP and MAC: %v", time.Since(start))

	if len(st1) != 1 || st1[0].Interface != "eth0" || !strings.HasPrefix(st1[0].IP, sub) || st1[0].PrefixLen != 24 ||
		st1[0].Gateway != sub+"1" || st1[0].Network != n.Name || st1[0].MAC == "" {
		t.Fatalf("status 1 = %+v", st1)
	}
	if len(st2) != 1 || st2[0].IP != staticIP.String() || st2[0].MAC != staticMAC {
		t.Fatalf("status 2 = %+v, want IP %s MAC %s", st2, staticIP, staticMAC)
	}
	if out, err := inNS(t, ns2, "ip", "-o", "link", "show", "eth0"); err != nil || !strings.Contains(out, staticMAC) {
		t.Errorf("eth0 in ns2 = %q, %v; want MAC %s", out, err, staticMAC)
	}
	if out, err := inNS(t, ns2, "ip", "-o", "route", "show", "default"); err != nil || !strings.Contains(out, "via "+sub+"1") {
		t.Errorf("default route in ns2 = %q, %v", out, err)
	}
	for _, p := range []struct{ from, to string }{{ns1, st2[0].IP}, {ns2, st1[0].IP}, {ns1, sub + "1"}} {
		if out, err := inNS(t, p.from, "/bin/busybox", "ping", "-c1", "-W2", p.to); err != nil {
			t.Errorf("ping %s from %s: %v\n%s", p.to, filepath.Base(p.from), err, out)
		}
	}

	// The published port answers on the host's 127.0.0.1, and is reserved for CheckPorts.
	l := listenIn(t, ns1, ":80")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "hello from %s\n", c.LocalAddr())
			c.Close()
		}
	}()
	for _, p := range ports {
		hostAddr := net.JoinHostPort("127.0.0.1", fmt.Sprint(p.HostPort))
		c, err := net.DialTimeout("tcp", hostAddr, 3*time.Second)
		if err != nil {
			t.Fatalf("dial published port %s: %v", hostAddr, err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || !strings.Contains(line, st1[0].IP+":80") {
			t.Errorf("published port %s answered %q, %v", hostAddr, line, err)
		}
	}
	// Another container reaches the port published on every address through the gateway.
	gwPort := fmt.Sprint(anyAddr[0].HostPort)
	if out, err := inNS(t, ns2, "/bin/busybox", "nc", "-w", "3", sub+"1", gwPort); err != nil || !strings.Contains(out, "hello") {
		t.Errorf("from the second namespace, %s1:%s answered %q, %v", sub, gwPort, out, err)
	}
	if err := m.CheckPorts(ports); !errors.Is(err, errdefs.ErrInUse) || !strings.Contains(err.Error(), id1) {
		t.Errorf("CheckPorts of a published port = %v, want ErrInUse naming %s", err, id1)
	}
	if att, err := m.Attachments(id2); err != nil || len(att) != 1 || att[0] != st2[0] {
		t.Errorf("Attachments(%s) = %+v, %v; want %+v", id2, att, err, st2)
	}

	during := iptablesRules(t)
	ours := perContainerChains(before, during)
	if testing.Verbose() {
		t.Logf("iptables rules added by Setup:\n%s", strings.Join(added(before, during), "\n"))
		for _, f := range []string{"route_localnet", "forwarding"} {
			v, _ := os.ReadFile("/proc/sys/net/ipv4/conf/" + n.NetworkInterface + "/" + f)
			t.Logf("%s of %s: %s", f, n.NetworkInterface, strings.TrimSpace(string(v)))
		}
	}
	if len(ours) == 0 {
		t.Errorf("no per-container iptables chains appeared during Setup")
	}
	for _, c := range ours {
		if !strings.HasPrefix(c, "PEA-DN-") {
			t.Errorf("chain %s appeared during Setup: ports are pea's own rules, not a CNI plugin's", c)
		}
	}

	start = time.Now()
	if err := m.Teardown(ctx, o1); err != nil {
		t.Errorf("Teardown 1: %v", err)
	}
	t.Logf("Teardown with a published port: %v", time.Since(start))
	if err := m.Teardown(ctx, o2); err != nil {
		t.Errorf("Teardown 2: %v", err)
	}
	if err := m.Teardown(ctx, o1); err != nil {
		t.Errorf("second Teardown = %v, want nil", err)
	}

	for _, line := range iptablesRules(t) {
		for _, s := range append(ours, id1, id2, st1[0].IP+"/32", st2[0].IP+"/32") {
			if strings.Contains(line, s) {
				t.Errorf("iptables rule left after Teardown: %s", line)
			}
		}
	}
	if brif, _ := os.ReadDir("/sys/class/net/" + n.NetworkInterface + "/brif"); len(brif) != 0 {
		t.Errorf("veths left on bridge %s: %v", n.NetworkInterface, brif)
	}
	for _, ns := range []string{ns1, ns2} {
		if out, _ := inNS(t, ns, "ip", "-o", "link", "show"); strings.Contains(out, "eth0") {
			t.Errorf("eth0 left in %s: %s", ns, out)
		}
	}
	leases, _ := filepath.Glob(filepath.Join(m.runDir, "ipam", n.Name, sub+"*"))
	if len(leases) != 0 {
		t.Errorf("leases left: %v", leases)
	}
	if att, _ := m.Attachments(id1); len(att) != 0 {
		t.Errorf("attachments left in the CNI cache: %+v", att)
	}
	for _, ns := range []string{ns1, ns2} {
		if err := m.RemoveNetNS(ns); err != nil || mounted(t, ns) {
			t.Errorf("RemoveNetNS(%s) = %v, mounted %v", ns, err, mounted(t, ns))
		}
	}
}

var chainRE = regexp.MustCompile(`CNI-(DN-)?[0-9a-f]{16,}|PEA-DN-[0-9a-f]{12}`)

// perContainerChains names the hashed chains (CNI-<hash>, CNI-DN-<hash>, PEA-DN-<hash>) that appear in during
// but not in before.
func perContainerChains(before, during []string) []string {
	old := map[string]bool{}
	for _, l := range before {
		for _, c := range chainRE.FindAllString(l, -1) {
			old[c] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range during {
		for _, c := range chainRE.FindAllString(l, -1) {
			if !old[c] && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

func added(before, after []string) []string {
	old := map[string]bool{}
	for _, l := range before {
		old[l] = true
	}
	var out []string
	for _, l := range after {
		if !old[l] {
			out = append(out, l)
		}
	}
	return out
}
