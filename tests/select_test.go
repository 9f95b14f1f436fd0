package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// The containers a verb acts on, chosen as podman's: --filter (ps's filters; the full IDs of the
// matches are printed, and names are refused beside it), --cidfile, --latest.
func TestSelectByFilterAndCidfile(t *testing.T) {
	e := newEnv(t).withBusybox()
	cid := filepath.Join(e.Dir, "web.cid")
	web := e.Pea("run", "-d", "--network", "none", "--label", "tier=web", "--cidfile", cid, "--name", "web", "localhost/bb", "sleep", "300")
	db := e.Pea("run", "-d", "--network", "none", "--label", "tier=db", "--name", "db", "localhost/bb", "sleep", "300")
	status := func(name string) string { return e.Pea("inspect", "--format", "{{.State.Status}}", name) }

	if r := e.Fails(125, "stop", "--filter", "label=tier=web", "db"); !strings.Contains(r.Stderr, "--filter takes no arguments") {
		t.Fatalf("stop --filter with a name: %s", r)
	}
	if out := e.Pea("pause", "--filter", "label=tier=web"); out != web {
		t.Fatalf("pause --filter printed %q, want the full ID", out)
	}
	if status("web") != "paused" || status("db") != "running" {
		t.Fatalf("pause --filter: web %s, db %s", status("web"), status("db"))
	}
	if out := e.Pea("unpause", "--cidfile", cid); out != web || status("web") != "running" {
		t.Fatalf("unpause --cidfile: %q, web %s", out, status("web"))
	}
	if out := e.Pea("kill", "--cidfile", cid); out != web {
		t.Fatalf("kill --cidfile: %q", out)
	}
	if out := e.Pea("restart", "--filter", "name=web"); out != web || status("web") != "running" {
		t.Fatalf("restart --filter: %q, web %s", out, status("web"))
	}
	if out := e.Pea("stop", "-t", "0", "--filter", "label=tier=db"); out != db || status("db") != "exited" || status("web") != "running" {
		t.Fatalf("stop --filter: %q, db %s, web %s", out, status("db"), status("web"))
	}
	if out := e.Pea("rm", "--filter", "name=nothing-matches"); out != "" {
		t.Fatalf("rm --filter matching nothing: %q", out)
	}
	if out := e.Pea("rm", "--filter", "status=exited"); out != db {
		t.Fatalf("rm --filter status=exited: %q", out)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "web" {
		t.Fatalf("left after rm --filter: %q", out)
	}
	if r := e.Fails(125, "rm", "--filter", "bogus=1"); !strings.Contains(r.Stderr, "bogus") {
		t.Fatalf("rm with an unknown filter: %s", r)
	}
}

// rm --depend removes the containers that join the named one first (and theirs), printing each.
func TestRmDepend(t *testing.T) {
	e := newEnv(t).withBusybox()
	base := e.Pea("run", "-d", "--network", "none", "--name", "base", "localhost/bb", "sleep", "300")
	mid := e.Pea("run", "-d", "--ipc", "container:base", "--network", "none", "--name", "mid", "localhost/bb", "sleep", "300")
	top := e.Pea("run", "-d", "--uts", "container:mid", "--network", "none", "--name", "top", "localhost/bb", "sleep", "300")
	other := e.Pea("create", "--network", "none", "--name", "other", "localhost/bb", "true")
	if r := e.Try("rm", "-f", "base"); r.Code == 0 || !strings.Contains(r.Stderr, "dependent containers") {
		t.Fatalf("rm of a container others join, without --depend: %s", r)
	}
	if out := e.Pea("rm", "-f", "-t", "0", "--depend", "base"); out != top+"\n"+mid+"\nbase" {
		t.Fatalf("rm --depend printed %q, want the dependents' IDs (deepest first), then the name", out)
	}
	if out := e.Pea("ps", "-a", "-q", "--no-trunc"); out != other {
		t.Fatalf("left after rm --depend: %q", out)
	}
	_ = base
}

// pod start/stop --pod-id-file, as pod rm's.
func TestPodVerbsIDFile(t *testing.T) {
	e := newEnv(t).withBusybox()
	f := filepath.Join(e.Dir, "pod.id")
	id := e.Pea("pod", "create", "--network", "none", "--pod-id-file", f, "--name", "p")
	if out := e.Pea("pod", "start", "--pod-id-file", f); out != id {
		t.Fatalf("pod start --pod-id-file: %q", out)
	}
	if out := e.Pea("pod", "stop", "-t", "0", "--pod-id-file", f); out != id {
		t.Fatalf("pod stop --pod-id-file: %q", out)
	}
	if out := e.Pea("pod", "stop", "--ignore", "--pod-id-file", filepath.Join(e.Dir, "missing")); out != "" {
		t.Fatalf("pod stop --ignore of a missing file: %q", out)
	}
	if r := e.Fails(125, "pod", "start", "--pod-id-file", filepath.Join(e.Dir, "missing")); !strings.Contains(r.Stderr, "missing") {
		t.Fatalf("pod start of a missing file: %s", r)
	}
}
