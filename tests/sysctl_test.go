package tests

import "testing"

// TestSysctlsCheckedAtCreate: a sysctl no container may set is refused by the create, in one
// line with exit 125 and nothing made, as podman refuses it (it used to reach the runtime, which
// failed the start with 126 and left the container created); the namespaced ones work.
func TestSysctlsCheckedAtCreate(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.refused("not namespaced", "create", "--network", "none", "--sysctl", "vm.swappiness=10", "localhost/bb", "true")
	e.refused("not namespaced", "run", "--rm", "--network", "none", "--sysctl", "kernel.pea_no_such=1", "localhost/bb", "true")
	e.refused("--hostname", "run", "--rm", "--network", "none", "--sysctl", "kernel.hostname=x", "localhost/bb", "true")
	e.refused("want KEY=VALUE", "create", "--network", "none", "--sysctl", "net.ipv4.ip_forward", "localhost/bb", "true")
	e.refused("--network host", "create", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "localhost/bb", "true")
	e.refused("--ipc host", "create", "--network", "none", "--ipc", "host", "--sysctl", "kernel.shmmax=100000", "localhost/bb", "true")
	e.refused("not namespaced", "pod", "create", "--sysctl", "fs.file-max=100")
	for _, c := range []struct{ kv, file, want string }{
		{"net.ipv4.ip_forward=1", "/proc/sys/net/ipv4/ip_forward", "1"},
		{"kernel.shmmni=1234", "/proc/sys/kernel/shmmni", "1234"},
		{"fs.mqueue.queues_max=77", "/proc/sys/fs/mqueue/queues_max", "77"},
	} {
		if out := e.Pea("run", "--rm", "--network", "none", "--sysctl", c.kv, "localhost/bb", "cat", c.file); out != c.want {
			t.Errorf("--sysctl %s: %s reads %q", c.kv, c.file, out)
		}
	}
}
