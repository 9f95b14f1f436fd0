package cgroups

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWarmAttachWritesOwnCgroup: the C thread writes to the cgroup.procs of a cgroup the process
// is in (the file lists its PID), the kernel accepts the write (so it took the attach lock), and
// the process is still in every cgroup it was in before.
func TestWarmAttachWritesOwnCgroup(t *testing.T) {
	testHost(t)
	target := warmTarget()
	if target == "" {
		t.Skip("no writable cgroup.procs of the process's own cgroup under /sys/fs/cgroup")
	}
	if err := unix.Access(target, unix.W_OK); err != nil {
		t.Fatalf("the C side chose %s, which is not writable: %v", target, err)
	}
	procs, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(procs)), strconv.Itoa(os.Getpid())) {
		t.Fatalf("%s does not list this process (%d): not its own cgroup", target, os.Getpid())
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	WarmAttach()
	WarmAttach() // while the first is on its way: no second thread
	deadline := time.Now().Add(30 * time.Second)
	for warmRunning() {
		if time.Now().After(deadline) {
			t.Fatal("the write has not returned after 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := warmResult(); err != nil {
		t.Fatalf("write to %s: %v", target, err)
	}
	after, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("the process moved:\nbefore %s\nafter  %s", before, after)
	}
}

// TestAttachSelfStaysInOwnCgroup: the synchronous write is accepted and leaves the process in
// every cgroup it was in.
func TestAttachSelfStaysInOwnCgroup(t *testing.T) {
	testHost(t)
	if warmTarget() == "" {
		t.Skip("no writable cgroup.procs of the process's own cgroup under /sys/fs/cgroup")
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if err := AttachSelf(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("the process moved:\nbefore %s\nafter  %s", before, after)
	}
}
