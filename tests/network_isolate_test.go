package tests

import (
	"os/exec"
	"strings"
	"testing"
)

// -o isolate=true|strict (netavark's, which podman 4.3.1 takes): isolated networks do not reach
// each other, a strict one reaches no other network, the others are unaffected, and the rules
// go with the last isolated network.
func TestNetworkIsolate(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "-o", "isolate=true", "--subnet", "10.235.1.0/24", "isoa")
	e.Pea("network", "create", "-o", "isolate=true", "--subnet", "10.235.2.0/24", "isob")
	e.Pea("network", "create", "--subnet", "10.235.3.0/24", "plainc")
	ip := map[string]string{}
	for _, n := range []string{"isob", "plainc"} {
		e.Pea("run", "-d", "--name", "srv-"+n, "--network", n, "localhost/bb", "sh", "-c", "mkdir /www && echo "+n+" > /www/index.html && exec httpd -f -p 80 -h /www")
		ip[n] = e.Pea("inspect", "--format", "{{.NetworkSettings.IPAddress}}", "srv-"+n)
	}
	get := func(from, to string) string {
		t.Helper()
		return e.Pea("run", "--rm", "--network", from, "localhost/bb", "sh", "-c",
			"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 "+ip[to]+" 80 | tail -1; true")
	}
	check := func(from, to string, reach bool) {
		t.Helper()
		got := get(from, to)
		if reach && got != to || !reach && got != "" {
			t.Errorf("%s -> %s: %q, want reachable=%v", from, to, got, reach)
		}
	}
	check("isoa", "isob", false)
	// network reload remakes the networks' forward chains (flushed, so without their jump to
	// the isolation chain): the jump comes back with them.
	jumps := func() int {
		out, _ := exec.Command("iptables", "-S").Output()
		return strings.Count(string(out), `--comment "pea isolation" -j PEA-ISO-`)
	}
	before := jumps()
	e.Pea("network", "reload", "srv-isob")
	if after := jumps(); after != before || before < 3 {
		t.Fatalf("jumps to the isolation chain: %d before network reload, %d after", before, after)
	}
	check("isoa", "isob", false)
	check("isoa", "plainc", true)
	check("plainc", "isob", true)
	check("isob", "isob", true)
	e.Pea("network", "create", "-o", "isolate=strict", "--subnet", "10.235.4.0/24", "stricts")
	check("stricts", "plainc", false)
	check("isoa", "plainc", true)
	if got := e.Pea("network", "inspect", "--format", "{{.Options.isolate}}", "stricts"); got != "strict" {
		t.Fatalf("inspect's isolate option: %q", got)
	}
	for _, bad := range [][]string{{"-o", "isolate=maybe"}, {"-d", "macvlan", "-o", "isolate=true"}} {
		if r := e.Fails(125, append(append([]string{"network", "create"}, bad...), "refused")...); !strings.Contains(r.Stderr, "isolate") {
			t.Errorf("network create %v: %s", bad, r)
		}
	}
	e.Pea("rm", "-f", "-t", "0", "srv-isob", "srv-plainc")
	for _, n := range []string{"stricts", "isoa", "isob"} {
		e.Pea("network", "rm", n)
	}
	out, _ := exec.Command("iptables", "-S").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "pea isolation") {
			t.Fatalf("isolation rules left after the isolated networks went: %q", line)
		}
	}
	// With no isolated network left, the plain one still forwards.
	e.Pea("run", "-d", "--name", "srv-plainc", "--network", "plainc", "localhost/bb", "sh", "-c", "mkdir /www && echo plainc > /www/index.html && exec httpd -f -p 80 -h /www")
	ip["plainc"] = e.Pea("inspect", "--format", "{{.NetworkSettings.IPAddress}}", "srv-plainc")
	check("plainc", "plainc", true)
}
