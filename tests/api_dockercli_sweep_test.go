package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// What a sweep of ~340 docker client commands against pea's service and podman's found pea
// answering unlike Docker.

// A create that fails for what else than the image (a network that is not there) is not a
// 404: the docker client took the 404 for a missing image, said "Unable to find
// image ... locally", tried to pull it and showed the pull's error instead of the real one.
// Nothing is left behind.
func TestAPIDockerCreateMissingNotImage(t *testing.T) {
	a := newAPIEnv(t)
	for _, c := range []struct{ flag, val string }{{"--network", "nosuchnet"}, {"-u", "nosuchuser"}} {
		r := a.Docker("run", "--rm", c.flag, c.val, "localhost/bb", "true")
		if r.Code != 125 || strings.Contains(r.Stderr, "Unable to find image") || !strings.Contains(r.Stderr, c.val) {
			t.Errorf("docker run %s %s: %s, want 125 naming %s and no pull", c.flag, c.val, r, c.val)
		}
	}
	r := a.Docker("create", "--network", "nosuchnet", "localhost/bb", "true")
	if r.Code != 1 || strings.Contains(r.Stderr, "Unable to find image") || !strings.Contains(r.Stderr, "nosuchnet") {
		t.Errorf("docker create --network nosuchnet: %s", r)
	}
	if got := a.MustDocker("ps", "-aq"); got != "" {
		t.Errorf("containers left: %q", got)
	}
	// a missing image is still the client's cue to pull (which fails here: no registry)
	if r := a.Docker("create", "localhost/nosuchimage"); !strings.Contains(r.Stderr, "Unable to find image") {
		t.Errorf("docker create of a missing image: %s", r)
	}
}

// docker load (and pea load) report the names the archive holds, not every name the image
// already had in the store; docker rename to the current name is refused, as Docker does;
// network inspect shows an IP range as the CIDR it was given (it showed start-end).
func TestAPIDockerLoadRenameIPRange(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("tag", "localhost/bb", "localhost/bb:two")
	tarball := filepath.Join(a.Dir, "two.tar")
	a.MustDocker("save", "-o", tarball, "localhost/bb:two")
	a.MustDocker("rmi", "localhost/bb:two")
	if got := a.MustDocker("load", "-i", tarball); got != "Loaded image: localhost/bb:two" {
		t.Errorf("docker load: %q", got)
	}
	if got := strings.TrimSpace(a.Pea("load", "-q", "-i", tarball)); got != "Loaded image: localhost/bb:two" {
		t.Errorf("pea load: %q", got)
	}

	a.MustDocker("create", "--name", "samename", "localhost/bb", "true")
	if r := a.Docker("rename", "samename", "samename"); r.Code != 1 || !strings.Contains(r.Stderr, "same name as its current name") {
		t.Errorf("docker rename to the same name: %s", r)
	}

	a.MustDocker("network", "create", "--subnet", "10.213.61.0/24", "--ip-range", "10.213.61.128/25", "rangenet")
	if got := a.MustDocker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.IPRange}}{{end}}", "rangenet"); got != "10.213.61.128/25" {
		t.Errorf("IPRange: %q, want 10.213.61.128/25", got)
	}
	a.MustDocker("network", "rm", "rangenet")
}
