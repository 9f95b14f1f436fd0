package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Before each timed command the benchmark waits until no process of an engine under test is
// still working on its store: podman's `container cleanup` processes (conmon runs one per
// container that ends: a whole podman process, ~0.1 s of CPU), pea's trash emptier. An engine's
// command returns before they end, so they never were in its own wall time, but they could be
// in the next timed command's, whichever engine's that was (the ninth session saw `pod create
// -p` take pea 39-43 ms after podman's `pod rm -f`, 7.4 ms without podman in the run). In the
// first run with the wait (2026-11-30 10:35) 18 of 1015 checks found such a process (median
// wait 17 ms, longest 0.3 s): rare, and not what slows the listings after the bulk group.
//
// Only those processes are waited for, not an idle machine: waiting until nothing at all ran
// (tried) left the VM's CPUs idle long enough to resume cold, and every command got slower.

const leftoverCap = 30 * time.Second

// leftoverWaiter knows the engines' binaries and stores, and counts the waits.
type leftoverWaiter struct {
	off     bool
	engines []*engine
	exes    map[string]bool

	mu      sync.Mutex
	checks  int
	waits   []time.Duration // the waits that found something
	capHits int
}

var leftoverWait = &leftoverWaiter{}

func (w *leftoverWaiter) setEngines(es []*engine) {
	w.engines = es
	w.exes = map[string]bool{}
	for _, e := range es {
		if p, ok := resolveBin(e.bin); ok {
			w.exes[p] = true
		}
	}
}

// resolveBin is the file a command name or path runs: looked up in PATH, symbolic links
// resolved, absolute (as /proc/PID/exe shows it).
func resolveBin(bin string) (string, bool) {
	if p, err := exec.LookPath(bin); err == nil {
		bin = p
	}
	p, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return "", false
	}
	p, err = filepath.Abs(p)
	return p, err == nil
}

// wait returns once no engine's process is left working on a store, leftoverCap has passed or
// ctx is done.
func (w *leftoverWaiter) wait(ctx context.Context) {
	if w.off || len(w.exes) == 0 {
		return
	}
	start := time.Now()
	found := false
	for ctx.Err() == nil {
		if len(w.find()) == 0 {
			break
		}
		found = true
		if time.Since(start) > leftoverCap {
			w.mu.Lock()
			w.capHits++
			w.mu.Unlock()
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.checks++
	if found {
		w.waits = append(w.waits, time.Since(start))
	}
}

// find returns the PIDs of processes running an engine's binary with one of the engines'
// stores on their command line, other than this process.
func (w *leftoverWaiter) find() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", ent.Name(), "exe"))
		if err != nil || !w.exes[exe] {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil || strings.Contains(string(cmdline), "\x00system\x00service\x00") {
			continue // an API service (api.go) runs as long as its group: it is no leftover
		}
		for _, e := range w.engines {
			if onStore(cmdline, e.root) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// onStore reports whether a NUL-separated command line has root as one of its arguments.
func onStore(cmdline []byte, root string) bool {
	for _, arg := range strings.Split(string(cmdline), "\x00") {
		if arg == root {
			return true
		}
	}
	return false
}

// summary describes the waits, for the report.
func (w *leftoverWaiter) summary() string {
	if w.off {
		return "timed commands started without waiting for the previous commands' leftover processes (-wait-leftovers=false)"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.waits) == 0 {
		return fmt.Sprintf("none of %d checks before timed work found an engine's process still working on its store", w.checks)
	}
	ws := slices.Clone(w.waits)
	slices.Sort(ws)
	var total time.Duration
	for _, d := range ws {
		total += d
	}
	return fmt.Sprintf("%d of %d checks before timed work waited for an engine's leftover processes (podman's container cleanups, pea's trash emptier): median %s, longest %s, %s in all; cut at %s %d times",
		len(ws), w.checks, ws[len(ws)/2].Round(time.Millisecond), ws[len(ws)-1].Round(time.Millisecond), total.Round(100*time.Millisecond), leftoverCap, w.capHits)
}
