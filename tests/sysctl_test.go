package tests

import (
	"os"
	"strings"
	"testing"
)

// As podman (containers.conf default_sysctls): a container with a network namespace of its own
// lets its groups open ICMP datagram sockets (ping without CAP_NET_RAW); the host's network
// keeps the host's setting; --sysctl wins; a pod's members have the pod's namespace's.
func TestPingGroupRangeDefault(t *testing.T) {
	e := newEnv(t).withBusybox()
	read := func(args ...string) string {
		t.Helper()
		return strings.Join(strings.Fields(e.Pea(append(append([]string{"run", "--rm"}, args...), "localhost/bb", "cat", "/proc/sys/net/ipv4/ping_group_range")...)), " ")
	}
	if got := read("--network", "none"); got != "0 0" {
		t.Fatalf("own network namespace: %q", got)
	}
	host, _ := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if got, want := read("--network", "host"), strings.Join(strings.Fields(string(host)), " "); got != want {
		t.Fatalf("host network: %q, the host has %q", got, want)
	}
	if got := read("--network", "none", "--sysctl", "net.ipv4.ping_group_range=1 0"); got != "1 0" {
		t.Fatalf("--sysctl: %q", got)
	}
	e.Pea("pod", "create", "--name", "p")
	if got := read("--pod", "p"); got != "0 0" {
		t.Fatalf("pod member: %q", got)
	}
	// In a user namespace of its own, the host's setting stays (container root may not write
	// the sysctls of a network namespace the host's user namespace owns), and the container runs.
	if err := os.Chmod(e.Dir, 0o711); err != nil { // container root must reach the store
		t.Fatal(err)
	}
	// (The host's range reads through the mappings: its IDs are unmapped there.)
	if got := read("--uidmap", "0:100000:65536"); got == "0 0" {
		t.Fatalf("user namespace: %q, want the host's setting", got)
	}
}
