package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pastaProcs are the live pasta servers serving this store's namespaces (their command lines
// name the store's run root).
func pastaProcs(t *testing.T, runRoot string) []string {
	t.Helper()
	out, _ := exec.Command("ps", "-eo", "stat=,pid=,args=").Output()
	var procs []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "Z") || !strings.HasSuffix(f[2], "pasta") {
			continue
		}
		if strings.Contains(line, runRoot+"/") {
			procs = append(procs, f[1])
		}
	}
	return procs
}

// hostRouteAddr is the host's IPv4 address on the interface of its default route, which pasta
// copies into the container.
func hostRouteAddr(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-4", "-o", "route", "get", "192.0.2.200").Output()
	if err != nil {
		t.Skipf("no IPv4 route: %v", err)
	}
	f := strings.Fields(string(out))
	for i := range f[:len(f)-1] {
		if f[i] == "src" {
			return f[i+1]
		}
	}
	t.Skipf("no source address in %q", out)
	return ""
}

// A container on --network pasta gets the host's address and routes, pasta's DNS forwarder
// first in resolv.conf, a published port that answers on the host's loopback, and when it
// stops its pasta is gone and the port free at once.
func TestPastaContainer(t *testing.T) {
	e := newEnv(t).withBusybox()
	addr := hostRouteAddr(t)
	out := e.Pea("run", "--rm", "--network", "pasta", "localhost/bb", "sh", "-c",
		"ip -4 -o addr show | grep -v ' lo ' | grep -o 'inet [0-9.]*'; ip route | grep -c default; head -1 /etc/resolv.conf")
	if want := "inet " + addr + "\n1\nnameserver 169.254.1.1"; out != want {
		t.Fatalf("the container's network: %q, want %q", out, want)
	}
	if n := pastaProcs(t, e.RunRoot); len(n) != 0 {
		t.Fatalf("pasta left after run --rm: %v", n)
	}

	port := freeHostPort(t)
	e.Pea("run", "-d", "--name", "web", "--network", "pasta", "-p", fmt.Sprintf("%d:80", port), "localhost/bb",
		"sh", "-c", fmt.Sprintf(httpdCmd, "pasta-page", 80))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "pasta-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	if got := e.Pea("inspect", "--format", "{{.HostConfig.NetworkMode}}", "web"); got != "pasta" {
		t.Fatalf("NetworkMode %q", got)
	}
	if got := e.Pea("port", "web"); got != fmt.Sprintf("80/tcp -> 0.0.0.0:%d", port) {
		t.Fatalf("port: %q", got)
	}
	if n := pastaProcs(t, e.RunRoot); len(n) != 1 {
		t.Fatalf("pasta processes with one container running: %v", n)
	}
	e.Pea("stop", "-t", "0", "web")
	// The stop waited for pasta: the port is free now, not a moment later.
	l, err := net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		t.Fatalf("port %d still taken after the stop: %v", port, err)
	}
	l.Close()
	if n := pastaProcs(t, e.RunRoot); len(n) != 0 {
		t.Fatalf("pasta left after stop: %v", n)
	}
	// A restart makes a new one; a pasta killed under a running container does not stop its
	// removal.
	e.Pea("start", "web")
	eventually(t, 10*time.Second, func() error {
		_, err := httpGet(url)
		return err
	})
	for _, pid := range pastaProcs(t, e.RunRoot) {
		exec.Command("kill", "-9", pid).Run()
	}
	e.Pea("rm", "-f", "-t", "0", "web")
	if ents, _ := os.ReadDir(filepath.Join(e.RunRoot, "network", "pasta")); len(ents) != 0 {
		t.Fatalf("pasta files left: %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.RunRoot, "network", "netns")); len(ents) != 0 {
		t.Fatalf("namespaces left: %v", ents)
	}
}

// A pod on pasta: its infra holds pasta with the pod's published port and options, the
// members share it, and --map-gw makes the gateway host.containers.internal.
func TestPastaPod(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	e.Pea("pod", "create", "--name", "pp", "--network", "pasta:--map-gw", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port))
	e.Pea("run", "-d", "--pod", "pp", "--name", "srv", "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "pod-page", 8080))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "pod-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	if got := e.Pea("run", "--rm", "--pod", "pp", "localhost/bb", "wget", "-qO-", "http://localhost:8080/"); got != "pod-page" {
		t.Fatalf("member to member: %q", got)
	}
	if got := e.Pea("pod", "inspect", "--format", "{{.InfraConfig.NetworkOptions}}", "pp"); got != "map[pasta:[--map-gw]]" {
		t.Fatalf("pod inspect NetworkOptions: %q", got)
	}
	gw, err := exec.Command("sh", "-c", "ip -4 route show default | awk '{print $3; exit}'").Output()
	if err != nil || len(gw) == 0 {
		t.Skip("no IPv4 default route")
	}
	hosts := e.Pea("exec", "srv", "grep", "host.containers.internal", "/etc/hosts")
	if want := strings.TrimSpace(string(gw)) + "\thost.containers.internal host.docker.internal"; hosts != want {
		t.Fatalf("host.containers.internal with --map-gw: %q, want %q", hosts, want)
	}
	if n := pastaProcs(t, e.RunRoot); len(n) != 1 {
		t.Fatalf("pasta processes: %v, want the infra's alone", n)
	}
	e.Pea("pod", "rm", "-f", "-t", "0", "pp")
	if n := pastaProcs(t, e.RunRoot); len(n) != 0 {
		t.Fatalf("pasta left after pod rm: %v", n)
	}
}

// Options pea sets itself and ports pasta cannot forward are refused at creation, options
// pasta refuses fail the start with pasta's own line; nothing is left either way.
func TestPastaRefusals(t *testing.T) {
	e := newEnv(t).withBusybox()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--network", "pasta:--netns,/tmp/x"}, "pasta option --netns: pea sets it itself"},
		{[]string{"--network", "pasta", "-p", "9:9/sctp"}, "pasta forwards tcp and udp only"},
	} {
		r := e.Fails(125, append(append([]string{"create", "--name", "refused"}, c.args...), "localhost/bb")...)
		if !strings.Contains(r.Stderr, c.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("create %v: want one line with %q: %s", c.args, c.want, r)
		}
		if e.Try("container", "exists", "refused").Code != 1 {
			t.Errorf("create %v left a container", c.args)
		}
	}
	r := e.Try("run", "--name", "bogus", "--network", "pasta:--no-such-option", "localhost/bb", "true")
	if r.Code == 0 || !strings.Contains(r.Stderr, "unrecognized option '--no-such-option'") {
		t.Fatalf("a start with an option pasta refuses: %s", r)
	}
	if n := pastaProcs(t, e.RunRoot); len(n) != 0 {
		t.Fatalf("pasta left: %v", n)
	}
	for _, d := range []string{"pasta", "netns"} {
		if ents, _ := os.ReadDir(filepath.Join(e.RunRoot, "network", d)); len(ents) != 0 {
			t.Fatalf("%s files left after the failed start: %v", d, ents)
		}
	}
	if got := e.Pea("inspect", "--format", "{{.State.Status}}", "bogus"); got != "created" && got != "exited" {
		t.Fatalf("the failed container's state: %q", got)
	}
}

// host.containers.internal (and host.docker.internal) in /etc/hosts, as podman 4.3 writes it:
// the network's gateway on a bridge, the host's address without a network of its own, given
// way to --add-host, and containers.conf's host_containers_internal_ip.
func TestHostContainersInternal(t *testing.T) {
	e := newEnv(t).withBusybox()
	line := func(args ...string) string {
		t.Helper()
		r := e.run(nil, append(append([]string{"run", "--rm"}, args...), "localhost/bb", "sh", "-c", "grep -E 'host\\.(containers|docker)\\.internal' /etc/hosts; true")...)
		if r.Code != 0 {
			t.Fatalf("run %v: %s", args, r)
		}
		return strings.TrimSpace(r.Stdout)
	}
	e.Pea("network", "create", "--subnet", "10.231.7.0/24", "hcinet")
	if got := line("--network", "hcinet"); got != "10.231.7.1\thost.containers.internal host.docker.internal" {
		t.Fatalf("on a bridge: %q", got)
	}
	addr := hostRouteAddr(t)
	out, _ := exec.Command("sh", "-c", "ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1").Output()
	first := strings.TrimSpace(string(out))
	if first == "" {
		first = addr
	}
	if got := line("--network", "none"); got != first+"\thost.containers.internal host.docker.internal" {
		t.Fatalf("--network none: %q, want the host's first address %s", got, first)
	}
	if got := line("--network", "hcinet", "--add-host", "host.containers.internal:192.0.2.77"); got != "192.0.2.77\thost.containers.internal\n10.231.7.1\thost.docker.internal" {
		t.Fatalf("with --add-host host.containers.internal: %q", got)
	}
	// podman 5's NAME;NAME:IP gives one line of several names.
	if got := line("--network", "hcinet", "--add-host", "one.example;host.docker.internal:192.0.2.78"); got != "192.0.2.78\tone.example host.docker.internal\n10.231.7.1\thost.containers.internal" {
		t.Fatalf("with --add-host NAME;NAME:IP: %q", got)
	}
	if r := e.Fails(125, "create", "--add-host", "a;;b:192.0.2.1", "localhost/bb"); !strings.Contains(r.Stderr, "invalid --add-host") {
		t.Fatalf("an empty name in --add-host: %s", r)
	}
	if got := line("--network", "hcinet", "--no-hosts"); got != "" {
		t.Fatalf("--no-hosts: %q", got)
	}
	conf := filepath.Join(e.Dir, "containers.conf")
	for _, c := range []struct{ value, want string }{
		{"none", ""},
		{"192.0.2.99", "192.0.2.99\thost.containers.internal host.docker.internal"},
	} {
		os.WriteFile(conf, []byte(fmt.Sprintf("[containers]\nhost_containers_internal_ip = %q\n", c.value)), 0o644)
		r := e.runEnv(nil, []string{"CONTAINERS_CONF=" + conf}, "run", "--rm", "--network", "hcinet", "localhost/bb", "sh", "-c", "grep internal /etc/hosts; true")
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != c.want {
			t.Fatalf("host_containers_internal_ip = %q: %s, want %q", c.value, r, c.want)
		}
	}
}

// The base of a container's /etc/hosts (containers.conf's base_hosts_file, podman's rules):
// the host's /etc/hosts entries by default, after --add-host's lines so that those win; the
// image's own with "image"; pea's localhost lines alone with "none"; a file's entries.
func TestBaseHostsFile(t *testing.T) {
	e := newEnv(t).withBusybox()
	hosts := func(conf string, args ...string) []string {
		t.Helper()
		var env []string
		if conf != "" {
			p := filepath.Join(e.Dir, "containers.conf")
			os.WriteFile(p, []byte("[containers]\n"+conf+"\n"), 0o644)
			env = []string{"CONTAINERS_CONF=" + p}
		}
		r := e.runEnv(nil, env, append(append([]string{"run", "--rm", "--network", "none"}, args...), "localhost/bb", "cat", "/etc/hosts")...)
		if r.Code != 0 {
			t.Fatalf("run (%s) %v: %s", conf, args, r)
		}
		return strings.Split(strings.TrimSpace(r.Stdout), "\n")
	}
	// Every entry of the host's file, as podman copies it.
	host, _ := os.ReadFile("/etc/hosts")
	got := hosts("", "--add-host", "first.example:192.0.2.5")
	if got[0] != "192.0.2.5\tfirst.example" {
		t.Fatalf("--add-host's line is not first: %q", got)
	}
	for _, line := range strings.Split(string(host), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 || net.ParseIP(f[0]) == nil {
			continue
		}
		want := f[0] + "\t" + strings.Join(f[1:], " ")
		if !slicesContains(got, want) {
			t.Fatalf("the host's entry %q is missing: %q", want, got)
		}
	}
	// A file of the user's: entries only, comments dropped, localhost added when it names none.
	base := filepath.Join(e.Dir, "hosts.base")
	os.WriteFile(base, []byte("# a comment\n10.9.8.7   db.internal db  # inline\nnot-an-ip x\n"), 0o644)
	got = hosts(fmt.Sprintf("base_hosts_file = %q", base))
	if len(got) < 3 || got[0] != "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4" ||
		got[2] != "10.9.8.7\tdb.internal db" || strings.Contains(strings.Join(got, "\n"), "not-an-ip") {
		t.Fatalf("base_hosts_file = FILE: %q", got)
	}
	// --hosts-file (podman 5.1) over containers.conf's; a pod's goes to its members.
	got = hosts(`base_hosts_file = "none"`, "--hosts-file", base)
	if !slicesContains(got, "10.9.8.7\tdb.internal db") {
		t.Fatalf("--hosts-file FILE over base_hosts_file = none: %q", got)
	}
	if got := hosts("", "--hosts-file", "none"); strings.Contains(strings.Join(got, "\n"), "runsc") || !strings.HasPrefix(got[0], "127.0.0.1\tlocalhost") {
		t.Fatalf("--hosts-file none: %q", got)
	}
	for _, bad := range []string{"relative/hosts", filepath.Join(e.Dir, "missing")} {
		r := e.Fails(125, "create", "--name", "badhosts", "--hosts-file", bad, "localhost/bb")
		if !strings.Contains(r.Stderr, "--hosts-file") || e.Try("container", "exists", "badhosts").Code != 1 {
			t.Fatalf("--hosts-file %s: %s", bad, r)
		}
	}
	e.Pea("pod", "create", "--name", "hp", "--hosts-file", base)
	if got := e.Pea("run", "--rm", "--pod", "hp", "localhost/bb", "grep", "db.internal", "/etc/hosts"); got != "10.9.8.7\tdb.internal db" {
		t.Fatalf("pod create --hosts-file: %q", got)
	}
	e.Pea("pod", "rm", "-f", "-t", "0", "hp")
	e.Pea("create", "--name", "spec", "--hosts-file", base, "localhost/bb")
	if spec := e.Pea("generate", "spec", "spec"); !strings.Contains(spec, `"base_hosts_file": "`+base+`"`) {
		t.Fatalf("generate spec has no base_hosts_file: %s", spec)
	}
	got = hosts(`base_hosts_file = "none"`)
	if strings.Contains(strings.Join(got, "\n"), "db.internal") || !strings.HasPrefix(got[0], "127.0.0.1\tlocalhost") {
		t.Fatalf("base_hosts_file = none: %q", got)
	}
	// The image's own file.
	ctx := filepath.Join(e.Dir, "ctx")
	os.MkdirAll(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "hosts"), []byte("10.1.1.1 from-image\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nCOPY hosts /etc/hosts\n"), 0o644)
	e.Pea("build", "-q", "-t", "localhost/bb-hosts", ctx)
	p := filepath.Join(e.Dir, "containers.conf")
	os.WriteFile(p, []byte("[containers]\nbase_hosts_file = \"image\"\n"), 0o644)
	r := e.runEnv(nil, []string{"CONTAINERS_CONF=" + p}, "run", "--rm", "--network", "none", "localhost/bb-hosts", "cat", "/etc/hosts")
	if r.Code != 0 || !strings.Contains(r.Stdout, "10.1.1.1\tfrom-image\n") {
		t.Fatalf("base_hosts_file = image: %s", r)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Regression: with slirp4netns's cidr option the container is network+100, and published
// ports were forwarded to 10.0.2.100 (podman's default address) all the same, so they never
// answered; resolv.conf and /etc/hosts named the default network's addresses too.
func TestSlirpCIDRPublishes(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	e.Pea("run", "-d", "--name", "sc", "--network", "slirp4netns:cidr=10.0.3.0/24", "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		"localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "slirp-cidr", 80))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "slirp-cidr" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	if got := e.Pea("exec", "sc", "sh", "-c", "head -1 /etc/resolv.conf; grep -w sc /etc/hosts"); got != "nameserver 10.0.3.3\n10.0.3.100\t"+e.Pea("inspect", "--format", "{{.Config.Hostname}}", "sc")+" sc" {
		t.Fatalf("resolv.conf and hosts on slirp4netns:cidr=10.0.3.0/24: %q", got)
	}
	e.Pea("rm", "-f", "-t", "0", "sc")
}
