package main

import (
	"context"
	"fmt"
	"time"

	"pea/internal/cgroups"
)

// A container's start on this kernel depends on a state the machine keeps between commands:
// moving a process into a cgroup (crun does it for every container on cgroup v1, and on v2
// where it cannot use CLONE_INTO_CGROUP) takes the kernel's global cgroup_threadgroup_rwsem for
// writing, whose first writer waits a whole RCU grace period (~12 ms on the 2-core VM) unless
// another writer left within about one grace period before. So `crun run` takes 10-13 ms right
// after another container start and 25-30 ms after 50-200 ms of quiet (python, 15 runs each:
// 12.7 back to back, 22.6 after 20 ms, 25.2 after 50 ms, 29.7 after 200 ms; 10.2, 11.1, 12.0
// and 16.3 when a cgroup write just before had readied the lock). Timed in whatever state the
// previous command left, the floor spread from 7.5 to 37 ms in one run and its median moved the
// pea/floor ratio between 1.36 and 2.4 from run to run.
//
// The run rows are therefore timed twice, each time in a state set just before every timed
// command, engines and floors alike:
//   - idle: nothing has run for idleGap (an interactive command after a pause);
//   - warm: a cgroup write has just readied the lock (a loop of container starts, or a host
//     whose runtime moves nothing, as crun on cgroup v2 with CLONE_INTO_CGROUP).
type machineState struct {
	name   string // the suffix of its rows
	settle func(ctx context.Context) error
}

// idleGap is long enough for the lock to go back to its reader state (two grace periods) and
// for the CPUs to go idle.
const idleGap = 200 * time.Millisecond

var (
	idleState = machineState{name: "idle machine", settle: func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(idleGap):
			return nil
		}
	}}
	warmState = machineState{name: "cgroup attach lock warm", settle: func(context.Context) error {
		return readyAttachLock()
	}}
	machineStates = []machineState{idleState, warmState}
)

// startIn readies a timed command's start: it waits for the leftovers of earlier commands
// (leftovers.go), then sets state s (nil: none).
func startIn(ctx context.Context, s *machineState) error {
	leftoverWait.wait(ctx)
	if s == nil {
		return nil
	}
	if err := s.settle(ctx); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// row names the row of base timed in state s (nil: base itself).
func (s *machineState) row(base string) string {
	if s == nil {
		return base
	}
	return base + " (" + s.name + ")"
}

// readyAttachLock moves the bench into the cgroup it is already in, which takes the cgroup
// attach lock for writing: it returns once the lock is in its writer state, where it stays for
// about a grace period after.
func readyAttachLock() error { return cgroups.AttachSelf() }

// attachLockProbe says whether a cgroup write on this host waits for a grace period: it times
// the bench's own move into its cgroup after a pause long enough for the lock to go back to its
// reader state. A few milliseconds: it does, and a container start after a pause pays it (the
// two machine states differ by it); well under one: the host mounts cgroups with favordynmods
// (or did once: on Linux 6.18 the per-thread-group lock it turns on stays until a reboot).
func attachLockProbe(ctx context.Context) string {
	if err := idleState.settle(ctx); err != nil {
		return "not probed: " + err.Error()
	}
	start := time.Now()
	if err := readyAttachLock(); err != nil {
		return "not probed: " + err.Error()
	}
	d := time.Since(start)
	verdict := "a write waits for a grace period after a pause"
	if d < time.Millisecond {
		verdict = "no wait for a grace period (favordynmods, or its per-thread-group lock)"
	}
	return fmt.Sprintf("a write after %v idle took %.2f ms: %s", idleGap, float64(d.Microseconds())/1000, verdict)
}
