package tests

import (
	"strings"
	"testing"
)

// TestPodMemberOwnNamespaces: a member given a namespace option keeps it instead of the pod's
// (podman 4.3's rule), members that join each other start after and stop and go before the one
// they join, and a hostname for a member in the pod's UTS namespace is refused.
func TestPodMemberOwnNamespaces(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "p", "--hostname", "podhost")
	e.Pea("run", "-d", "--pod", "p", "--name", "m", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--pod", "p", "--name", "own-uts", "--uts", "private", "--hostname", "mine", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--pod", "p", "--name", "own-ipc", "--ipc", "private", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--pod", "p", "--name", "own-net", "--network", "none", "localhost/bb", "sleep", "300")
	// Joins m's network (the pod's, through m) and own-net's PID namespace.
	e.Pea("run", "-d", "--pod", "p", "--name", "via-m", "--network", "container:m", "--pid", "container:own-net", "localhost/bb", "sleep", "300")
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p")

	check := func() {
		t.Helper()
		for _, c := range []struct {
			ctr, kind string
			same      bool
		}{
			{"m", "uts", true}, {"m", "ipc", true}, {"m", "net", true},
			{"own-uts", "uts", false}, {"own-uts", "net", true}, {"own-uts", "ipc", true},
			{"own-ipc", "ipc", false}, {"own-ipc", "uts", true},
			{"own-net", "net", false}, {"own-net", "uts", true},
			{"via-m", "net", true},
		} {
			if got := nsOf(t, e, c.ctr, c.kind) == nsOf(t, e, infra, c.kind); got != c.same {
				t.Errorf("%s: same %s namespace as the infra: %v, want %v", c.ctr, c.kind, got, c.same)
			}
		}
		if nsOf(t, e, "via-m", "pid") != nsOf(t, e, "own-net", "pid") {
			t.Error("via-m is not in own-net's PID namespace")
		}
		if out := e.Pea("exec", "own-uts", "hostname"); out != "mine" {
			t.Errorf("own-uts hostname %q", out)
		}
		if out := e.Pea("exec", "m", "hostname"); out != "podhost" {
			t.Errorf("m hostname %q", out)
		}
		if out := e.Pea("exec", "own-net", "sh", "-c", "ls /sys/class/net | tr '\\n' ' '"); out != "lo" {
			t.Errorf("own-net interfaces %q, want lo alone", out)
		}
	}
	check()
	if mode := e.Pea("inspect", "--format", "{{.HostConfig.UTSMode}} {{.HostConfig.NetworkMode}}", "own-uts"); mode != "private container:"+infra {
		t.Errorf("own-uts modes %q", mode)
	}
	// The pod goes down and up (and again) with its members in their order: via-m after m and
	// own-net, which without the order fails at random ("which is not running").
	for i := 0; i < 3; i++ {
		e.Pea("pod", "stop", "-t", "0", "p")
		e.Pea("pod", "start", "p")
	}
	check()
	e.Pea("pod", "restart", "-t", "0", "p")
	check()

	e.refused("set it on the pod", "run", "-d", "--pod", "p", "--hostname", "x", "localhost/bb", "true")
	e.refused("set on the pod", "run", "-d", "--pod", "p", "--add-host", "a:1.2.3.4", "localhost/bb", "true")
	e.refused("user namespace", "run", "-d", "--pod", "p", "--userns", "host", "localhost/bb", "true")

	// A clone keeps the original's own namespaces, and joins the pod's others.
	e.Pea("container", "clone", "--run", "own-uts", "own-uts2")
	if nsOf(t, e, "own-uts2", "uts") == nsOf(t, e, infra, "uts") || nsOf(t, e, "own-uts2", "ipc") != nsOf(t, e, infra, "ipc") {
		t.Error("the clone of own-uts does not keep its own UTS namespace and join the pod's IPC one")
	}
	if out := e.Pea("exec", "own-uts2", "hostname"); out != "mine" {
		t.Errorf("own-uts2 hostname %q", out)
	}

	// The whole pod goes in one call, dependents first.
	e.Pea("pod", "rm", "-f", "-t", "0", "p")
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("containers left after pod rm -f: %s", out)
	}
}

// TestPodWithoutInfraRefusesNetworkFlags: a pod made with --infra=false has no network of its
// own; podman refuses network settings for it, and so does pea, rather than dropping them.
func TestPodWithoutInfraRefusesNetworkFlags(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"--network", "none"}, {"--network", "bridge"}, {"--dns", "1.1.1.1"}, {"--dns-search", "x.com"},
		{"--dns-option", "ndots:2"}, {"--add-host", "a:1.2.3.4"}, {"--no-hosts"}, {"--ip", "10.88.0.9"},
		{"--mac-address", "02:00:00:00:00:09"}, {"--network-alias", "foo"},
	} {
		e.refused("needs an infra container", append([]string{"pod", "create", "--infra=false"}, args...)...)
	}
	id := e.Pea("pod", "create", "--infra=false", "--label", "a=b")
	if got := e.Pea("pod", "inspect", "--format", "{{.NumContainers}} {{.Labels.a}}", id); !strings.HasPrefix(got, "0 b") {
		t.Fatalf("pod without infra: %q", got)
	}
}

// TestLibpodPodMemberOwnNamespaces: the podman client (--remote) gets the same rule: the
// namespace options it sends for a pod member stand, the others join the pod's.
func TestLibpodPodMemberOwnNamespaces(t *testing.T) {
	a := newAPIEnv(t)
	a.mustPodman("pod", "create", "--name", "p")
	a.mustPodman("run", "-d", "--pod", "p", "--name", "m", "localhost/bb", "sleep", "300")
	a.mustPodman("run", "-d", "--pod", "p", "--name", "own", "--uts", "private", "--network", "none", "localhost/bb", "sleep", "300")
	infra := a.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p")
	for _, c := range []struct {
		ctr, kind string
		same      bool
	}{{"m", "uts", true}, {"m", "net", true}, {"own", "uts", false}, {"own", "net", false}, {"own", "ipc", true}} {
		if got := nsOf(t, a.Env, c.ctr, c.kind) == nsOf(t, a.Env, infra, c.kind); got != c.same {
			t.Errorf("%s: same %s namespace as the infra: %v, want %v", c.ctr, c.kind, got, c.same)
		}
	}
	if r := a.podmanRemote("create", "--pod", "p", "--hostname", "x", "localhost/bb"); r.Code != 125 || !strings.Contains(r.Stderr, "set it on the pod") {
		t.Fatalf("podman --remote create --pod p --hostname x: %s", r)
	}
}
