package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hugePageVMAs counts process pid's mappings advised MADV_HUGEPAGE ("hg" in smaps' VmFlags),
// once its Go runtime has mapped its heap: when it runs a second thread (sysmon, started after
// the heap's first map).
func hugePageVMAs(t *testing.T, pid int) int {
	t.Helper()
	status := "/proc/" + strconv.Itoa(pid) + "/status"
	eventually(t, 10*time.Second, func() error {
		b, err := os.ReadFile(status)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Threads:"); ok {
				if n, _ := strconv.Atoi(strings.TrimSpace(v)); n >= 2 {
					return nil
				}
			}
		}
		return fmt.Errorf("process %d has not started its runtime's threads", pid)
	})
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && strings.Contains(flags+" ", " hg ") {
			n++
		}
	}
	return n
}

// pea keeps its Go heap in huge pages (cmd/pea/hugeheap.go): a pea command's heap is advised
// MADV_HUGEPAGE, except in the processes pea leaves running for a container (its healthcheck
// timer here), whose private memory would double, and when PEA_HUGE_HEAP=0 says not to.
func TestHugeHeap(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("no transparent huge pages in this kernel")
	}
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--network", "none", "--name", "hh", "--health-cmd", "true", "--health-interval", "1s", "localhost/bb", "sleep", "1000")
	heapOf := func(env ...string) int {
		cmd := exec.Command(peaBin, e.args("wait", "hh")...) // lives until the container stops
		cmd.Env = append(os.Environ(), env...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		return hugePageVMAs(t, cmd.Process.Pid)
	}
	if n := heapOf(); n != 1 {
		t.Errorf("pea wait: %d mappings advised for huge pages, want its heap's", n)
	}
	if n := heapOf("PEA_HUGE_HEAP=0"); n != 0 {
		t.Errorf("pea wait with PEA_HUGE_HEAP=0: %d mappings advised for huge pages", n)
	}
	var timers []string
	eventually(t, 5*time.Second, func() error {
		if timers = healthTimers(t, id); len(timers) != 1 {
			return fmt.Errorf("health timers: %q", timers)
		}
		return nil
	})
	pid, _ := strconv.Atoi(strings.SplitN(timers[0], ":", 2)[0])
	if n := hugePageVMAs(t, pid); n != 0 {
		t.Errorf("the healthcheck timer: %d mappings advised for huge pages", n)
	}
}
