package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What the API service takes from containers.conf for a create request that leaves it unset,
// as podman 4.3.1's service does (compared request by request): both APIs the PID, UTS and IPC
// namespaces, the time zone, /dev/shm's size, and the ulimits, devices and volumes merged under
// the request's own; the libpod API also the network namespace, the umask and the stop timeout.
func TestContainersConfAPICreateDefaults(t *testing.T) {
	e := newEnv(t).withBusybox()
	host := filepath.Join(e.Dir, "confdir")
	os.MkdirAll(host, 0o755)
	os.WriteFile(filepath.Join(host, "f"), []byte("from-conf\n"), 0o644)
	env := confFile(t, e, "containers.conf", `[containers]
pidns = "host"
utsns = "host"
ipcns = "private"
netns = "none"
tz = "Asia/Tokyo"
umask = "0077"
shm_size = "7m"
default_ulimits = ["core=1234:1234", "nofile=4000:4000"]
devices = ["/dev/null:/dev/confnull"]
volumes = ["`+host+`:/confvol:ro"]
[engine]
stop_timeout = 33
`)
	a := newAPIEnvWith(t, e, env)
	hostPID, _ := os.Readlink("/proc/self/ns/pid")
	hostUTS, _ := os.Readlink("/proc/self/ns/uts")
	// The main process reports what it got (exec sessions do not take the umask).
	report := []string{"sh", "-c", `echo "umask=$(umask) tz=$(date +%Z) core=$(ulimit -c) nofile=$(ulimit -n)"; ` +
		`echo "pid=$(readlink /proc/self/ns/pid) uts=$(readlink /proc/self/ns/uts)"; ` +
		`echo "nets=$(ls /sys/class/net | tr '\n' ' ')"; echo "shm=$(df -k /dev/shm | awk 'NR==2 {print $2}')"; ` +
		`ls /dev/confnull /dev/given 2>/dev/null; cat /confvol/f 2>/dev/null; echo done; sleep 300`}
	check := func(name string, want, notWant []string) {
		t.Helper()
		e.Pea("start", name)
		out := e.kubeLogs(name, "done")
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", name, w, out)
			}
		}
		for _, w := range notWant {
			if strings.Contains(out, w) {
				t.Errorf("%s: output has %q:\n%s", name, w, out)
			}
		}
	}
	inspect := func(name string) string {
		t.Helper()
		return e.Pea("inspect", "--format", "{{.HostConfig.IpcMode}} {{.Config.StopTimeout}} {{.HostConfig.ShmSize}}", name)
	}

	// libpod, naming nothing: every key.
	a.RequestJSON("POST", "/v4.3.1/libpod/containers/create", map[string]any{"name": "lp-none", "image": "localhost/bb", "command": report}, 201, nil)
	check("lp-none", []string{"umask=0077", "tz=JST", "core=2", "nofile=4000", "pid=" + hostPID, "uts=" + hostUTS, "nets=lo \n",
		"shm=6836", "/dev/confnull", "from-conf"}, nil)
	if got := inspect("lp-none"); got != "private 33 7000000" {
		t.Errorf("libpod create naming nothing: IPC, stop timeout and /dev/shm %q, want private 33 7000000 (shm_size's m is 1000², as podman reads it)", got)
	}

	// libpod, naming its own: the request's win; the configured ulimits, devices and volumes
	// it does not name are added.
	a.RequestJSON("POST", "/v4.3.1/libpod/containers/create", map[string]any{"name": "lp-own", "image": "localhost/bb", "command": report,
		"pidns": map[string]string{"nsmode": "private"}, "utsns": map[string]string{"nsmode": "private"}, "ipcns": map[string]string{"nsmode": "shareable"},
		"netns": map[string]string{"nsmode": "bridge"}, "timezone": "UTC", "umask": "0027", "shm_size": 2 << 20, "stop_timeout": 5,
		"r_limits": []map[string]any{{"type": "nofile", "soft": 3000, "hard": 3000}},
		"devices":  []map[string]string{{"path": "/dev/zero:/dev/given"}}}, 201, nil)
	check("lp-own", []string{"umask=0027", "tz=UTC", "core=2", "nofile=3000", "eth0", "shm=2048", "/dev/confnull", "/dev/given", "from-conf"},
		[]string{"pid=" + hostPID, "uts=" + hostUTS})
	if got := inspect("lp-own"); got != "shareable 5 2097152" {
		t.Errorf("libpod create naming its own: IPC, stop timeout and /dev/shm %q, want shareable 5 2097152", got)
	}

	// Docker's create, naming nothing: not the network namespace, the umask or the stop timeout.
	a.RequestJSON("POST", "/v1.41/containers/create?name=dk-none", map[string]any{"Image": "localhost/bb", "Cmd": report}, 201, nil)
	check("dk-none", []string{"umask=0022", "tz=JST", "core=2", "nofile=4000", "pid=" + hostPID, "uts=" + hostUTS, "eth0",
		"shm=6836", "/dev/confnull", "from-conf"}, nil)
	if got := inspect("dk-none"); got != "private 10 7000000" {
		t.Errorf("Docker create naming nothing: IPC, stop timeout and /dev/shm %q, want private 10 7000000", got)
	}
	// ...and naming its own.
	a.RequestJSON("POST", "/v1.41/containers/create?name=dk-own", map[string]any{"Image": "localhost/bb", "Cmd": report,
		"HostConfig": map[string]any{"PidMode": "private", "UTSMode": "private", "IpcMode": "shareable", "ShmSize": 2 << 20,
			"Binds": []string{filepath.Join(e.Dir) + ":/confvol"}, "Ulimits": []map[string]any{{"Name": "nofile", "Soft": 3000, "Hard": 3000}}}}, 201, nil)
	check("dk-own", []string{"tz=JST", "core=2", "nofile=3000", "shm=2048", "/dev/confnull"}, []string{"pid=" + hostPID, "uts=" + hostUTS, "from-conf"})
}

// Both APIs put a container whose request names no network on containers.conf's
// default_network, and leave /etc/hosts alone with no_hosts, as podman 4.3.1's service does.
func TestContainersConfAPIDefaultNetworkNoHosts(t *testing.T) {
	e := newEnv(t).withBusybox()
	env := confFile(t, e, "containers.conf", "[containers]\nno_hosts = true\n[network]\ndefault_network = \"apinet\"\ndefault_subnet = \"10.247.39.0/24\"\n")
	a := newAPIEnvWith(t, e, env)
	report := []string{"sh", "-c", "ip -4 -o addr show eth0; grep -c api-ctr /etc/hosts; echo done; sleep 300"}
	a.RequestJSON("POST", "/v4.3.1/libpod/containers/create", map[string]any{"name": "lp-api-ctr", "image": "localhost/bb", "command": report}, 201, nil)
	a.RequestJSON("POST", "/v1.41/containers/create?name=dk-api-ctr", map[string]any{"Image": "localhost/bb", "Cmd": report,
		"HostConfig": map[string]any{"NetworkMode": "default"}}, 201, nil)
	for _, name := range []string{"lp-api-ctr", "dk-api-ctr"} {
		e.Pea("start", name)
		out := e.kubeLogs(name, "done")
		if !strings.Contains(out, "inet 10.247.39.") {
			t.Errorf("%s: not on default_network's subnet:\n%s", name, out)
		}
		if strings.Contains(out, "\n1\n") {
			t.Errorf("%s: /etc/hosts names the container despite no_hosts:\n%s", name, out)
		}
	}
}
