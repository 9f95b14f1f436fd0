package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Containers on a network of the user's find each other by name and alias; a restarted one is
// found at its new address, a stopped one is forgotten; the default network names no one (as in
// podman and Docker); a pod on the network answers to its name and its members' names.
func TestNamesOnUserNetwork(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "peers")
	e.Pea("run", "-d", "--name", "srv", "--network", "peers", "--network-alias", "db", "localhost/bb",
		"sh", "-c", "mkdir /www; echo from-srv > /www/index.html; httpd -f -p 8080 -h /www")
	e.Pea("run", "-d", "--name", "cli", "--network", "peers", "localhost/bb", "sleep", "1000")
	ipOf := func(name string) string {
		return e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.peers.IPAddress}}", name)
	}
	resolves := func(from, name, want string) {
		t.Helper()
		eventually(t, 5*time.Second, func() error {
			r := e.Try("exec", from, "sh", "-c", "grep -w '"+name+"' /etc/hosts | cut -f1")
			if got := strings.TrimSpace(r.Stdout); got != want {
				return fmt.Errorf("%s resolves %s to %q, want %q (%s)", from, name, got, want, r)
			}
			return nil
		})
	}
	// Both ways: cli learned srv's name at its start, srv learned cli's.
	resolves("cli", "srv", ipOf("srv"))
	resolves("cli", "db", ipOf("srv"))
	resolves("srv", "cli", ipOf("cli"))
	if out := e.Pea("exec", "cli", "wget", "-qO-", "http://db:8080/"); out != "from-srv" {
		t.Fatalf("wget by alias: %q", out)
	}
	// A container on the default network is named by no one, and names no one.
	e.Pea("run", "-d", "--name", "plain", "localhost/bb", "sleep", "1000")
	if out := e.Pea("exec", "plain", "cat", "/etc/hosts"); strings.Contains(out, "srv") {
		t.Fatalf("the default network's container knows srv:\n%s", out)
	}
	// Stopped: forgotten. Started again: found at its address of now.
	e.Pea("stop", "-t", "0", "srv")
	resolves("cli", "srv", "")
	e.Pea("start", "srv")
	resolves("cli", "srv", ipOf("srv"))
	// A pod on the network: its name and its members' names lead to the pod's address.
	e.Pea("pod", "create", "--name", "pd", "--network", "peers", "--network-alias", "podalias")
	e.Pea("run", "-d", "--pod", "pd", "--name", "member", "localhost/bb", "sleep", "1000")
	podIP := e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.peers.IPAddress}}", e.Pea("pod", "inspect", "-f", "{{.InfraContainerID}}", "pd"))
	resolves("cli", "pd", podIP)
	resolves("cli", "member", podIP)
	resolves("cli", "podalias", podIP)
	resolves("member", "cli", ipOf("cli"))
	// network connect --alias, and disconnect.
	e.Pea("network", "create", "second")
	e.Pea("network", "connect", "--alias", "other", "second", "plain")
	e.Pea("run", "-d", "--name", "on2", "--network", "second", "localhost/bb", "sleep", "1000")
	plainIP := e.Pea("inspect", "-f", "{{.NetworkSettings.Networks.second.IPAddress}}", "plain")
	resolves("on2", "other", plainIP)
	resolves("on2", "plain", plainIP)
	e.Pea("network", "disconnect", "second", "plain")
	resolves("on2", "plain", "")
	// Bad input: an alias without a network of the container's own; an alias that is not a
	// host name (it would write lines of its own into the others' /etc/hosts).
	e.Fails(125, "run", "--rm", "--network", "none", "--network-alias", "x", "localhost/bb", "true")
	e.Fails(125, "run", "-d", "--network", "peers", "--network-alias", "evil\n6.6.6.6 example.com", "localhost/bb", "sleep", "1")
	e.Fails(125, "network", "connect", "--alias", "a b", "second", "cli")
	// A container knows its peers from its first instruction: its section is written before
	// its process starts.
	for i := 0; i < 4; i++ {
		if out := e.Pea("run", "--rm", "--network", "peers", "localhost/bb", "cat", "/etc/hosts"); !strings.Contains(out, "\tcli") {
			t.Fatalf("run %d started before its peers were written:\n%s", i, out)
		}
	}
	// Renamed: found by its new name.
	e.Pea("rename", "cli", "cli2")
	resolves("srv", "cli2", ipOf("cli2"))
	// Off its last network of the user's: it names no one any more.
	e.Pea("network", "connect", "second", "cli2")
	e.Pea("network", "disconnect", "peers", "cli2")
	e.Pea("network", "disconnect", "second", "cli2")
	if out := e.Pea("exec", "cli2", "cat", "/etc/hosts"); strings.Contains(out, "srv") || strings.Contains(out, "# pea:") {
		t.Fatalf("a container on no network of the user's keeps names:\n%s", out)
	}
}

// network create --disable-dns: containers on it do not find each other by name (and inspect
// says so); a network made without it names them (dns_enabled true), the default one does not.
func TestNetworkDisableDNS(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--disable-dns", "quiet")
	e.Pea("network", "create", "--ipam-driver", "host-local", "chatty")
	if r := e.Fails(125, "network", "create", "--ipam-driver", "dhcp", "other"); !strings.Contains(r.Stderr, "host-local") {
		t.Fatalf("--ipam-driver dhcp: %s", r)
	}
	for n, want := range map[string]string{"quiet": "false", "chatty": "true", "pea": "false"} {
		if got := e.Pea("network", "inspect", "--format", "{{.DNSEnabled}}", n); got != want {
			t.Errorf("network %s: dns_enabled %s, want %s", n, got, want)
		}
	}
	e.Pea("run", "-d", "--name", "a", "--network", "quiet", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "b", "--network", "quiet", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "c", "--network", "chatty", "localhost/bb", "sleep", "1000")
	e.Pea("run", "-d", "--name", "d", "--network", "chatty", "localhost/bb", "sleep", "1000")
	if out := e.Pea("exec", "b", "cat", "/etc/hosts"); strings.Contains(out, "\ta\n") || strings.Contains(out, " a\n") || strings.Contains(out, "pea: containers") {
		t.Fatalf("a container on a --disable-dns network knows its peers:\n%s", out)
	}
	eventually(t, 5*time.Second, func() error {
		if out := e.Pea("exec", "d", "cat", "/etc/hosts"); !strings.Contains(out, "pea: containers") || !strings.Contains(out, "c") {
			return fmt.Errorf("d does not know c:\n%s", out)
		}
		return nil
	})
}
