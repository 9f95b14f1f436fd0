// Package collector decides, per command, whether pea runs with Go's garbage collector.
//
// A short pea command (a listing, an inspection, one object's change) allocates from a few
// hundred KiB to a few MiB and exits within milliseconds: it never collects (internal/cli turns
// the collector off below 256 MiB), yet the collector's allocator costs it all the same. Each
// size of object gets its own span of pages, so a process that allocates 120 KiB in 700 objects
// touches ~110 pages of heap, each a page fault and a zeroed page, plus the bookkeeping of every
// span. scripts/build.sh therefore links pea with GODEBUG's sbrk=1 as the binary's default: the
// runtime's trivial allocator, which hands out memory in address order from a few large chunks
// and never frees it. Measured on the 2-core VM (300 interleaved runs each, twice): an empty
// `ps -a` 1.75 -> 1.57 ms, `pod ps` 1.74 -> 1.56, `version` 1.37 -> 1.21; 300 -> 220 page
// faults.
//
// A command that may run for long (attached, following, streaming, serving) or whose memory
// grows with data rather than with the store (pull, load, save, import, cp, removing an image's
// or a volume's files, acting on --all objects) must collect. pea's constructor (cmd/pea, before
// the Go runtime starts) classifies the command line with the table in classify.c and, for
// those, executes the binary again with sbrk=0 in GODEBUG: ~0.17 ms, one exec and C's start. The
// Go side then restores the environment its children see (RestoreEnv), checks the command that
// the CLI actually parsed against the same table (Short) and, should the two disagree, executes
// again itself (Ensure) before the command does anything. A short command that turns out to
// need a pull (`create` of an image not yet in the store) does the same at that point.
//
// GODEBUG=sbrk=0 in the environment keeps the collector for every command; a binary built
// without scripts/build.sh has it anyway.
package collector

/*
#include <stdlib.h>
#include "collector.h"
*/
import "C"

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"pea/internal/cpupin"
)

// wasVar carries the environment's GODEBUG across the constructor's exec (set, possibly empty,
// only in the process it executed).
const wasVar = "PEA_GODEBUG_WAS"

// RestoreEnv gives the environment back its GODEBUG as it was before the constructor added
// sbrk=0, so that the processes pea starts (conmon, plugins, its own exit commands) choose for
// themselves. pea's main calls it first.
func RestoreEnv() {
	was, ok := os.LookupEnv(wasVar)
	if !ok {
		return
	}
	if was == "" {
		os.Unsetenv("GODEBUG")
	} else {
		os.Setenv("GODEBUG", was)
	}
	os.Unsetenv(wasVar)
}

var on = sync.OnceValue(func() bool {
	// The sbrk allocator does not count what it hands out as heap allocations.
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	return st.Mallocs > 0
})

// On reports whether the process runs with the garbage collector (a normal Go heap).
func On() bool { return on() }

// Short reports whether a command runs without the collector: the command's group ("" at the
// top level) and name as the CLI parsed them, whether --all, --no-stream and --infra-image were
// given, and its number of arguments.
func Short(group, verb string, all, noStream, infraImage bool, nargs int) bool {
	g, v := C.CString(group), C.CString(verb)
	defer C.free(unsafe.Pointer(g))
	defer C.free(unsafe.Pointer(v))
	return C.pea_short_command(g, v, cbool(all), cbool(noStream), cbool(infraImage), C.int(nargs)) != 0
}

// ShortArgs reports what pea's constructor decides for the command line args (args[0] is the
// program): whether it runs without the collector.
func ShortArgs(args []string) bool {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	return C.pea_short_argv(C.int(len(args)), &argv[0]) != 0
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Ensure executes the process again with the collector on, unless it runs with it already. It
// returns only when it does not execute (or could not: the error). Call it before the command
// has changed anything: the new process starts the command from the beginning. The CPUs and the
// timer slack of pea's start-up are given back first (internal/cpupin): an exec keeps them.
func Ensure() error {
	if On() {
		return nil
	}
	if err := cpupin.Release(); err != nil {
		return err
	}
	return syscall.Exec("/proc/self/exe", os.Args, withCollector(os.Environ()))
}

// withCollector is env with sbrk=0 added to GODEBUG and the original kept for RestoreEnv.
func withCollector(env []string) []string {
	out := make([]string, 0, len(env)+2)
	was := ""
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "GODEBUG="):
			was = kv[len("GODEBUG="):]
		case strings.HasPrefix(kv, wasVar+"="):
		default:
			out = append(out, kv)
		}
	}
	godebug := "sbrk=0"
	if was != "" {
		godebug = was + ",sbrk=0"
	}
	return append(out, "GODEBUG="+godebug, wasVar+"="+was)
}

// Describe is a line for PEA_TRACE.
func Describe() string {
	if On() {
		return "collector: on"
	}
	return "collector: off (sbrk allocator)"
}
