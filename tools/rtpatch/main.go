// Command rtpatch writes the changes pea makes to the Go runtime (and one to package os) it is
// built with, as a
// `go build -overlay` file, for scripts/build.sh. They remove work from the start of every pea
// command, which is a process of a few milliseconds. The first two concern a process that starts
// with one P, which is how every pea command starts (cmd/pea/pin.go moves the process to one CPU
// before the runtime runs), and change nothing for a process that starts with more; the third
// concerns a cgo program whose C code makes no threads that call Go; the fourth and fifth any
// program; the sixth a program on Linux proper.
//
//  1. The collector's start without a second thread. runtime.main locks the main goroutine to
//     the main thread for the packages' initialisation, then gcenable starts two goroutines and
//     waits for them. A locked goroutine that waits gives its P away, so with one P the runtime
//     makes a new thread only to run those two goroutines for a few microseconds and give the P
//     back: a clone, two context switches and a thread stack. With one P the patched runtime
//     unlocks around that wait: the two goroutines run on the main thread, and the main goroutine,
//     the only other runnable one, comes back to the main thread (the only one with a P), which
//     is checked before it is locked again.
//  2. The cgroup CPU limit read when it can matter. Since Go 1.25 the runtime reads
//     /proc/self/cgroup, /proc/self/mountinfo and the cpu controller's quota at start, to lower
//     the default GOMAXPROCS to the limit. A limit is never below 2, so with one CPU it cannot
//     change the answer (1); the patched runtime reads it the first time the default is computed
//     again (runtime.SetDefaultGOMAXPROCS, which internal/cpupin calls when it gives the CPUs
//     back, or sysmon's periodic check), under the lock those paths already take.
//  3. No template thread at start. A cgo program starts one eagerly, in case a thread that C
//     made calls into Go and then needs a new thread (the runtime will not clone a thread whose
//     state C may have changed, and asks the template thread to). pea's C (SQLite, the two
//     constructors in cmd/pea) makes no threads, and never calls Go. The other user of the
//     template thread, a goroutine locked with runtime.LockOSThread that needs a new thread, is
//     covered as in a program without cgo: LockOSThread starts it first.
//  4. The main goroutine starts with a 32 KiB stack instead of 2 KiB. A pea command's main
//     goroutine grew its stack twice on the way to 8 KiB; each growth copies the stack and, to
//     adjust its pointers, reads the function tables (pclntab) of every frame on it, which lie
//     scattered over megabytes of the binary: 20 of an empty listing's ~380 page faults, with
//     the binary read back from disk as an installed one is. Stack pages never touched cost
//     nothing.
//  5. No allocation sampling in a program that cannot read the samples. When nothing in the
//     program reaches runtime.MemProfile the linker tells the runtime so, and schedinit sets
//     MemProfileRate to 0, but only after its own first allocations; an allocation made after
//     the rate changed is always sampled, so every process took three samples (a stack walk
//     through the function tables and an insert into the profile's hash table each: 8 page
//     faults). The patched runtime sets the rate before the heap exists.
//  6. No clone probe before the first process start. Before a process first starts another,
//     package os checks that pidfds work: pidfd_open, waitid and pidfd_send_signal on itself,
//     and then a clone(CLONE_PIDFD) of a child that exits at once, which costs ~0.1 ms (a
//     Go program's first os.StartProcess 170-220 µs, the next ones 60-100). Go's own comment
//     says the clone should not be needed, pidfd_open (Linux 5.3) being younger than
//     CLONE_PIDFD (5.2), and is there for other implementations of Linux's interface (gVisor),
//     where pea, which needs crun, cgroups and overlayfs, does not run anyway. pea's `run`
//     starts conmon first, and that start is on the way of every container's (run --rm
//     --network none, A/B of 250 runs twice: 24.59 -> 24.18 and 25.97 -> 25.16 ms). Should
//     CLONE_PIDFD fail after all, starting a process fails with the kernel's error: nothing
//     goes on half-done.
//
// Measured on the 2-core VM (goab, 400 interleaved runs, twice or three times each): an empty
// `pea ps -a` 1.85 -> 1.60 ms for the first two (the first is 0.17 ms of it), 1.88 -> 1.84 and
// 1.76 -> 1.68 ms more for the third (binaries fresh from the linker); with the binary read back
// from disk, ~0.06 ms for the fourth and 1.86-1.91 -> 1.81-1.84 ms for the fifth. The process's
// threads: 4 -> 3 -> 2 (the main thread and sysmon remain).
//
// The changes are made to the installed toolchain's own files as text (tools/internal/srcedit):
// each is anchored on lines that must occur exactly once, and rtpatch fails, writing nothing, when
// one does not (another Go version); build.sh then builds with the runtime as it is. The test in
// this directory applies them to the installed Go, so a Go upgrade that moves the anchors fails
// the suite.
package main

import (
	"flag"
	"fmt"
	"os"

	"pea/tools/internal/srcedit"
)

var edits = []srcedit.Edit{
	{File: "runtime/proc.go", Old: `
	gcenable()
	defaultGOMAXPROCSUpdateEnable()`, New: `
	peaGCEnable()
	defaultGOMAXPROCSUpdateEnable()`},
	{File: "runtime/proc.go", Old: `
	mProfStackInit(gp.m)
	defaultGOMAXPROCSInit()
`, New: `
	mProfStackInit(gp.m)
	peaCgroupInit()
`},
	{File: "runtime/proc.go", Old: `
	// Don't hold sched.lock while we read the filesystem.
	procs := defaultGOMAXPROCS(0)
	unlock(&computeMaxProcsLock)`, New: `
	// Don't hold sched.lock while we read the filesystem.
	peaCgroupInitLocked()
	procs := defaultGOMAXPROCS(0)
	unlock(&computeMaxProcsLock)`},
	{File: "runtime/proc.go", Old: `
		startTemplateThread()
		cgocall(_cgo_notify_runtime_init_done, nil)`, New: `
		cgocall(_cgo_notify_runtime_init_done, nil)`},
	{File: "runtime/proc.go", Old: `
	newg := gfget(pp)
	if newg == nil {
		newg = malg(stackMin)`, New: `
	newg := gfget(pp)
	if newg == nil {
		newg = malg(peaStackSize(fn))`},
	{File: "runtime/proc.go", Old: `
	randinit() // must run before mallocinit, alginit, mcommoninit
	mallocinit()`, New: `
	randinit() // must run before mallocinit, alginit, mcommoninit
	peaNoMemProfile()
	mallocinit()`},
	{File: "runtime/debug.go", Old: `
	procs := defaultGOMAXPROCS(0)

	lock(&sched.lock)`, New: `
	peaCgroupInitLate()
	procs := defaultGOMAXPROCS(0)

	lock(&sched.lock)`},
	{File: "os/pidfd_linux.go", Old: `
	// Verify that clone(CLONE_PIDFD) works.
	//
	// This shouldn't be necessary since pidfd_open was added in Linux 5.3,
	// after CLONE_PIDFD in Linux 5.2, but some alternative Linux
	// implementations may not adhere to this ordering.
	if err := checkClonePidfd(); err != nil {
		return err
	}
`, New: `
	// pea's tools/rtpatch: clone(CLONE_PIDFD) is not probed (see its package comment).
`},
}

// added is a file added to package runtime: the functions the edits call.
const added = `// Added to the runtime by pea's tools/rtpatch: see its package comment.

package runtime

import "internal/abi"

// peaMainStack is the stack the main goroutine starts with, instead of stackMin (2 KiB): a pea
// command's main goroutine needs 8 KiB or more, and each doubling on the way copies the stack,
// which reads the function tables of every frame on it.
const peaMainStack = 32 << 10

// peaStackSize is the stack a new goroutine that runs fn starts with.
func peaStackSize(fn *funcval) int32 {
	if fn.fn == abi.FuncPCABIInternal(main) {
		return peaMainStack
	}
	return stackMin
}

// peaNoMemProfile turns allocation sampling off before the first allocation when nothing in the
// program can read the profile (the linker found runtime.MemProfile unreachable). schedinit does
// the same, but only after allocating, and an allocation after MemProfileRate changed is always
// sampled: three samples in every process, each a walk of the stack through the function tables
// and an insert into the profile's hash table.
func peaNoMemProfile() {
	if disableMemoryProfiling {
		MemProfileRate = 0
	}
}

// peaGCEnable runs gcenable. With one P it does so with the main goroutine unlocked from the
// main thread, so that waiting for the sweeper and scavenger to start does not hand the P to a
// new thread.
func peaGCEnable() {
	if gomaxprocs != 1 {
		gcenable()
		return
	}
	unlockOSThread()
	gcenable()
	lockOSThread()
	if getg().m != &m0 {
		throw("runtime.main left the main thread in gcenable")
	}
}

// peaCgroupDeferred is set while the cgroup CPU limit has not been read because the process
// started with one CPU. Written at start and under computeMaxProcsLock.
var peaCgroupDeferred bool

// peaCgroupInit is schedinit's defaultGOMAXPROCSInit, put off when there is one CPU: the default
// GOMAXPROCS is then 1 whatever the limit (a limit is at least 2).
func peaCgroupInit() {
	if numCPUStartup > 1 {
		defaultGOMAXPROCSInit()
		return
	}
	peaCgroupDeferred = true
}

// peaCgroupInitLate does the put-off read before the default is computed again.
func peaCgroupInitLate() {
	if !peaCgroupDeferred {
		return
	}
	lock(&computeMaxProcsLock)
	peaCgroupInitLocked()
	unlock(&computeMaxProcsLock)
}

// peaCgroupInitLocked is peaCgroupInitLate for a caller that holds computeMaxProcsLock.
func peaCgroupInitLocked() {
	if peaCgroupDeferred {
		peaCgroupDeferred = false
		defaultGOMAXPROCSInit()
	}
}
`

func main() {
	goroot := flag.String("goroot", "", "the toolchain's GOROOT (go env GOROOT)")
	out := flag.String("o", "", "directory to write the patched files and overlay.json in")
	flag.Parse()
	if *goroot == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: rtpatch -goroot DIR -o DIR")
		os.Exit(2)
	}
	path, err := write(*goroot, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpatch:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// write writes the patched runtime files and the overlay that maps the runtime's paths to them
// into dir, and returns the overlay's path. It writes nothing when an edit does not apply.
func write(goroot, dir string) (string, error) {
	files, err := srcedit.Apply(goroot, edits, map[string]string{"runtime/pea_rtpatch.go": added})
	if err != nil {
		return "", err
	}
	return srcedit.WriteOverlay(dir, files)
}
