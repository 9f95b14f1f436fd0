package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A build's RUN follows the containers.conf keys podman 4.3.1's `podman build` follows
// (compared with the same Containerfile; the wanted words are split in the Containerfile, whose
// STEP lines the output shows): default_ulimits, devices, volumes (kept out of the
// layer), shm_size, pidns/utsns/ipcns, a netns of host, default_capabilities and the DNS keys;
// and not those it does not: env, tz, umask, default_sysctls, pids_limit.
func TestBuildRunFollowsContainersConf(t *testing.T) {
	e := newEnv(t).withBusybox()
	host := filepath.Join(e.Dir, "confdir")
	os.MkdirAll(host, 0o755)
	os.WriteFile(filepath.Join(host, "f"), []byte("from-conf\n"), 0o644)
	env := confFile(t, e, "containers.conf", `[containers]
default_ulimits = ["core=1234:1234"]
devices = ["/dev/null:/dev/confnull"]
volumes = ["`+host+`:/confvol"]
shm_size = "7m"
pidns = "host"
utsns = "host"
netns = "host"
default_capabilities = ["CHOWN", "NET_RAW", "SETUID", "SETGID"]
dns_servers = ["192.0.2.53"]
env = ["CONFENV=fromconf"]
tz = "Asia/Tokyo"
umask = "0077"
default_sysctls = ["net.ipv4.ping_group_range=0 1"]
pids_limit = 333
`)
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": `FROM localhost/bb
RUN echo "core=$(ulimit -c) umask=$(umask) tz=$(date +%Z) env=$CONFENV."; grep CapEff /proc/self/status; \
    grep nameserver /etc/resolv.conf; echo shm=$(df -k /dev/shm | awk 'NR==2 {print $2}'); \
    test -c /dev/confnull && echo dev""ice=ok; cat /confvol/f; echo pid=$(readlink /proc/self/ns/pid) net=$(readlink /proc/self/ns/net); \
    echo pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max); echo conf""-ran; echo layer > /confvol-sibling
`})
	r := e.runEnv(nil, env, "build", "--no-cache", "-t", "localhost/confbuilt", ctx)
	if r.Code != 0 {
		t.Fatalf("build: %s", r)
	}
	out := r.Stdout + r.Stderr
	hostPID, _ := os.Readlink("/proc/self/ns/pid")
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	for _, want := range []string{"core=2 umask=0022 tz=UTC env=.", "CapEff:\t00000000000020c1", "nameserver 192.0.2.53",
		"shm=7168", "device=ok", "from-conf", "pid=" + hostPID + " net=" + hostNet, "pids=max", "conf-ran"} {
		if !strings.Contains(out, want) {
			t.Errorf("RUN's output lacks %q:\n%s", want, out)
		}
	}
	// The configured volume is RUN's, not the image's.
	if got := e.Pea("run", "--rm", "localhost/confbuilt", "sh", "-c", "cat /confvol-sibling; ls -A /confvol 2>/dev/null | wc -l"); got != "layer\n0" {
		t.Errorf("the image's /confvol: %q, want RUN's own file and no volume contents", got)
	}
	// A build's --ulimit wins over the configured limit of the same name; in a network namespace
	// of RUN's own, default_sysctls are not RUN's (pea's own ping_group_range=0 0 is).
	env2 := confFile(t, e, "containers2.conf", "[containers]\ndefault_ulimits = [\"core=1234:1234\"]\ndefault_sysctls = [\"net.ipv4.ping_group_range=0 1\"]\n")
	ctx2 := writeContext(t, filepath.Join(e.Dir, "ctx2"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo core=$(ulimit -c) ping=$(cat /proc/sys/net/ipv4/ping_group_range)\n"})
	if r := e.runEnv(nil, env2, "build", "--no-cache", "--ulimit", "core=2048:2048", "-t", "localhost/confbuilt2", ctx2); r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "core=4 ping=0 0\n") {
		t.Errorf("build --ulimit core=2048 with default_sysctls: %s", r)
	}
}
