package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// network disconnect --force: a container whose attachment the network no longer has on
// record (its CNI cache lost) cannot be disconnected plainly; with --force its interface is
// torn down from its lease, the lease freed, and the network leaves its config. A network
// whose configuration is gone is left the same way. create -a checks its streams.
func TestNetworkDisconnectForce(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "10.125.7.0/24", "fa")
	e.Pea("network", "create", "--subnet", "10.125.8.0/24", "fb")
	e.Pea("network", "create", "--subnet", "10.125.9.0/24", "fc")
	e.Pea("run", "-d", "--name", "c", "--network", "fa", "localhost/bb", "sleep", "1000")
	id := e.Pea("inspect", "--format", "{{.ID}}", "c")
	e.Pea("network", "connect", "--ip", "10.125.8.20", "fb", "c")
	e.Pea("network", "connect", "fc", "c")
	nets := func() string {
		return e.Pea("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "c")
	}
	if got := nets(); got != "fa fb fc" {
		t.Fatalf("networks: %q", got)
	}
	// The network's record of the attachment is lost.
	cached, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "cni-cache", "results", "fb-"+id+"-*"))
	if len(cached) != 1 {
		t.Fatalf("the cached attachment to fb: %v", cached)
	}
	os.Remove(cached[0])
	r := e.Fails(125, "network", "disconnect", "fb", "c")
	if !strings.Contains(r.Stderr, "not connected") || nets() != "fa fb fc" {
		t.Fatalf("a plain disconnect without the record: %s; networks %q", r, nets())
	}
	e.Pea("network", "disconnect", "--force", "fb", "c")
	if got := nets(); got != "fa fc" {
		t.Fatalf("networks after disconnect --force: %q", got)
	}
	if out := e.Pea("exec", "c", "ip", "-4", "-o", "addr"); strings.Contains(out, "10.125.8.") {
		t.Fatalf("the fb interface is still there: %s", out)
	}
	if leases, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "ipam", "fb", "10.125.8.20")); len(leases) != 0 {
		t.Fatalf("the fb lease is left: %v", leases)
	}
	// The address is free again.
	e.Pea("run", "-d", "--name", "d", "--network", "fb", "--ip", "10.125.8.20", "localhost/bb", "sleep", "1000")
	// A network whose configuration file is gone: -f leaves it all the same.
	conf := filepath.Join(e.Root, "networks", "fc.conflist")
	aside := filepath.Join(e.Dir, "fc.conflist")
	if err := os.Rename(conf, aside); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Rename(aside, conf) }) // for the teardown, which removes its bridge
	if r := e.Fails(125, "network", "disconnect", "fc", "c"); !strings.Contains(r.Stderr, "fc") {
		t.Fatalf("a plain disconnect from a network that is gone: %s", r)
	}
	e.Pea("network", "disconnect", "-f", "fc", "c")
	if got := nets(); got != "fa" {
		t.Fatalf("networks after disconnect -f from a network that is gone: %q", got)
	}
	os.Rename(aside, conf)
	e.Fails(125, "network", "disconnect", "-f", "fb", "c") // not connected: -f does not hide that
	if out := e.Pea("exec", "c", "ip", "-4", "-o", "addr"); !strings.Contains(out, "10.125.7.") || strings.Contains(out, "10.125.9.") {
		t.Fatalf("the container's addresses: %s", out)
	}

	// create -a: podman's streams checked; start --attach attaches stdout and stderr.
	e.Pea("create", "-a", "stdout", "--attach", "STDERR", "--name", "att", "--network", "none", "localhost/bb", "sh", "-c", "echo out; echo err >&2")
	if r := e.Try("start", "--attach", "att"); r.Code != 0 || r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Fatalf("start --attach of a create -a container: %s", r)
	}
	e.refused(`invalid stream "bogus" for --attach`, "create", "-a", "bogus", "localhost/bb", "true")
	e.refused(`invalid stream "nope" for --attach`, "container", "create", "--attach", "nope", "localhost/bb", "true")
}
