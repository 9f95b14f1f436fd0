package main

// The constructor below runs before the Go runtime starts (C start-up runs constructors before
// main, and with cgo the Go runtime is entered from C's main). It puts the process in pea's
// start-up mode, which internal/cpupin explains and undoes before anything runs for long, waits
// on short timers or starts a process:
//
//   - it moves the process to the CPU it is on, so that the runtime starts with one P and all
//     its threads on that CPU;
//   - it widens the main thread's timer slack to 5 ms (PEA_START_SLACK), which every thread the
//     runtime makes inherits. The runtime's monitor thread (sysmon) sleeps 20 µs at a time while
//     the program is busy; with the default 50 µs slack it woke every ~90 µs and, on the one CPU,
//     took the main thread off it for ~11 µs each time: a tenth of a 2 ms command. With the wider
//     slack it wakes about once in a command. Only a process with CAP_SYS_NICE widens it:
//     without, it could not narrow it again in its other threads, and every process those start
//     would inherit the wide slack.

/*
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PEA_START_SLACK 5000000UL // ns

static cpu_set_t pea_start_cpus;
static int pea_pinned;
static unsigned long pea_start_slack;

// pea_may_set_slack tells whether the process may set the timer slack of its other threads,
// which internal/cpupin needs to undo the wider one (CAP_SYS_NICE).
// (capget's structures are spelled out: musl-gcc has no kernel headers.)
static int pea_may_set_slack(void) {
	struct { unsigned int version; int pid; } h = {0x20080522, 0}; // _LINUX_CAPABILITY_VERSION_3
	struct { unsigned int effective, permitted, inheritable; } d[2];
	if (syscall(SYS_capget, &h, d) != 0) return 0;
	return (d[0].effective >> 23) & 1; // CAP_SYS_NICE
}

__attribute__((constructor)) static void pea_pin(void) {
	cpu_set_t one;
	if (getenv("PEA_NO_PIN") != NULL) return;
	long slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (slack > 0 && (unsigned long)slack < PEA_START_SLACK && pea_may_set_slack() &&
	    prctl(PR_SET_TIMERSLACK, PEA_START_SLACK, 0, 0, 0) == 0)
		pea_start_slack = slack;
	if (sched_getaffinity(0, sizeof pea_start_cpus, &pea_start_cpus) != 0) return;
	if (CPU_COUNT(&pea_start_cpus) < 2) return;
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &pea_start_cpus)) return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof one, &one) == 0) pea_pinned = 1;
}

static cpu_set_t *pea_start(void) { return pea_pinned ? &pea_start_cpus : NULL; }
static unsigned long pea_slack(void) { return pea_start_slack; }
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
)

// recordPin tells cpupin what the constructor changed: the CPUs to give back and the timer slack
// to restore.
func recordPin() {
	if slack := uint64(C.pea_slack()); slack != 0 {
		cpupin.SlackWidened(slack)
	}
	p := C.pea_start()
	if p == nil {
		return
	}
	var set unix.CPUSet
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&set)), unsafe.Sizeof(set)), C.GoBytes(unsafe.Pointer(p), C.int(C.sizeof_cpu_set_t)))
	cpupin.Pinned(set)
}
