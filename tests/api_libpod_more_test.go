package tests

import (
	"net/http/httptest"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// TestLibpodInitUpdateTreeSearch: podman --remote init, update, image tree and search; docker
// search through Docker's endpoint.
func TestLibpodInitUpdateTreeSearch(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("create", "--name", "c", "--network", "none", "localhost/bb", "sleep", "300")
	a.mustPodman("init", "c")
	if st := a.Pea("inspect", "-f", "{{.State.Status}}", "c"); st != "initialized" {
		t.Fatalf("after podman init: %s", st)
	}
	a.mustPodman("start", "c")
	a.mustPodman("update", "--memory", "64m", "--cpu-quota", "50000", "--cpu-period", "100000", "c")
	if out := a.Pea("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}", "c"); out != "67108864 50000 100000" {
		t.Fatalf("after podman update: %q", out)
	}
	if out := a.Pea("exec", "c", "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"); out != "67108864" {
		t.Fatalf("the memory limit in the container's cgroup: %q", out)
	}
	if out := a.mustPodman("image", "tree", "localhost/bb"); out != strings.TrimSpace(a.Pea("image", "tree", "localhost/bb")) {
		t.Fatalf("podman image tree: %q", out)
	}
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	a.Pea("push", "--tls-verify=false", "localhost/bb", reg+"/lib/busybox:1")
	if out := a.mustPodman("search", "--tls-verify=false", "--format", "{{.Name}}", reg+"/busy"); out != reg+"/lib/busybox" {
		t.Fatalf("podman search: %q", out)
	}
	if out := a.MustDocker("search", "--format", "{{.Name}}", reg+"/busy"); !strings.HasSuffix(out, "lib/busybox") {
		t.Fatalf("docker search: %q", out)
	}
}
