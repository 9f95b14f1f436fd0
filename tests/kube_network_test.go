package tests

import (
	"strings"
	"testing"
)

// kube play --network is repeatable, as podman 4.3's: the pods join every network named, in
// order (eth0, eth1...), each NAME:OPTS with its own address; a mode (host, none) does not mix
// with more networks, and --ip is for one network only.
func TestKubePlayRepeatedNetwork(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "10.126.41.0/24", "kna")
	e.Pea("network", "create", "--subnet", "10.126.42.0/24", "knb")
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: Pod
metadata: {name: kn1}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: localhost/bb
    command: [sleep, "300"]
`)
	addrs := func() string {
		t.Helper()
		return e.Pea("exec", "kn1-main", "sh", "-c",
			"for i in eth0 eth1 eth2; do [ -e /sys/class/net/$i ] && echo $i $(ip -4 -o addr show $i | grep -o '10[.0-9]*/') $(cat /sys/class/net/$i/address); done; true")
	}
	e.Pea("kube", "play", "--network", "kna", "--network", "knb:ip=10.126.42.60,mac=02:42:0a:7e:2a:3c", y)
	got := addrs()
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "eth0 10.126.41.") || lines[1] != "eth1 10.126.42.60/ 02:42:0a:7e:2a:3c" {
		t.Fatalf("--network kna --network knb:ip=...,mac=...: interfaces\n%s\nwant eth0 on kna, eth1 10.126.42.60 with the MAC on knb", got)
	}
	if got := e.Pea("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "kn1")); got != "kna knb" {
		t.Errorf("inspect's networks: %q", got)
	}
	e.Pea("kube", "down", y)

	// The older comma list, then one more; the first network's own ip= wins over --ip.
	e.Pea("kube", "play", "--network", "kna:ip=10.126.41.70", "--ip", "10.126.41.71", y)
	if got := addrs(); !strings.HasPrefix(got, "eth0 10.126.41.70/") {
		t.Errorf("kna:ip= with --ip: %q, want the network's own address", got)
	}
	e.Pea("kube", "down", y)
	e.Pea("kube", "play", "--network", "knb,kna", "--network", "kna", y)
	if got := addrs(); !strings.HasPrefix(got, "eth0 10.126.42.") || !strings.Contains(got, "\neth1 10.126.41.") || strings.Contains(got, "eth2") {
		t.Errorf("--network knb,kna --network kna: %q, want knb then kna once", got)
	}
	e.Pea("kube", "down", y)

	// bridge, then a name: the default network first.
	e.Pea("kube", "play", "--network", "bridge", "--network", "kna", y)
	if got := e.Pea("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "kn1")); got != "kna pea" {
		t.Errorf("--network bridge --network kna: networks %q", got)
	}
	if got := addrs(); !strings.Contains(got, "\neth1 10.126.41.") {
		t.Errorf("--network bridge --network kna: %q, want kna on eth1", got)
	}
	e.Pea("kube", "down", y)

	for _, bad := range [][]string{
		{"--network", "host", "--network", "kna"},
		{"--network", "kna", "--network", "none"},
		{"--network", "kna", "--network", "bridge"},
		{"--network", "kna", "--network", "knb", "--ip", "10.126.41.80"},
		{"--network", "kna", "--network", "knb", "--mac-address", "02:42:0a:7e:2a:3d"},
		{"--network", "kna:bogus=1"},
		{"--network", "ns:/proc/self/ns/net"},
	} {
		e.Fails(125, append(append([]string{"kube", "play"}, bad...), y)...)
	}
	if out := e.Pea("pod", "ps", "-q") + e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("refused plays left %q", out)
	}
	e.Pea("network", "rm", "kna", "knb")
}
