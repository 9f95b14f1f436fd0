package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// dnsDir is the store's aardvark-dns configuration directory (internal/network/dns.go).
func (e *Env) dnsDir() string { return filepath.Join(e.RunRoot, "network", "aardvark-dns") }

// aardvarkPIDs are the live aardvark-dns processes serving e's store.
func (e *Env) aardvarkPIDs() []string {
	out, _ := exec.Command("pgrep", "-f", "aardvark-dns --config "+e.dnsDir()+" ").Output()
	return strings.Fields(string(out))
}

// gatewayOf is network n's first gateway address.
func (e *Env) gatewayOf(n string) string {
	e.t.Helper()
	return strings.Fields(e.Pea("network", "inspect", "-f", "{{range .Subnets}}{{.Gateway}} {{end}}", n))[0]
}

// lookup asks the DNS server at server (empty: the container's resolv.conf) from container from
// for name's addresses of type typ (A or AAAA), as busybox's nslookup prints them; nil when
// the server does not know it.
func (e *Env) lookup(from, name, server, typ string) []string {
	e.t.Helper()
	args := []string{"exec", from, "nslookup", "-type=" + typ, name}
	if server != "" {
		args = append(args, server)
	}
	r := e.Try(args...)
	var out []string
	for _, line := range strings.Split(r.Stdout, "\n") {
		if a, ok := strings.CutPrefix(line, "Address: "); ok {
			out = append(out, strings.TrimSpace(a))
		}
	}
	return out
}

// resolvesTo waits until name, asked from container from, resolves (type A) to want (none:
// not known). On failure it shows what aardvark serves and the containers' states.
func (e *Env) resolvesTo(from, name, server string, want ...string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := e.lookup(from, name, server, "A")
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("nslookup %s %s from %s: %q, want %q\n%s", name, server, from, got, want, e.dnsState())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dnsState is aardvark's files, its processes and log, and the containers' states.
func (e *Env) dnsState() string {
	var b strings.Builder
	entries, _ := os.ReadDir(e.dnsDir())
	for _, en := range entries {
		data, _ := os.ReadFile(filepath.Join(e.dnsDir(), en.Name()))
		fmt.Fprintf(&b, "file %s:\n%s\n", en.Name(), data)
	}
	log, _ := os.ReadFile(filepath.Join(e.RunRoot, "network", "aardvark-dns.log"))
	fmt.Fprintf(&b, "aardvark %v, its log: %q\n", e.aardvarkPIDs(), log)
	b.WriteString(e.Try("ps", "-a", "--format", "{{.Names}} {{.Status}}").Stdout)
	return b.String()
}

// Containers on a network of the user's ask aardvark-dns, on the network's gateway, for each
// other's names, aliases and short IDs (and NAME.dns.podman); a container started later is
// known at once, a stopped one is forgotten, a restarted one is found at its new address,
// network connect and disconnect add and remove its
// names and its resolv.conf's server; a pod answers to its name and its members'; names it
// does not know it forwards (NXDOMAIN here).
func TestDNSUserNetwork(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "dnsnet")
	gw := e.gatewayOf("dnsnet")
	e.Pea("run", "-d", "--name", "srv", "--network", "dnsnet", "--network-alias", "db", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "k1", "--network", "dnsnet", "localhost/bb", "sleep", "1000")
	ipOf := func(name, n string) string {
		return e.Pea("inspect", "-f", "{{.NetworkSettings.Networks."+n+".IPAddress}}", name)
	}
	srvIP, srvID := ipOf("srv", "dnsnet"), e.Pea("inspect", "-f", "{{.Id}}", "srv")
	e.resolvesTo("k1", "srv", gw, srvIP)
	e.resolvesTo("k1", "db", gw, srvIP)
	e.resolvesTo("k1", "srv.dns.podman", gw, srvIP)
	e.resolvesTo("k1", srvID[:12], gw, srvIP)
	e.resolvesTo("srv", "k1", "", ipOf("k1", "dnsnet")) // through its resolv.conf
	e.resolvesTo("k1", "nosuchname", gw)
	// resolv.conf: podman's search domain and the network's server first, the host's after.
	hostServers := hostNameservers()
	resolv := e.Pea("exec", "k1", "cat", "/etc/resolv.conf")
	lines := strings.Split(resolv, "\n")
	if lines[0] != "search dns.podman" && !strings.HasPrefix(lines[0], "search dns.podman ") || lines[1] != "nameserver "+gw {
		t.Fatalf("resolv.conf on a DNS network:\n%s", resolv)
	}
	for _, s := range hostServers {
		if !strings.Contains(resolv, "nameserver "+s+"\n") && !strings.HasSuffix(resolv, "nameserver "+s) {
			t.Fatalf("resolv.conf lost the host's server %s:\n%s", s, resolv)
		}
	}
	// --dns and --dns-search given: the user's alone, as podman's.
	if out := e.Pea("run", "--rm", "--network", "dnsnet", "--dns", "192.0.2.53", "--dns-search", "example.org", "localhost/bb", "cat", "/etc/resolv.conf"); out != "search example.org\nnameserver 192.0.2.53" {
		t.Fatalf("resolv.conf with --dns: %q", out)
	}
	// Started later: known without restarting anyone. Stopped: forgotten.
	e.Pea("run", "-d", "--name", "late", "--network", "dnsnet", "localhost/bb", "sleep", "1000")
	e.resolvesTo("k1", "late", gw, ipOf("late", "dnsnet"))
	e.Pea("stop", "-t", "0", "late")
	e.resolvesTo("k1", "late", gw)
	if b, _ := os.ReadFile(filepath.Join(e.dnsDir(), "dnsnet")); strings.Contains(string(b), " late,") {
		t.Fatalf("a stopped container keeps its line:\n%s", b)
	}
	// Restarted: named at its address of now.
	e.Pea("restart", "-t", "0", "srv")
	srvIP = ipOf("srv", "dnsnet")
	e.resolvesTo("k1", "srv", gw, srvIP)
	// network connect --alias: the other network's server names it; disconnect: no more.
	e.Pea("network", "create", "dnsnet2")
	gw2 := e.gatewayOf("dnsnet2")
	e.Pea("run", "-d", "--name", "on2", "--network", "dnsnet2", "localhost/bb", "sleep", "1000")
	e.Pea("network", "connect", "--alias", "conn", "dnsnet2", "k1")
	k1on2 := ipOf("k1", "dnsnet2")
	e.resolvesTo("on2", "conn", gw2, k1on2)
	e.resolvesTo("on2", "k1", gw2, k1on2)
	if out := e.Pea("exec", "k1", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver "+gw2+"\n") {
		t.Fatalf("network connect left resolv.conf without the new network's server:\n%s", out)
	}
	e.Pea("network", "disconnect", "dnsnet2", "k1")
	e.resolvesTo("on2", "k1", gw2)
	if out := e.Pea("exec", "k1", "cat", "/etc/resolv.conf"); strings.Contains(out, gw2) {
		t.Fatalf("network disconnect left the network's server in resolv.conf:\n%s", out)
	}
	// A pod on the network: its name and its members' names lead to its address; its members
	// ask through the pod's resolv.conf.
	e.Pea("pod", "create", "--name", "dpod", "--network", "dnsnet")
	e.Pea("run", "-d", "--pod", "dpod", "--name", "pm1", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--pod", "dpod", "--name", "pm2", "localhost/bb", "sleep", "1000")
	podIP := ipOf(e.Pea("pod", "inspect", "-f", "{{.InfraContainerID}}", "dpod"), "dnsnet")
	e.resolvesTo("k1", "dpod", gw, podIP)
	e.resolvesTo("k1", "pm2", gw, podIP)
	e.resolvesTo("pm1", "srv", "", srvIP)
	e.resolvesTo("pm1", "pm2", gw, podIP)
}

// No DNS server on the default network, on a network made with --disable-dns, or with
// --network none: no resolv.conf (TestNetworkNoneHasNoResolvConf); a network without DNS: it
// names the host's servers alone, no file is written and no aardvark runs. An internal network
// has DNS, as podman's.
func TestDNSWhereNone(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--disable-dns", "nodns")
	if got := e.Pea("network", "inspect", "-f", "{{.DNSEnabled}}", "nodns"); got != "false" {
		t.Fatalf("dns_enabled of a --disable-dns network: %s", got)
	}
	for _, n := range []string{"", "nodns"} {
		args := []string{"run", "--rm", "localhost/bb", "cat", "/etc/resolv.conf"}
		if n != "" {
			args = slices.Insert(args, 2, "--network", n)
		}
		out := e.Pea(args...)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); strings.Contains(line, "dns.podman") || len(f) == 2 && f[0] == "nameserver" && !slices.Contains(hostNameservers(), f[1]) {
				t.Fatalf("resolv.conf on %s:\n%s", n, out)
			}
		}
	}
	e.Pea("run", "-d", "--name", "plain", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "nd", "--network", "nodns", "localhost/bb", "sleep", "1000")
	if entries, _ := os.ReadDir(e.dnsDir()); len(entries) > 0 || len(e.aardvarkPIDs()) > 0 {
		t.Fatalf("no DNS network, yet aardvark files %v or processes %v", entries, e.aardvarkPIDs())
	}
	// --internal: aardvark listens on its gateway, which the bridge keeps.
	e.Pea("network", "create", "--internal", "inner")
	gw := e.gatewayOf("inner")
	e.Pea("run", "-d", "--name", "in1", "--network", "inner", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "in2", "--network", "inner", "localhost/bb", "sleep", "1000")
	e.resolvesTo("in1", "in2", gw, e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.inner.IPAddress}}", "in2"))
	if out := e.Pea("exec", "in1", "ip", "route"); strings.Contains(out, "default") {
		t.Fatalf("internal network has a default route: %q", out)
	}
}

// hostNameservers are the host's resolvers a container's resolv.conf lists (not the loopback
// ones).
func hostNameservers() []string {
	var out []string
	b, _ := os.ReadFile("/etc/resolv.conf")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" && !strings.HasPrefix(f[1], "127.") && f[1] != "::1" {
			out = append(out, f[1])
		}
	}
	return out
}

// Containers started at once on one network all get their line in aardvark's file and in each
// other's /etc/hosts: the files are rebuilt under the store's peers lock, once more when a
// container is recorded running (an overlapping start's rebuild did not see it yet).
func TestDNSParallelStarts(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "par")
	gw := e.gatewayOf("par")
	const n = 6
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := range n {
		wg.Go(func() {
			if r := e.Try("run", "-d", "--name", "par"+strconv.Itoa(i), "--network", "par", "localhost/bb", "sleep", "1000"); r.Code != 0 {
				errs[i] = r.String()
			}
		})
	}
	wg.Wait()
	for _, s := range errs {
		if s != "" {
			t.Fatal(s)
		}
	}
	hosts := e.Pea("exec", "par0", "cat", "/etc/hosts") + "\n"
	for i := range n {
		name := "par" + strconv.Itoa(i)
		ip := e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.par.IPAddress}}", name)
		e.resolvesTo("par0", name, gw, ip)
		// The hosts sections had the same race (regression).
		if !strings.Contains(hosts, ip+"\t"+name+"\n") {
			t.Errorf("par0's /etc/hosts lacks %s %s:\n%s", ip, name, hosts)
		}
	}
	if pids := e.aardvarkPIDs(); len(pids) != 1 {
		t.Fatalf("aardvark processes of the store: %v", pids)
	}
}

// A dual-stack network's server answers AAAA with the IPv6 address, and listens on both
// gateways.
func TestDNSDualStack(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--ipv6", "ds")
	gws := strings.Fields(e.Pea("network", "inspect", "-f", "{{range .Subnets}}{{.Gateway}} {{end}}", "ds"))
	if len(gws) != 2 {
		t.Fatalf("gateways of a dual-stack network: %q", gws)
	}
	e.Pea("run", "-d", "--name", "six1", "--network", "ds", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "six2", "--network", "ds", "localhost/bb", "sleep", "1000")
	v4 := e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.ds.IPAddress}}", "six2")
	v6 := e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.ds.GlobalIPv6Address}}", "six2")
	e.resolvesTo("six1", "six2", gws[0], v4)
	eventually(t, 5*time.Second, func() error {
		for _, server := range gws {
			if got := e.lookup("six1", "six2", server, "AAAA"); !slices.Equal(got, []string{v6}) {
				return fmt.Errorf("AAAA of six2 from %s: %q, want %s", server, got, v6)
			}
		}
		return nil
	})
	if out := e.Pea("exec", "six1", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver "+gws[0]+"\nnameserver "+gws[1]+"\n") {
		t.Fatalf("resolv.conf of a dual-stack network:\n%s", out)
	}
}

// The store's aardvark goes with its last container (rm -fa, pod rm -fa, stop), with a forced
// network removal, system prune and system reset, leaving no file; one killed is started again by the
// next change; a stale line (a pea that died half-way) and a stale PID file naming another
// process break nothing.
func TestDNSCleanup(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "cl")
	gw := e.gatewayOf("cl")
	gone := func(what string) {
		t.Helper()
		eventually(t, 5*time.Second, func() error {
			entries, _ := os.ReadDir(e.dnsDir())
			if pids := e.aardvarkPIDs(); len(pids) > 0 || len(entries) > 0 {
				return fmt.Errorf("after %s: aardvark processes %v, files %v", what, pids, entries)
			}
			return nil
		})
	}
	e.Pea("run", "-d", "--name", "a1", "--network", "cl", "localhost/bb", "sleep", "1000")
	e.Pea("pod", "create", "--name", "cpod", "--network", "cl")
	e.Pea("run", "-d", "--pod", "cpod", "--name", "cm", "localhost/bb", "sleep", "1000")
	if len(e.aardvarkPIDs()) != 1 {
		t.Fatalf("no aardvark for the store")
	}
	e.Pea("rm", "-fa", "-t", "0")
	e.Pea("pod", "rm", "-fa", "-t", "0")
	gone("rm -fa and pod rm -fa")

	// Killed: the next start starts it again. A stale line of a container gone is dropped.
	e.Pea("run", "-d", "--name", "a2", "--network", "cl", "localhost/bb", "sleep", "1000")
	for _, pid := range e.aardvarkPIDs() {
		exec.Command("kill", "-9", pid).Run()
	}
	file := filepath.Join(e.dnsDir(), "cl")
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "%s 10.255.0.9  ghost\n", strings.Repeat("f", 64))
	f.Close()
	e.Pea("run", "-d", "--name", "a3", "--network", "cl", "localhost/bb", "sleep", "1000")
	e.resolvesTo("a2", "a3", gw, e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.cl.IPAddress}}", "a3"))
	e.resolvesTo("a2", "ghost", gw)
	// A PID file naming another process (the PID of a killed aardvark, reused): that process
	// is left alone, a new aardvark starts.
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	for _, pid := range e.aardvarkPIDs() {
		exec.Command("kill", "-9", pid).Run()
	}
	os.WriteFile(filepath.Join(e.dnsDir(), "aardvark.pid"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0o644)
	e.Pea("run", "-d", "--name", "a4", "--network", "cl", "localhost/bb", "sleep", "1000")
	e.resolvesTo("a2", "a4", gw, e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.cl.IPAddress}}", "a4"))
	if sleeper.ProcessState != nil || exec.Command("kill", "-0", strconv.Itoa(sleeper.Process.Pid)).Run() != nil {
		t.Fatal("pea signalled the process a stale PID file named")
	}
	e.Pea("network", "rm", "-f", "-t", "0", "cl")
	gone("network rm -f")

	// system prune, once the network's container stopped: the network goes, nothing is left.
	e.Pea("network", "create", "cl1")
	e.Pea("run", "-d", "--name", "p1", "--network", "cl1", "localhost/bb", "sleep", "1000")
	e.Pea("stop", "-t", "0", "p1")
	e.Pea("system", "prune", "-f")
	gone("stop and system prune")
	if out := e.Pea("network", "ls", "--format", "{{.Name}}"); strings.Contains(out, "cl1") {
		t.Fatalf("system prune kept the network: %s", out)
	}

	// system reset, with containers running on two networks.
	e.Pea("network", "create", "cl2")
	e.Pea("network", "create", "cl3")
	e.Pea("run", "-d", "--name", "b1", "--network", "cl2", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "b2", "--network", "cl3", "localhost/bb", "sleep", "1000")
	if entries, _ := os.ReadDir(e.dnsDir()); len(entries) != 3 {
		t.Fatalf("two networks' files and the PID file: %v", entries)
	}
	e.Pea("system", "reset", "-f")
	gone("system reset")
}

// Through the Docker API (what compose uses), with the real docker client: a network's
// containers resolve each other's names and aliases through their resolv.conf; a network
// removed and made again with another subnet under the same name is served at its new gateway;
// aardvark goes with the last container.
func TestDNSDockerAPI(t *testing.T) {
	a := newAPIEnv(t)
	for round, subnet := range []string{"", "10.123.77.0/24"} {
		args := []string{"network", "create"}
		if subnet != "" {
			args = append(args, "--subnet", subnet)
		}
		a.MustDocker(append(args, "dapi")...)
		a.MustDocker("run", "-d", "--name", "web", "--network", "dapi", "--network-alias", "webalias", "localhost/bb", "sleep", "1000")
		a.MustDocker("run", "-d", "--name", "k1", "--network", "dapi", "localhost/bb", "sleep", "1000")
		webIP := a.MustDocker("inspect", "-f", "{{.NetworkSettings.Networks.dapi.IPAddress}}", "web")
		for _, name := range []string{"web", "webalias"} {
			eventually(t, 5*time.Second, func() error {
				r := a.Docker("exec", "k1", "nslookup", name)
				if !strings.Contains(r.Stdout, "Address: "+webIP+"\n") {
					return fmt.Errorf("round %d: docker exec k1 nslookup %s: %s", round, name, r)
				}
				return nil
			})
		}
		a.MustDocker("rm", "-f", "web", "k1")
		a.MustDocker("network", "rm", "dapi")
	}
	if pids := a.aardvarkPIDs(); len(pids) > 0 {
		t.Fatalf("aardvark still runs with no container: %v", pids)
	}
}

// A container resolves its peers over DNS from its first instruction: aardvark-dns 1.4 closes
// and opens again its sockets when told to reread its files, and a start waits until it
// answers the new container's name (the first query of a container started meanwhile was
// refused, about one start in six: regression).
func TestDNSAtFirstInstruction(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "first")
	e.Pea("run", "-d", "--name", "web", "--network", "first", "localhost/bb", "sleep", "1000")
	ip := e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.first.IPAddress}}", "web")
	for i := range 10 {
		r := e.Try("run", "--rm", "--network", "first", "localhost/bb", "nslookup", "web")
		if !strings.Contains(r.Stdout+"\n", "Address: "+ip+"\n") {
			t.Fatalf("start %d: nslookup web at the first instruction: %s", i, r)
		}
	}
}

// containers.conf's helper_binaries_dir is where aardvark-dns is looked for first, as podman
// does.
func TestDNSHelperBinariesDir(t *testing.T) {
	e := newEnv(t).withBusybox()
	helpers := filepath.Join(e.Dir, "helpers")
	os.MkdirAll(helpers, 0o755)
	marker := filepath.Join(e.Dir, "helper-used")
	script := "#!/bin/sh\necho yes > " + marker + "\nexec /usr/lib/podman/aardvark-dns \"$@\"\n"
	if err := os.WriteFile(filepath.Join(helpers, "aardvark-dns"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := confFile(t, e, "containers.conf", "[engine]\nhelper_binaries_dir = [\""+filepath.Join(e.Dir, "nonesuch")+"\", \""+helpers+"\"]\n")
	e.peaConf(env, "network", "create", "helped")
	e.peaConf(env, "run", "-d", "--name", "h1", "--network", "helped", "localhost/bb", "sleep", "1000")
	e.peaConf(env, "run", "-d", "--name", "h2", "--network", "helped", "localhost/bb", "sleep", "1000")
	if b, err := os.ReadFile(marker); err != nil || string(b) != "yes\n" {
		t.Fatalf("the helper directory's aardvark-dns was not run: %q %v", b, err)
	}
	e.resolvesTo("h1", "h2", e.gatewayOf("helped"), e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.helped.IPAddress}}", "h2"))
}

// A start killed once aardvark's file named the container (before its process started) leaves
// a line of a container that is not running: the next change on the network drops it, the
// container starts again and is named, and the last removal leaves no aardvark.
func TestDNSStartKilled(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "kdns")
	gw := e.gatewayOf("kdns")
	e.Pea("run", "-d", "--name", "kd1", "--network", "kdns", "localhost/bb", "sleep", "1000")
	e.killedAt("peers: aardvark's files written", "run", "-d", "--name", "kd2", "--network", "kdns", "localhost/bb", "sleep", "1000")
	if b, _ := os.ReadFile(filepath.Join(e.dnsDir(), "kdns")); !strings.Contains(string(b), " kd2,") {
		t.Fatalf("the killed start had not written its line:\n%s", b)
	}
	e.Pea("run", "-d", "--name", "kd3", "--network", "kdns", "localhost/bb", "sleep", "1000")
	e.resolvesTo("kd1", "kd3", gw, e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.kdns.IPAddress}}", "kd3"))
	e.resolvesTo("kd1", "kd2", gw)
	e.Pea("start", "kd2")
	e.resolvesTo("kd1", "kd2", gw, e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.kdns.IPAddress}}", "kd2"))
	e.Pea("rm", "-fa", "-t", "0")
	if entries, _ := os.ReadDir(e.dnsDir()); len(entries) > 0 || len(e.aardvarkPIDs()) > 0 {
		t.Fatalf("after rm -fa: files %v, aardvark %v", entries, e.aardvarkPIDs())
	}
}
