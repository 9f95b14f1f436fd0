// Package cpupin gives back the CPUs that pea's start-up took away.
//
// pea's binary starts (see cmd/pea/pin.go) with every thread on the CPU the process was born on.
// A Go process spread over several CPUs pays for it at start-up: each copy-on-write or unmap of
// a page the other CPU may cache must shoot down that CPU's TLB with an inter-processor
// interrupt, which on a virtual machine is an exit to the hypervisor. Measured on the 2-core VM:
// `pea version` 2.64 -> 2.37 ms and `pea ps -a` 3.41 -> 2.95 ms, most of it in
// smp_call_function_many_cond. A command that lives for 2 ms does not need the second CPU.
//
// A child process inherits the CPU set of the thread that forked it, and conmon, crun, the
// container and every other program pea runs must not be confined to one CPU: pea starts every
// process through Command or CommandContext, which call Release first; it gives every thread the
// CPUs back, and Go its usual GOMAXPROCS. The one exception is CommandPinned, for a pea process
// of pea's own, which pins itself anyway (a test holds the rest of pea to these three). Giving
// the CPUs back costs about 1 ms (`create`: 5.0 ms when done up front, 4.0 ms pinned), so verbs
// that start nothing keep the one CPU to the end; the CLI gives them back up front only to the
// verbs that compress or decompress layers in parallel.
//
// The start-up also widens every thread's timer slack (see cmd/pea/pin.go), so that the runtime's
// monitor thread stops taking the one CPU from the command every ~90 µs. Timers then fire up to
// 5 ms late, which a command of a few milliseconds never notices, but a verb that waits on short
// timers would: Release restores the slack along with the CPUs, and PreciseTimers alone for the
// verbs that wait but start nothing.
package cpupin

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/fsx"
)

var (
	mu    sync.Mutex
	saved *unix.CPUSet // the CPU set the process started with, while it is pinned
	slack uint64       // the timer slack (ns) the process started with, while its threads have a wider one
	orig  uint64       // the timer slack the process started with, once it was widened (kept)
)

// Pinned records that the process started on one CPU of cpus and is still there.
func Pinned(cpus unix.CPUSet) {
	mu.Lock()
	saved = &cpus
	mu.Unlock()
}

// SlackWidened records that the process started with timer slack ns and has a wider one.
func SlackWidened(ns uint64) {
	mu.Lock()
	slack, orig = ns, ns
	mu.Unlock()
}

// StartSlack is the timer slack (ns) the process started with while its threads still have the
// wider one, or 0. For code outside Go's timers that sleeps on a thread of its own (SQLite's busy
// handler).
func StartSlack() uint64 {
	mu.Lock()
	defer mu.Unlock()
	return slack
}

// NumCPU is the number of CPUs the process may use once released; runtime.NumCPU counts the one
// CPU of the pin.
func NumCPU() int {
	mu.Lock()
	defer mu.Unlock()
	if saved != nil {
		return saved.Count()
	}
	return runtime.NumCPU()
}

// Release moves every thread of the process back to the CPU set it started with, gives Go its
// default GOMAXPROCS again (the CPU count, within a cgroup CPU limit) unless the GOMAXPROCS
// variable chose one, and restores the threads' timer slack. It does nothing when the process
// is not in its start-up mode, so it may be called any number of times.
func Release() error {
	mu.Lock()
	defer mu.Unlock()
	if saved == nil && slack == 0 {
		return nil
	}
	if err := restoreAll(saved, slack); err != nil {
		return err
	}
	slack = 0
	if saved == nil {
		return nil
	}
	saved = nil
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.SetDefaultGOMAXPROCS()
	}
	return nil
}

// PreciseTimers restores the timer slack of every thread and keeps the CPU pin: for a verb that
// may wait on short timers (an exit, a log line, a stats interval) but starts no process.
func PreciseTimers() {
	mu.Lock()
	defer mu.Unlock()
	if slack == 0 {
		return
	}
	if err := restoreAll(nil, slack); err != nil {
		slog.Debug("could not restore the timer slack", "err", err)
	}
	slack = 0
}

// Sleep is time.Sleep with the start-up timer slack gone first, so that a short sleep is as
// short as asked. pea sleeps only through it (a test holds the rest of pea to that).
func Sleep(d time.Duration) {
	PreciseTimers()
	time.Sleep(d)
}

// After is time.After with the start-up timer slack gone first.
func After(d time.Duration) <-chan time.Time {
	PreciseTimers()
	return time.After(d)
}

// restoreAll sets the affinity of every thread to set and, when ns is not 0, its timer slack to
// ns. A thread created while the loop runs copies both from the thread that made it, which may
// not have been done yet, so the task list is read again until a pass finds no thread it has not
// seen. Only a failure to set the affinity is returned: the slack of another thread can be set
// only with CAP_SYS_NICE, and without it those threads merely keep coarser timers (the first
// such error is logged).
func restoreAll(set *unix.CPUSet, ns uint64) error {
	seen := map[int]bool{}
	var slackErr error
	for {
		names, err := fsx.ReadDirNames("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, name := range names {
			tid, err := strconv.Atoi(name)
			if err != nil || seen[tid] {
				continue
			}
			seen[tid] = true
			fresh++
			if set != nil {
				if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
					return err
				}
			}
			if ns != 0 {
				if err := setSlack(name, ns); err != nil && slackErr == nil {
					slackErr = err
				}
			}
		}
		// A thread being cloned copies its creator's slack before it shows in /proc/self/task,
		// so a pass can miss one however many are made (its creator may be preempted inside
		// the clone): processes whose slack matters are started through Start instead.
		if fresh == 0 {
			if slackErr != nil {
				slog.Debug("could not restore the timer slack of every thread", "err", slackErr)
			}
			return nil
		}
	}
}

// setSlack sets the timer slack of thread tid (a name in /proc/self/task) to ns, through
// /proc/TID/timerslack_ns: the per-thread directories under task/ do not have the file.
func setSlack(tid string, ns uint64) error {
	err := fsx.WriteFile("/proc/"+tid+"/timerslack_ns", strconv.AppendUint(nil, ns, 10), 0)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return nil // the thread is gone
	}
	return err
}

// Command is exec.Command for a process that gets every CPU: it gives them back first. Every
// program pea runs is started through it (or CommandContext); a test holds the rest of pea to
// that.
func Command(name string, args ...string) *exec.Cmd {
	release()
	return exec.Command(name, args...)
}

// CommandContext is exec.CommandContext for a process that gets every CPU.
func CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	release()
	return exec.CommandContext(ctx, name, args...)
}

// CommandPinned is exec.Command for a pea process of its own that needs no more than the CPU
// this one was pinned to (pea pins itself at start-up anyway): it does not give the CPUs back,
// which costs a process that started nothing else ~1 ms. Start it with StartPinned.
func CommandPinned(name string, args ...string) *exec.Cmd {
	return exec.Command(name, args...)
}

// StartPinned starts cmd (from CommandPinned) with the timer slack the process started with,
// though its own threads keep the wider one: the child is forked by this thread, which narrows
// its slack for the fork alone. A pea started with the wide slack would take it for the one to
// restore, and hand it on to every process it starts.
func StartPinned(cmd *exec.Cmd) error {
	ns := StartSlack()
	if ns == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wide, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return cmd.Start()
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0); err != nil {
		return cmd.Start()
	}
	err = cmd.Start()
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(wide), 0, 0, 0)
	return err
}

// Start is cmd.Start (cmd from Command or CommandContext) forked by a thread whose timer slack
// is the one the process started with, which the child inherits and keeps across exec. Release
// restores every thread it finds, but a thread the runtime is creating meanwhile copies its
// creator's wide slack before /proc/self/task shows it, and keeps it: a start from such a thread
// would hand the wide slack on. Processes that live long and start others (conmon, and through
// it the containers) are started through Start; it also mends the thread it runs on. (Command
// and CommandContext have given the CPUs back already.)
func Start(cmd *exec.Cmd) error {
	mu.Lock()
	ns := orig
	mu.Unlock()
	if ns == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); err == nil && uint64(cur) != ns {
		unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0)
	}
	return cmd.Start()
}

// release is Release for a process about to start; it cannot fail in practice (a process may
// always set its own threads' affinity to CPUs it had), and if it did the child would only run
// on one CPU, so it is logged rather than returned.
func release() {
	if err := Release(); err != nil {
		slog.Warn("could not give the CPUs back before starting a process; it runs on one CPU", "err", err)
	}
}
