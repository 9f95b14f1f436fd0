package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The warm state writes to the cgroup.procs of the bench's own cgroup: the file lists the
// process, and the write (a move into the cgroup it is in) leaves it there.
func TestReadyAttachLock(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("writing cgroup.procs needs root")
	}
	path, err := ownCgroupProcs()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile("/proc/self/cgroup")
	if err := warmState.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile("/proc/self/cgroup")
	if string(before) != string(after) {
		t.Errorf("the write moved the process:\n%s\n->\n%s", before, after)
	}
	procs, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("\n"+string(procs), "\n"+strconv.Itoa(os.Getpid())+"\n") {
		t.Errorf("%s does not list the bench (%d)", path, os.Getpid())
	}
}

// The idle state waits idleGap, and no longer than its context allows.
func TestIdleStateWaits(t *testing.T) {
	start := time.Now()
	if err := idleState.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < idleGap {
		t.Errorf("idle settled after %v, before %v", d, idleGap)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := idleState.settle(ctx); err == nil {
		t.Error("a cancelled idle wait returned no error")
	}
}

// The probe reports a measured write and a verdict on it.
func TestAttachLockProbe(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("writing cgroup.procs needs root")
	}
	got := attachLockProbe(context.Background())
	if !strings.Contains(got, " ms: ") || !strings.Contains(got, "grace period") {
		t.Errorf("probe: %q", got)
	}
}
