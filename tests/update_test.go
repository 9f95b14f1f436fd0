package tests

import (
	"fmt"
	"os"
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
	// Limits removed from a running container are removed from its cgroup too, and --cpus
	// replaces a quota given before (they set the same limit).
	e.Pea("update", "--pids-limit", "0", "--memory", "0", "c")
	if out := e.Pea("exec", "c", "sh", "-c", limitsScript); strings.Contains(out, "67108864") || strings.HasSuffix(out, "\n50") {
		t.Fatalf("removed limits still enforced: %q", out)
	}
	e.Pea("run", "-d", "--name", "q", "--network", "none", "--cpu-quota", "50000", "localhost/bb", "sleep", "1000")
	e.Pea("update", "--cpus", "1", "q")
	e.Pea("update", "--cpu-quota", "-1", "q")
	quota := "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max"
	// (-1, max, or a quota of every CPU of the host for each period: no limit.)
	if out := e.Pea("exec", "q", "sh", "-c", quota); out == "50000" || out == "100000" {
		t.Fatalf("a removed CPU quota still enforced: %q", out)
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

// update's block I/O throttles and swappiness on a running container (the cgroup files change
// at once, and a restart keeps them); bad values are refused and change nothing.
func TestUpdateBlkioAndSwappiness(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/blkio"); err != nil {
		t.Skip("the cgroup files read here are cgroup v1's")
	}
	e := newEnv(t).withBusybox()
	dev, majmin := hostBlockDevice(t)
	e.Pea("run", "-d", "--name", "u", "--network", "none", "localhost/bb", "sleep", "1000")
	read := func() string {
		return e.Pea("exec", "u", "sh", "-c", "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device /sys/fs/cgroup/memory/memory.swappiness")
	}
	e.Pea("update", "--device-read-bps", dev+":1mb", "--device-write-iops", dev+":300", "--memory-swappiness", "9", "u")
	if got, want := read(), fmt.Sprintf("%[1]s 1048576\n%[1]s 300\n9", majmin); got != want {
		t.Fatalf("after update: %q, want %q", got, want)
	}
	e.refused("not a block device", "update", "--device-read-bps", "/dev/null:1mb", "u")
	e.refused("invalid --memory-swappiness", "update", "--memory-swappiness", "101", "u")
	e.Pea("restart", "-t", "0", "u")
	if got, want := read(), fmt.Sprintf("%[1]s 1048576\n%[1]s 300\n9", majmin); got != want {
		t.Fatalf("after a restart: %q, want %q", got, want)
	}
}
