package tests

import (
	"strings"
	"testing"
)

// memLimit and pidsMax read a container's limits from inside it (cgroup v1 or v2).
const limitsScript = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"

// pea update changes a running container's limits at once and a stopped one's for its next
// start; refused limits change nothing.
func TestUpdateResources(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "c", "--network", "none", "--memory", "32m", "localhost/bb", "sleep", "1000")
	e.Pea("update", "--memory", "64m", "--pids-limit", "50", "c")
	if out := e.Pea("exec", "c", "sh", "-c", limitsScript); out != "67108864\n50" {
		t.Fatalf("running container's limits: %q", out)
	}
	if out := e.Pea("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", "c"); out != "67108864 50" {
		t.Fatalf("inspect: %q", out)
	}
	// Refused: below the minimum, swap below memory; nothing changes.
	e.Fails(125, "update", "--memory", "1k", "c")
	e.Fails(125, "update", "--memory-swap", "10m", "c")
	e.Fails(125, "update", "c")
	if out := e.Pea("exec", "c", "sh", "-c", limitsScript); out != "67108864\n50" {
		t.Fatalf("a refused update changed the limits: %q", out)
	}
	// Stopped: the next start has the new limits.
	e.Pea("stop", "-t", "0", "c")
	e.Pea("update", "--memory", "48m", "c")
	e.Pea("start", "c")
	if out := e.Pea("exec", "c", "sh", "-c", limitsScript); !strings.HasPrefix(out, "50331648\n") {
		t.Fatalf("after a start: %q", out)
	}
}

// docker update through the API.
func TestAPIUpdate(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "c", "--network", "none", "localhost/bb", "sleep", "1000")
	a.MustDocker("update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "40", "c")
	if out := a.MustDocker("exec", "c", "sh", "-c", limitsScript); out != "67108864\n40" {
		t.Fatalf("limits after docker update: %q", out)
	}
	if out := a.MustDocker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", "c"); out != "67108864 134217728" {
		t.Fatalf("inspect after docker update: %q", out)
	}
	if r := a.Docker("update", "--memory", "1k", "c"); r.Code == 0 {
		t.Fatalf("docker update below the minimum: %s", r)
	}
}
