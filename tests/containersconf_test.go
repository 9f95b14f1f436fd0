package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// containers.conf(5): each test writes a file of its own and names it with CONTAINERS_CONF for
// the pea commands that should read it (TestMain gives every other command an empty one).

// confFile writes content as a containers.conf in e's directory and returns the environment
// that names it.
func confFile(t *testing.T, e *Env, name, content string) []string {
	t.Helper()
	p := filepath.Join(e.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"CONTAINERS_CONF=" + p}
}

// peaConf runs pea with env and fails the test unless it exits 0.
func (e *Env) peaConf(env []string, args ...string) string {
	e.t.Helper()
	r := e.runEnv(nil, env, args...)
	if r.Code != 0 {
		e.t.Fatalf("pea %s (%v): %s", strings.Join(args, " "), env, r)
	}
	return strings.TrimSpace(r.Stdout)
}

// The [containers] defaults of a new container: environment (under -e), ulimits (under
// --ulimit), sysctls (replacing pea's ping_group_range), DNS, time zone, pids limit,
// capabilities, annotations, volumes, devices, /dev/shm's size, --init, the stop timeout; and a
// flag given wins over its key.
func TestContainersConfContainerDefaults(t *testing.T) {
	e := newEnv(t).withBusybox()
	vol := filepath.Join(e.Dir, "confvol")
	os.MkdirAll(vol, 0o755)
	os.WriteFile(filepath.Join(vol, "file"), []byte("from-conf-volume\n"), 0o644)
	tokyo, err := os.ReadFile("/usr/share/zoneinfo/Asia/Tokyo")
	if err != nil {
		t.Skip("no zoneinfo")
	}
	env := confFile(t, e, "containers.conf", fmt.Sprintf(`
# a comment
[containers]
env = [
  "FROMCONF=1",   # a comment in an array
  "OVER=conf",
]
default_ulimits = ["nofile=1234:1234"]
default_sysctls = ["net.ipv4.ip_unprivileged_port_start=80"]
dns_servers = ["192.0.2.53"]
dns_searches = ["conf.example"]
dns_options = ["ndots:3"]
tz = "Asia/Tokyo"
pids_limit = 321
default_capabilities = ["CHOWN", "NET_RAW"]
annotations = ["conf.anno=yes"]
volumes = ["%s:/confvol:ro"]
devices = ["/dev/zero:/dev/confzero:rwm"]
shm_size = "32m"
init = true
unknown_key = "podman ignores it, and so does pea"

[engine]
stop_timeout = 42

[machine]
cpus = 2
`, vol))
	script := `echo env=$FROMCONF,$OVER; echo nofile=$(ulimit -n); echo port=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start);
echo ping=$(cat /proc/sys/net/ipv4/ping_group_range); cat /etc/resolv.conf; echo tz=$(wc -c < /etc/localtime);
echo pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max); grep CapEff /proc/self/status;
cat /confvol/file; test -c /dev/confzero && echo device=ok; echo shm=$(df -k /dev/shm | awk 'NR==2 {print $2}');
echo pid1=$(tr '\0' ' ' < /proc/1/cmdline)`
	out := e.peaConf(env, "run", "--rm", "--name", "conf-k1", "-e", "OVER=cli", "localhost/bb", "sh", "-c", script)
	for _, want := range []string{
		"env=1,cli", "nofile=1234", "port=80", "ping=1 0", "search conf.example", "nameserver 192.0.2.53", "options ndots:3",
		"tz=" + strconv.Itoa(len(tokyo)), "pids=321", "CapEff:\t0000000000002001", "from-conf-volume", "device=ok",
		"shm=31252", "pid1=/run/pea-init -- sh -c",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("container's view lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "nameserver") && strings.Count(out, "nameserver") != 1 {
		t.Errorf("resolv.conf has the host's servers too:\n%s", out)
	}

	// inspect shows what the configuration gave.
	e.peaConf(env, "create", "--name", "conf-k2", "localhost/bb", "true")
	got := e.Pea("inspect", "conf-k2", "--format", "{{.Config.StopTimeout}} {{index .Config.Annotations \"conf.anno\"}} {{.HostConfig.Init}} {{.HostConfig.PidsLimit}} {{.HostConfig.ShmSize}}")
	if want := "42 yes true 321 32000000"; got != want { // shm_size's m is 1000², as podman reads it
		t.Errorf("inspect: %q, want %q", got, want)
	}

	// Flags win over the keys; --ulimit and -v add to the configured lists, winning for the
	// same limit or destination; --dns adds to the configured servers (podman lists both).
	other := filepath.Join(e.Dir, "othervol")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "file"), []byte("from-flag-volume\n"), 0o644)
	out = e.peaConf(env, "run", "--rm", "--init=false", "--tz", "UTC", "--pids-limit", "77", "--dns", "192.0.2.99",
		"--ulimit", "nproc=999:999", "-v", other+":/confvol", "--shm-size", "16m", "--cap-drop", "NET_RAW", "--stop-timeout", "3",
		"--name", "conf-k3", "localhost/bb", "sh", "-c",
		`echo pid1=$(tr '\0' ' ' < /proc/1/cmdline); echo tz=$(wc -c < /etc/localtime); echo nofile=$(ulimit -n) nproc=$(ulimit -u);
cat /etc/resolv.conf; cat /confvol/file; echo shm=$(df -k /dev/shm | awk 'NR==2 {print $2}'); grep CapEff /proc/self/status;
echo pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)`)
	utc, _ := os.ReadFile("/usr/share/zoneinfo/UTC")
	for _, want := range []string{"pid1=sh -c", "tz=" + strconv.Itoa(len(utc)), "nofile=1234 nproc=999",
		"nameserver 192.0.2.53\nnameserver 192.0.2.99", "search conf.example", "from-flag-volume", "shm=16384", "CapEff:\t0000000000000001", "pids=77"} {
		if !strings.Contains(out, want) {
			t.Errorf("with flags, the container's view lacks %q:\n%s", want, out)
		}
	}

	// Without the file (TestMain's empty one), none of it.
	out = e.Pea("run", "--rm", "localhost/bb", "sh", "-c", `echo env=$FROMCONF; echo ping=$(cat /proc/sys/net/ipv4/ping_group_range); test -e /confvol || echo novol; grep CapEff /proc/self/status`)
	for _, want := range []string{"env=\n", "ping=0 0", "novol", "CapEff:\t00000000800405fb"} {
		if !strings.Contains(out+"\n", want) {
			t.Errorf("without containers.conf, the container's view lacks %q:\n%s", want, out)
		}
	}
}

// A configured default_ulimits above the caller's hard limit is asked for as it is: the start
// fails, as podman's does (pea's own defaults are lowered to the hard limit).
func TestContainersConfUlimitAboveHardLimit(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Max >= 1<<30 {
		t.Skip("no finite RLIMIT_NOFILE hard limit")
	}
	e := newEnv(t).withBusybox()
	over := rl.Max + 1000
	env := confFile(t, e, "containers.conf", fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=%d:%d\"]\n", over, over))
	r := e.runEnv(nil, env, "run", "--rm", "--network", "none", "localhost/bb", "true")
	if r.Code == 0 || !strings.Contains(r.Stderr, "RLIMIT_NOFILE") {
		t.Fatalf("nofile %d above the hard limit %d: %s", over, rl.Max, r)
	}
	// Without it, pea's default is within the hard limit.
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/bb", "sh", "-c", "ulimit -n"); out != strconv.FormatUint(min(rl.Max, 1048576), 10) {
		t.Errorf("default nofile %s, want the hard limit %d", out, rl.Max)
	}
}

// netns = "none", no_hosts and log_driver: the container has no network, pea writes no
// /etc/hosts, and the log driver is the configured one; a flag still wins.
func TestContainersConfNetnsHostsLogDriver(t *testing.T) {
	e := newEnv(t).withBusybox()
	env := confFile(t, e, "containers.conf", "[containers]\nnetns = \"none\"\nno_hosts = true\nlog_driver = \"none\"\n")
	out := e.peaConf(env, "run", "--rm", "--name", "conf-none", "localhost/bb", "sh", "-c",
		"cat /proc/net/dev | tail -n +3 | cut -d: -f1; test -e /etc/hosts || echo nohosts")
	if got := strings.Join(strings.Fields(out), " "); got != "lo nohosts" {
		t.Errorf("interfaces, and whether pea wrote /etc/hosts: %q, want lo nohosts", got)
	}
	// Without no_hosts, pea's /etc/hosts.
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/bb", "cat", "/etc/hosts"); !strings.Contains(out, "localhost") {
		t.Errorf("without no_hosts: /etc/hosts %q", out)
	}
	e.peaConf(env, "create", "--name", "conf-logs", "localhost/bb", "true")
	if got := e.Pea("inspect", "conf-logs", "--format", "{{.HostConfig.NetworkMode}} {{.HostConfig.LogConfig.Type}}"); got != "none none" {
		t.Errorf("network mode and log driver %q, want none none", got)
	}
	e.peaConf(env, "create", "--name", "conf-logs2", "--network", "host", "--log-driver", "k8s-file", "localhost/bb", "true")
	if got := e.Pea("inspect", "conf-logs2", "--format", "{{.HostConfig.NetworkMode}} {{.HostConfig.LogConfig.Type}}"); got != "host k8s-file" {
		t.Errorf("with flags: %q, want host k8s-file", got)
	}
}

// [engine]: the runtime by name through [engine.runtimes] (its first path that exists), the
// hooks directories, events_logger none, pull_policy never.
func TestContainersConfEngine(t *testing.T) {
	h := newHookEnv(t)
	crun := "/usr/bin/crun"
	if _, err := os.Stat(crun); err != nil {
		t.Skip("no /usr/bin/crun")
	}
	// The runtime: a script that notes its calls and runs crun.
	wrapper := filepath.Join(h.Dir, "crun-wrapper")
	calls := filepath.Join(h.Dir, "runtime-calls")
	os.WriteFile(wrapper, []byte("#!/bin/sh\necho \"$@\" >> "+calls+"\nexec "+crun+" \"$@\"\n"), 0o755)
	h.hook("10-all", map[string]any{"always": true}, "prestart")
	env := confFile(t, h.Env, "containers.conf", fmt.Sprintf(`[engine]
runtime = "wrapped"
hooks_dir = [%q]
events_logger = "none"
pull_policy = "never"

[engine.runtimes]
wrapped = ["/nonexistent/crun", %q]
`, h.hooks, wrapper))
	h.peaConf(env, "run", "--rm", "--network", "none", "--name", "conf-rt", "localhost/bb", "true")
	if b, _ := os.ReadFile(calls); !strings.Contains(string(b), "create") {
		t.Errorf("the configured runtime was not run: %q", b)
	}
	if got := h.ran(); got != "prestart conf-rt" {
		t.Errorf("hooks of the configured directory: %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(h.RunRoot, "events", "events.log")); strings.Contains(string(b), "conf-rt") {
		t.Errorf("events were logged with events_logger none: %s", b)
	}
	// --runtime, --hooks-dir and --events-backend win.
	os.Remove(calls)
	h.peaConf(env, "--runtime", crun, "--hooks-dir", filepath.Join(h.Dir, "empty"), "--events-backend", "file",
		"run", "--rm", "--network", "none", "localhost/bb", "true")
	if b, _ := os.ReadFile(calls); len(b) > 0 {
		t.Errorf("--runtime given, yet the configured one ran: %q", b)
	}
	if got := h.ran(); got != "" {
		t.Errorf("--hooks-dir given, yet the configured hooks ran: %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(h.RunRoot, "events", "events.log")); !strings.Contains(string(b), `"create"`) {
		t.Errorf("--events-backend file: no container event logged: %s", b)
	}
	// pull_policy never: a missing image is not pulled (missing would try the registry).
	r := h.runEnv(nil, env, "create", "127.0.0.1:1/conf/none:1")
	if r.Code != 125 || strings.Contains(r.Stderr, "pulling") {
		t.Errorf("pull_policy never: %s", r)
	}
	if r := h.Try("create", "127.0.0.1:1/conf/none:1"); r.Code != 125 || !strings.Contains(r.Stderr, "pulling") {
		t.Errorf("without pull_policy: %s", r)
	}
	// A runtime that is nowhere is refused before anything is done.
	bad := confFile(t, h.Env, "bad-runtime.conf", "[engine]\nruntime = \"runc-not-here\"\n")
	if r := h.runEnv(nil, bad, "create", "localhost/bb", "true"); r.Code != 125 || !strings.Contains(r.Stderr, `"runc-not-here" not found`) {
		t.Errorf("missing runtime: %s", r)
	}
}

// [network]: default_subnet is a fresh store's default network's, default_subnet_pools give
// network create its subnet, default_network puts containers naming no network on a network
// made with default_subnet on its first use.
func TestContainersConfNetwork(t *testing.T) {
	e := newEnv(t).withBusybox()
	env := confFile(t, e, "containers.conf", `[network]
default_subnet = "10.247.37.0/24"
default_subnet_pools = [
  {"base" = "10.248.64.0/20", "size" = 26},
]
`)
	if got := e.peaConf(env, "network", "inspect", "pea", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}"); got != "10.247.37.0/24" {
		t.Errorf("default network's subnet %q, want 10.247.37.0/24", got)
	}
	e.peaConf(env, "network", "create", "conf-pool")
	if got := e.Pea("network", "inspect", "conf-pool", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}"); got != "10.248.64.0/26" {
		t.Errorf("pool network's subnet %q, want 10.248.64.0/26", got)
	}
	e.peaConf(env, "network", "create", "conf-pool2")
	if got := e.Pea("network", "inspect", "conf-pool2", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}"); got != "10.248.64.64/26" {
		t.Errorf("second pool network's subnet %q, want 10.248.64.64/26", got)
	}

	e2 := newEnv(t).withBusybox()
	env2 := confFile(t, e2, "containers.conf", "[network]\ndefault_network = \"confnet\"\ndefault_subnet = \"10.247.38.0/24\"\n")
	out := e2.peaConf(env2, "run", "--rm", "--name", "conf-net", "localhost/bb", "sh", "-c", "ip -4 -o addr show eth0")
	if !strings.Contains(out, "10.247.38.") {
		t.Errorf("container's address %q, want one of 10.247.38.0/24", out)
	}
	if got := e2.Pea("network", "inspect", "confnet", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}"); got != "10.247.38.0/24" {
		t.Errorf("confnet's subnet %q", got)
	}
	if r := e2.runEnv(nil, env2, "network", "rm", "confnet"); r.Code != 125 || strings.TrimSpace(r.Stderr) != "Error: default network confnet cannot be removed" {
		t.Errorf("network rm of default_network: %s", r)
	}
}

// A syntax error or a wrong type fails the command (125) naming the file; a missing
// CONTAINERS_CONF too. The listings that read nothing of it (ps) are not held up.
func TestContainersConfErrors(t *testing.T) {
	e := newEnv(t).withBusybox()
	syntax := confFile(t, e, "syntax.conf", "[containers]\nenv = [\"A=1\"\n")
	r := e.runEnv(nil, syntax, "run", "--rm", "localhost/bb", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, filepath.Join(e.Dir, "syntax.conf")+": line 2: unterminated array") {
		t.Errorf("syntax error: %s", r)
	}
	wrong := confFile(t, e, "wrong.conf", "[containers]\npids_limit = \"many\"\n")
	r = e.runEnv(nil, wrong, "pod", "create")
	if r.Code != 125 || !strings.Contains(r.Stderr, filepath.Join(e.Dir, "wrong.conf")+`: line 2: "containers.pids_limit" must be an integer, not a string`) {
		t.Errorf("wrong type: %s", r)
	}
	missing := []string{"CONTAINERS_CONF=" + filepath.Join(e.Dir, "missing.conf")}
	r = e.runEnv(nil, missing, "volume", "ls")
	if r.Code != 125 || !strings.Contains(r.Stderr, "missing.conf") {
		t.Errorf("missing CONTAINERS_CONF: %s", r)
	}
	if r := e.runEnv(nil, syntax, "ps", "-a"); r.Code != 0 {
		t.Errorf("ps with a broken containers.conf: %s", r)
	}
	if out := e.Pea("pod", "ps", "-q"); out != "" {
		t.Errorf("a failed pod create left %q", out)
	}
}

// The API service applies the server's keys: the Docker API's container gets the configured
// environment and annotation, and keeps Docker's own capabilities.
func TestContainersConfAPI(t *testing.T) {
	e := newEnv(t).withBusybox()
	env := confFile(t, e, "containers.conf", "[containers]\nenv = [\"FROMCONF=api\"]\nannotations = [\"conf.anno=api\"]\ndefault_capabilities = [\"CHOWN\"]\n")
	a := newAPIEnvWith(t, e, env)
	status, body := a.Request("POST", "/v1.41/containers/create?name=conf-api", map[string]any{"Image": "localhost/bb", "Cmd": []string{"true"}})
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	got := e.Pea("inspect", "conf-api", "--format", "{{range .Config.Env}}{{.}} {{end}}|{{index .Config.Annotations \"conf.anno\"}}|{{len .EffectiveCaps}}")
	if !strings.Contains(got, "FROMCONF=api") || !strings.Contains(got, "|api|14") {
		t.Errorf("Docker API container: %q, want the configured env and annotation and Docker's 14 capabilities", got)
	}
}

// [engine.service_destinations] and active_service are connections of remote mode beside pea's
// own: listed, the default, usable by name; not pea's to remove.
func TestContainersConfServiceDestinations(t *testing.T) {
	r := newRemoteEnv(t)
	env := confFile(t, r.Env, "containers.conf", fmt.Sprintf(`[engine]
active_service = "confsvc"
[engine.service_destinations.confsvc]
uri = "unix://%s"
[engine.service_destinations.other]
uri = "ssh://user@example.invalid/run/pea/pea.sock"
identity = "/nonexistent/key"
`, r.Sock))
	ls := r.client("", env, "system", "connection", "ls", "--format", "{{.Name}} {{.URI}} {{.Default}}")
	if ls.Code != 0 || !strings.Contains(ls.Stdout, "confsvc unix://"+r.Sock+" true") || !strings.Contains(ls.Stdout, "other ssh://user@example.invalid/run/pea/pea.sock false") {
		t.Fatalf("connection ls: %s", ls)
	}
	r.MustRemote("create", "--name", "conf-remote", "localhost/bb", "true")
	if res := r.client("", env, "--connection", "confsvc", "ps", "-a", "--format", "{{.Names}}"); res.Code != 0 || strings.TrimSpace(res.Stdout) != "conf-remote" {
		t.Errorf("--connection confsvc: %s", res)
	}
	if res := r.client("", env, "--remote", "ps", "-a", "--format", "{{.Names}}"); res.Code != 0 || strings.TrimSpace(res.Stdout) != "conf-remote" {
		t.Errorf("--remote with active_service: %s", res)
	}
	if res := r.client("", env, "system", "connection", "rm", "confsvc"); res.Code != 125 || !strings.Contains(res.Stderr, "containers.conf") {
		t.Errorf("connection rm of a configured destination: %s", res)
	}
	// A connection of pea's own of the same name wins, and pea's default wins over
	// active_service.
	if res := r.client("", env, "system", "connection", "add", "--default", "mine", "unix:///nonexistent.sock"); res.Code != 0 {
		t.Fatalf("connection add: %s", res)
	}
	ls = r.client("", env, "system", "connection", "ls", "--format", "{{.Name}} {{.Default}}")
	if !strings.Contains(ls.Stdout, "mine true") || !strings.Contains(ls.Stdout, "confsvc false") {
		t.Errorf("pea's default: %s", ls)
	}
}

// seccomp_profile is the profile of a container that names none; --security-opt seccomp= wins,
// and a configured file that is not there leaves pea's own.
func TestContainersConfSeccompProfile(t *testing.T) {
	e := newEnv(t).withBusybox()
	profile := filepath.Join(e.Dir, "seccomp.json")
	os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}`), 0o644)
	env := confFile(t, e, "containers.conf", fmt.Sprintf("[containers]\nseccomp_profile = %q\n", profile))
	mk := []string{"run", "--rm", "--network", "none", "localhost/bb", "sh", "-c", "mkdir /tmp/d && echo made || echo refused"}
	if out := e.peaConf(env, mk...); out != "refused" {
		t.Errorf("with the configured profile: %q, want refused", out)
	}
	if out := e.peaConf(env, append([]string{"run", "--security-opt", "seccomp=unconfined"}, mk[1:]...)...); out != "made" {
		t.Errorf("with --security-opt seccomp=unconfined: %q, want made", out)
	}
	missing := confFile(t, e, "missing.conf", "[containers]\nseccomp_profile = \"/nonexistent/seccomp.json\"\n")
	if out := e.peaConf(missing, mk...); out != "made" {
		t.Errorf("with a configured profile that is not there: %q, want made (pea's profile)", out)
	}
}
