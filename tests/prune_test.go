package tests

import (
	"os"
	"strings"
	"testing"
)

// Prunes and system reset ask first, as podman's: anything but y leaves everything; -f asks
// nothing.
func TestPruneAsks(t *testing.T) {
	e := newEnv(t).withBusybox()
	c := e.Pea("create", "--network", "none", "localhost/bb", "true")
	r := e.PeaIn("n\n", "container", "prune")
	if r.Code != 0 || r.Stdout != "WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] " {
		t.Fatalf("container prune answered no: %s", r)
	}
	if e.Pea("ps", "-a", "-q", "--no-trunc") != c {
		t.Fatal("container prune answered no removed the container")
	}
	if r := e.PeaIn("y\n", "container", "prune"); !strings.HasSuffix(r.Stdout, "[y/N] "+c+"\n") {
		t.Fatalf("container prune answered yes: %s", r)
	}
	if r := e.PeaIn("", "volume", "prune"); r.Stdout != "No dangling volumes found\n" {
		t.Fatalf("volume prune with nothing to prune: %s", r)
	}
	e.Pea("volume", "create", "spare")
	if r := e.PeaIn("yes\n", "volume", "prune"); r.Stdout != "WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\nspare\nAre you sure you want to continue? [y/N] spare\n" {
		t.Fatalf("volume prune: %s", r)
	}
	if r := e.PeaIn("", "system", "reset"); r.Code != 0 || !strings.Contains(r.Stdout, "WARNING! This will remove:") {
		t.Fatalf("system reset without -f: %s", r)
	}
	if _, err := os.Stat(e.Root); err != nil || e.Pea("images", "-q") == "" {
		t.Fatalf("system reset answered by an empty input removed the store: %v", err)
	}
}

// prune --filter: label=, label!=, until= on containers, volumes, networks, images; a bad
// filter is refused before anything goes.
func TestPruneFilters(t *testing.T) {
	e := newEnv(t).withBusybox()
	one := e.Pea("create", "--network", "none", "--label", "a=1", "localhost/bb", "true")
	two := e.Pea("create", "--network", "none", "--label", "a=2", "localhost/bb", "true")
	three := e.Pea("create", "--network", "none", "localhost/bb", "true")
	if out := e.Pea("container", "prune", "-f", "--filter", "until=1h"); out != "" {
		t.Fatalf("prune of containers made before an hour ago: %q", out)
	}
	if out := e.Pea("container", "prune", "-f", "--filter", "label=a=1"); out != one {
		t.Fatalf("prune --filter label=a=1: %q", out)
	}
	if out := e.Pea("container", "prune", "-f", "--filter", "label!=a"); out != three {
		t.Fatalf("prune --filter label!=a: %q", out)
	}
	if r := e.Fails(125, "container", "prune", "-f", "--filter", "name=x"); !strings.Contains(r.Stderr, "label=, label!= and until=") {
		t.Fatalf("prune with a filter it has not: %s", r)
	}
	if out := e.Pea("ps", "-a", "-q", "--no-trunc"); out != two {
		t.Fatalf("left after the prunes: %q", out)
	}
	e.Pea("volume", "create", "--label", "keep=yes", "kept")
	e.Pea("volume", "create", "gone")
	if out := e.Pea("volume", "prune", "-f", "--filter", "label!=keep"); out != "gone" {
		t.Fatalf("volume prune --filter: %q", out)
	}
	e.Pea("network", "create", "--label", "team=x", "netx")
	e.Pea("network", "create", "nety")
	if out := e.Pea("network", "prune", "-f", "--filter", "label=team=x"); out != "netx" {
		t.Fatalf("network prune --filter: %q", out)
	}
	e.Pea("network", "rm", "nety")
	e.Pea("import", "--change", "LABEL kind=scratch", busyboxTar(t))
	e.Pea("import", busyboxTar(t))
	before := strings.Fields(e.Pea("images", "-q", "--filter", "dangling=true"))
	if out := e.Pea("image", "prune", "-f", "--filter", "label=kind=scratch"); len(before) != 2 || len(strings.Fields(out)) != 1 {
		t.Fatalf("image prune --filter label: %q of %v", out, before)
	}
}

// volume ls --filter/--noheading, volume inspect --all, volume rm --all and -f -t.
func TestVolumeListFiltersAndAll(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("volume", "create", "--label", "tier=db", "-o", "type=tmpfs", "-o", "device=tmpfs", "data")
	e.Pea("volume", "create", "logs")
	e.Pea("run", "-d", "--network", "none", "--name", "user", "-v", "logs:/logs", "localhost/bb", "sleep", "300")
	for filter, want := range map[string]string{
		"name=dat": "data", "label=tier=db": "data", "opt=type=tmpfs": "data", "dangling=true": "data",
		"dangling=false": "logs", "driver=local": "data\nlogs", "until=1h": "",
	} {
		if out := e.Pea("volume", "ls", "-q", "--filter", filter); out != want {
			t.Errorf("volume ls --filter %s: %q, want %q", filter, out, want)
		}
	}
	if out := e.Pea("volume", "ls", "--noheading", "--filter", "name=logs"); out != "local       logs" {
		t.Fatalf("volume ls --noheading: %q", out)
	}
	e.Fails(125, "volume", "ls", "--filter", "colour=red")
	if out := e.Pea("volume", "inspect", "--all", "--format", "{{.Name}}"); out != "data\nlogs" {
		t.Fatalf("volume inspect --all: %q", out)
	}
	e.Fails(125, "volume", "rm", "--all", "data")
	if r := e.Try("volume", "rm", "--all"); r.Code == 0 || !strings.Contains(r.Stderr, "is being used") || r.Stdout != "data\n" {
		t.Fatalf("volume rm --all with a volume in use, without -f: %s", r)
	}
	if out := e.Pea("volume", "rm", "--all", "-f", "-t", "0"); out != "logs" {
		t.Fatalf("volume rm --all -f: %q", out)
	}
	if out := e.Pea("volume", "ls", "-q") + e.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("left after volume rm --all -f: %q", out)
	}
}

// network ls --noheading/--no-trunc/--filter dangling=, network rm -f -t.
func TestNetworkListFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "10.123.7.0/24", "used")
	e.Pea("network", "create", "--subnet", "10.123.8.0/24", "spare")
	e.Pea("run", "-d", "--network", "used", "--name", "c", "localhost/bb", "sleep", "300")
	if out := e.Pea("network", "ls", "-q", "--filter", "dangling=true", "--filter", "name=s"); out != "spare" {
		t.Fatalf("network ls --filter dangling=true: %q", out)
	}
	id := e.Pea("network", "inspect", "--format", "{{.ID}}", "used")
	if out := e.Pea("network", "ls", "--noheading", "--no-trunc", "--filter", "name=used"); !strings.HasPrefix(out, id+"  used") || len(id) != 64 {
		t.Fatalf("network ls --noheading --no-trunc: %q (id %s)", out, id)
	}
	e.Fails(125, "network", "ls", "--filter", "colour=red")
	if out := e.Pea("network", "rm", "-f", "-t", "0", "used"); out != "used" {
		t.Fatalf("network rm -f -t 0: %q", out)
	}
	e.Pea("network", "rm", "spare")
	if out := e.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("network rm -f left its container: %q", out)
	}
	// The default network stays, as podman's, -f or not, used or not.
	e.Pea("run", "-d", "--name", "d", "localhost/bb", "sleep", "300")
	for _, args := range [][]string{{"network", "rm", "pea"}, {"network", "rm", "-f", "pea"}} {
		if r := e.Fails(125, args...); strings.TrimSpace(r.Stderr) != "Error: default network pea cannot be removed" {
			t.Fatalf("%v: %q", args, r.Stderr)
		}
	}
	e.Pea("network", "prune", "-f")
	if out := e.Pea("ps", "--format", "{{.Names}} {{.Networks}}"); out != "d pea" {
		t.Fatalf("after the refusals: %q", out)
	}
	e.Pea("network", "inspect", "pea")
}
