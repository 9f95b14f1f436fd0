package tests

import (
	"os"
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

// docker inspect's GraphDriver.Data names the lower, upper, work and merged directories, as
// Docker's overlay2 does for a container created or running (it had only MergedDir, empty
// until a start); /system/df gives each container's SizeRootFs (with its image) as Docker does.
func TestAPIDockerGraphDriverDf(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("create", "--name", "made", "--network", "none", "localhost/bb", "sleep", "1000")
	a.MustDocker("run", "-d", "--name", "runs", "--network", "none", "localhost/bb", "sleep", "1000")
	a.MustDocker("exec", "runs", "sh", "-c", "echo written > /root/note")
	for _, name := range []string{"made", "runs"} {
		got := a.MustDocker("inspect", "-f", "{{.GraphDriver.Name}}|{{.GraphDriver.Data.LowerDir}}|{{.GraphDriver.Data.UpperDir}}|{{.GraphDriver.Data.WorkDir}}|{{.GraphDriver.Data.MergedDir}}", name)
		f := strings.Split(got, "|")
		if len(f) != 5 || f[0] != "overlay" {
			t.Fatalf("%s: GraphDriver %q", name, got)
		}
		for i, k := range []string{"LowerDir", "UpperDir", "WorkDir", "MergedDir"} {
			if !strings.HasPrefix(f[i+1], a.Dir) {
				t.Errorf("%s: %s %q, want a directory of the store", name, k, f[i+1])
			}
		}
		if name == "runs" {
			if b, err := os.ReadFile(filepath.Join(f[2], "root/note")); err != nil || string(b) != "written\n" {
				t.Errorf("the file the container wrote, in UpperDir: %q %v", b, err)
			}
		}
	}
	var df struct {
		Containers []struct {
			Names              []string
			SizeRw, SizeRootFs *int64
		}
	}
	a.RequestJSON("GET", "/v1.41/system/df", nil, 200, &df)
	for _, c := range df.Containers {
		if c.SizeRw == nil || c.SizeRootFs == nil || *c.SizeRootFs < *c.SizeRw+1000000 {
			t.Errorf("system df: %v: SizeRw %v, SizeRootFs %v (want it with the image's 2 MB)", c.Names, c.SizeRw, c.SizeRootFs)
		}
	}
}
