package cgroups

import (
	"errors"
	"os"

	"pea/internal/trace"
)

// Moving a process into a cgroup (a write to cgroup.procs, as crun does for every container it
// creates and every process it execs into one) takes the kernel's global cgroup_threadgroup_rwsem
// for writing. That lock is a per-CPU rwsem: before its first writer may enter, it waits for a
// full RCU grace period so that every reader switches to the slow path, and it stays in that
// state for one more grace period after the last writer leaves. A grace period is 5-20 ms on the
// 2-core VM (12.6 ms median), and crun paid it in 19 of 20 `run --rm` (perf, sched_switch
// stacks: synchronize_rcu_normal <- rcu_sync_enter <- percpu_down_write <-
// cgroup_procs_write_start): a third of the whole command.
//
// WarmAttach starts that wait early, in the background: one of pea's threads moves the process
// into the cgroup it is already in (a no-op for the process, but a writer of the lock), while
// pea prepares the bundle and conmon and crun start. By the time crun moves the container's
// first process the lock is in its writer state, or on its way there, and crun waits for what
// is left of the grace period, not a whole one: `run --rm` 64.2 -> 48.2 ms (medians of 30
// interleaved runs). It costs nothing where no writer follows (cgroup v2 hosts whose runtime
// uses CLONE_INTO_CGROUP, or a kernel mounted with favordynmods, whose lock is always in that
// state): a write to a cgroup file from a thread nothing waits for. A failure (no cgroup file
// system, no permission) only loses the head start.
func WarmAttach() {
	trace.Mark("cgroups: attach lock warming")
	warmAttach()
}

// AttachSelf is WarmAttach done by the calling thread: it returns once the write (and so the
// kernel's wait for the attach lock, if any) is done. The bench sets the lock's state with it
// before a timed start.
func AttachSelf() error {
	target := warmTarget()
	if target == "" {
		return errors.New("no writable cgroup.procs of the process's own cgroup under /sys/fs/cgroup")
	}
	return os.WriteFile(target, []byte("0"), 0)
}
