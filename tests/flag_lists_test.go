package tests

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCommaSeparatedListFlags: the flags podman declares as lists split a value at its commas
// (--cap-add NET_ADMIN,SYS_TIME is two capabilities); pea took each value whole and refused
// most of them ("unknown capability", "is not an IP address", "too many colons").
func TestCommaSeparatedListFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	out := e.Pea("run", "--rm", // the default network: DNS flags need one
		"--cap-add", "NET_ADMIN,SYS_TIME", "--cap-drop", "CHOWN,KILL",
		"--dns", "10.1.2.3,10.1.2.4", "--dns-search", "a.example,b.example", "--dns-option", "ndots:2,timeout:1",
		"--add-host", "ha:10.0.0.1,hb:10.0.0.2", "--group-add", "10,20",
		"--ulimit", "nofile=100:100,nproc=50:60", "--sysctl", "net.ipv4.tcp_syncookies=0,net.ipv4.ip_default_ttl=33",
		"--device", "/dev/null:/dev/xa,/dev/zero:/dev/xb",
		"localhost/bb", "sh", "-c", `grep -v "^#" /etc/resolv.conf; id; ulimit -n; ulimit -Hu; grep "^10.0.0" /etc/hosts;
cat /proc/sys/net/ipv4/tcp_syncookies /proc/sys/net/ipv4/ip_default_ttl; ls /dev/xa /dev/xb; grep CapBnd /proc/self/status`)
	for _, want := range []string{"nameserver 10.1.2.3\nnameserver 10.1.2.4", "search a.example b.example", "options ndots:2 timeout:1",
		"groups=10,20", "\n100\n60\n", "10.0.0.1\tha\n10.0.0.2\thb", "\n0\n33\n", "/dev/xa\n/dev/xb"} {
		if !strings.Contains(out, want) {
			t.Errorf("run with comma lists: no %q in\n%s", want, out)
		}
	}
	// CAP_NET_ADMIN (12) and CAP_SYS_TIME (25) in, CAP_CHOWN (0) and CAP_KILL (5) out.
	if i := strings.Index(out, "CapBnd:"); i < 0 {
		t.Errorf("no CapBnd in %s", out)
	} else if bnd, err := strconv.ParseUint(strings.TrimSpace(out[i+7:]), 16, 64); err != nil {
		t.Errorf("CapBnd: %v", err)
	} else if bnd&(1<<12) == 0 || bnd&(1<<25) == 0 || bnd&1 != 0 || bnd&(1<<5) != 0 {
		t.Errorf("bounding set %x: want NET_ADMIN and SYS_TIME, without CHOWN and KILL", bnd)
	}
	e.Pea("create", "--name", "lists", "-p", "127.0.0.1::80,127.0.0.1::81", "--expose", "82,83",
		"--annotation", "a=1,b=2", "localhost/bb", "true")
	// Exposed ports that are not published show bound to nothing (null), as podman's.
	if got := e.Pea("inspect", "--format", "{{json .HostConfig.PortBindings}} {{.Config.Annotations.a}} {{.Config.Annotations.b}}", "lists"); !regexp.MustCompile(`^\{"80/tcp":\[\{"HostIp":"127\.0\.0\.1","HostPort":"\d+"\}\],"81/tcp":\[\{"HostIp":"127\.0\.0\.1","HostPort":"\d+"\}\],"82/tcp":null,"83/tcp":null\} 1 2$`).MatchString(got) {
		t.Errorf("create -p/--expose/--annotation lists: %s, want 2 bindings, 82 and 83 exposed, a=1 b=2", got)
	}
	if got := e.Pea("inspect", "--format", "{{json .NetworkSettings.Ports}}", "lists"); !strings.Contains(got, `"82/tcp":null,"83/tcp":null`) {
		t.Errorf("NetworkSettings.Ports: %s", got)
	}
	// A pod's list flags, seen by a member.
	e.Pea("pod", "create", "--name", "lp", "--dns", "10.9.9.1,10.9.9.2", "--add-host", "pa:10.0.1.1,pb:10.0.1.2")
	out = e.Pea("run", "--rm", "--pod", "lp", "localhost/bb", "sh", "-c", "grep nameserver /etc/resolv.conf; grep ^10.0.1 /etc/hosts")
	if !strings.Contains(out, "nameserver 10.9.9.1\nnameserver 10.9.9.2") || !strings.Contains(out, "10.0.1.1\tpa\n10.0.1.2\tpb") {
		t.Errorf("pod create with comma lists, a member sees:\n%s", out)
	}
	// A list value still holds one bad item: refused whole, nothing made.
	e.refused("unknown capability", "create", "--name", "bad", "--cap-add", "NET_ADMIN,NOPE", "localhost/bb")
	if r := e.Try("container", "exists", "bad"); r.Code != 1 {
		t.Errorf("a refused create left container bad (exists: %d)", r.Code)
	}
}

// TestInspectCapChanges: inspect's HostConfig.CapAdd and CapDrop are podman's: what the bounding
// set has beyond the default capabilities and which defaults it lacks, not the flags as typed
// (pea showed ["ALL"], and an added default capability as added).
func TestInspectCapChanges(t *testing.T) {
	e := newEnv(t).withBusybox()
	caps := func(name string, flags ...string) string {
		e.Pea(append(append([]string{"create", "--name", name}, flags...), "localhost/bb", "true")...)
		return e.Pea("inspect", "--format", "{{.HostConfig.CapAdd}} {{.HostConfig.CapDrop}}", name)
	}
	if got := caps("c1", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"); got != "[] [CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT]" {
		t.Errorf("--cap-drop ALL --cap-add NET_BIND_SERVICE: %s", got)
	}
	if got := caps("c2", "--cap-add", "CHOWN,SYS_ADMIN,net_admin"); got != "[CAP_NET_ADMIN CAP_SYS_ADMIN] []" {
		t.Errorf("--cap-add CHOWN (a default),SYS_ADMIN,net_admin: %s", got)
	}
	if got := caps("c3"); got != "[] []" {
		t.Errorf("defaults: %s", got)
	}
	// --privileged: nothing added; dropped, the capabilities the caller itself lacks.
	var lacks []string
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			bnd, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			last, _ := os.ReadFile("/proc/sys/kernel/cap_last_cap")
			n, _ := strconv.Atoi(strings.TrimSpace(string(last)))
			for i := 0; i <= n && i <= 40; i++ {
				if bnd&(1<<uint(i)) == 0 {
					lacks = append(lacks, fmt.Sprint(i))
				}
			}
		}
	}
	got := caps("c4", "--privileged")
	if !strings.HasPrefix(got, "[] [") {
		t.Errorf("--privileged: %s", got)
	}
	if dropped := strings.Fields(strings.Trim(strings.TrimPrefix(got, "[] "), "[]")); len(dropped) != len(lacks) {
		t.Errorf("--privileged drops %v; the caller lacks capabilities %v", dropped, lacks)
	}
}

// TestCommaSeparatedFilters: ps, pod ps, images, volume ls, secret ls and the container verbs'
// --filter split at commas, as podman's (two names: either matches); network create's --gateway
// and network connect's --alias do too. events, network ls and prune keep a value whole, as
// podman's.
func TestCommaSeparatedFilters(t *testing.T) {
	e := newEnv(t).withBusybox()
	for _, n := range []string{"fa", "fb", "fc"} {
		e.Pea("create", "--name", n, "localhost/bb", "true")
		e.Pea("pod", "create", "--name", "p"+n)
		e.Pea("volume", "create", "v"+n)
		e.PeaIn("s3cret", "secret", "create", "s"+n, "-")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ps", "-a", "--filter", "name=^fa$,name=^fb$", "--format", "{{.Names}}", "--sort", "names"}, "fa\nfb"},
		{[]string{"pod", "ps", "--filter", "name=^pfa$,name=^pfc$", "--format", "{{.Name}}", "--sort", "name"}, "pfa\npfc"},
		{[]string{"volume", "ls", "--filter", "name=vfb,name=vfc", "--format", "{{.Name}}"}, "vfb\nvfc"},
		{[]string{"secret", "ls", "--filter", "name=sfa,name=sfb", "--format", "{{.Name}}"}, "sfa\nsfb"},
		{[]string{"images", "--filter", "reference=localhost/bb,reference=nosuch", "--format", "{{.Repository}}"}, "localhost/bb"},
	} {
		got := strings.Split(e.Pea(c.args...), "\n")
		slices.Sort(got)
		if strings.Join(got, "\n") != c.want {
			t.Errorf("pea %s: %q, want %q", strings.Join(c.args, " "), got, c.want)
		}
	}
	e.Pea("rm", "--filter", "name=^fa$,name=^fc$")
	if got := e.Pea("ps", "-a", "--filter", "name=^f[abc]$", "--format", "{{.Names}}"); got != "fb" { // not the infra containers, named by hex IDs
		t.Errorf("rm --filter name=^fa$,name=^fc$ left %q", got)
	}
	e.Pea("network", "create", "--subnet", "10.199.91.0/24", "--subnet", "10.199.92.0/24", "--gateway", "10.199.91.2,10.199.92.2", "twogw")
	if got := e.Pea("network", "inspect", "--format", "{{range .Subnets}}{{.Gateway}} {{end}}", "twogw"); got != "10.199.91.2 10.199.92.2" {
		t.Errorf("--gateway A,B: %q", got)
	}
	e.Pea("network", "create", "--subnet", "10.199.93.0/24", "other")
	e.Pea("create", "--name", "al", "--network", "twogw", "localhost/bb", "true")
	e.Pea("network", "connect", "--alias", "x1,x2", "other", "al")
	if got := e.Pea("inspect", "--format", `{{(index .NetworkSettings.Networks "other").Aliases}}`, "al"); !strings.HasPrefix(got, "[x1 x2") {
		t.Errorf("network connect --alias x1,x2: aliases %s", got)
	}
}

// TestPodmanFlagAliases: the old spellings podman's flag-name normalizer still accepts, which
// pea refused as unknown flags: --dns-opt, --healthcheck-*, --override-arch/os on create, run
// and pod create, ps --storage, stop --timeout; help does not list them.
func TestPodmanFlagAliases(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "c", "--dns-opt", "ndots:3", "--healthcheck-command", "true",
		"--healthcheck-interval", "1m", "--healthcheck-retries", "4", "--healthcheck-timeout", "7s",
		"--healthcheck-start-period", "2s", "--override-arch", runtime.GOARCH, "--override-os", "linux", "localhost/bb", "sleep", "100")
	got := e.Pea("inspect", "--format", "{{.HostConfig.DnsOptions}} {{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}} {{.Config.Healthcheck.Timeout}} {{.Config.Healthcheck.StartPeriod}}", "c")
	if want := "[ndots:3] [CMD-SHELL true] 1m0s 4 7s 2s"; got != want {
		t.Errorf("create with podman's old flag names: %q, want %q", got, want)
	}
	e.Pea("pod", "create", "--name", "p", "--dns-opt", "ndots:2")
	if got := e.Pea("pod", "inspect", "--format", "{{.InfraConfig.DNSOption}}", "p"); got != "[ndots:2]" {
		t.Errorf("pod create --dns-opt: %q", got)
	}
	e.Pea("start", "c")
	e.Pea("stop", "--timeout", "0", "c")
	e.Pea("ps", "--storage")
	for _, verb := range [][]string{{"create"}, {"run"}, {"pod", "create"}, {"stop"}, {"ps"}} {
		help := e.Pea(append(verb, "--help")...)
		for _, alias := range []string{"--dns-opt ", "--healthcheck-", "--override-", "--storage "} {
			if strings.Contains(help, alias) {
				t.Errorf("%v --help lists the alias %s", verb, alias)
			}
		}
		if verb[0] == "stop" && strings.Contains(help, "--timeout") {
			t.Errorf("stop --help lists the alias --timeout")
		}
	}
	e.Pea("pod", "rm", "p")
	e.Pea("rm", "c")
}
