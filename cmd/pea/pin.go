package main

// The constructor below runs before the Go runtime starts (C start-up runs constructors before
// main, and with cgo the Go runtime is entered from C's main). It moves the process to the CPU it
// is on, so that the runtime starts with one P and all its threads on that CPU; internal/cpupin
// explains why, and gives the CPUs back before anything runs for long or starts a process.

/*
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>

static cpu_set_t pea_start_cpus;
static int pea_pinned;

__attribute__((constructor)) static void pea_pin(void) {
	cpu_set_t one;
	if (getenv("PEA_NO_PIN") != NULL) return;
	if (sched_getaffinity(0, sizeof pea_start_cpus, &pea_start_cpus) != 0) return;
	if (CPU_COUNT(&pea_start_cpus) < 2) return;
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &pea_start_cpus)) return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof one, &one) == 0) pea_pinned = 1;
}

static cpu_set_t *pea_start(void) { return pea_pinned ? &pea_start_cpus : NULL; }
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
)

// recordPin tells cpupin which CPUs to give back, when the constructor pinned the process.
func recordPin() {
	p := C.pea_start()
	if p == nil {
		return
	}
	var set unix.CPUSet
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&set)), unsafe.Sizeof(set)), C.GoBytes(unsafe.Pointer(p), C.int(C.sizeof_cpu_set_t)))
	cpupin.Pinned(set)
}
