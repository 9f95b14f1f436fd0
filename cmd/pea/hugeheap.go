package main

// The Go heap in huge pages. Most pea commands live for a few milliseconds, and a fresh page
// costs a fault at its first touch: ~240 faults for `pea version`, ~300 for an empty `ps -a`, of
// which ~110 are in the heap's first 4 MiB chunk, all within one 2 MiB range. Where a fault is
// dear (a VM with shadow page tables: ~20 µs each, a hello-world Go program 8 ms in all),
// they are most of a command's time. With the kernel's transparent huge pages in "madvise" mode
// (this machine's setting), a range advised MADV_HUGEPAGE gets one 2 MiB page at its first fault:
// measured on such a VM, `version` 7.5 -> 5.4 ms and an empty `ps -a` 9.9 -> 6.7 ms (100 runs).
//
// The runtime maps its heap itself, before any Go code runs, with mmap(MAP_FIXED) of 4 MiB or
// more; with cgo it calls the C library's mmap, which this definition replaces (musl's and
// glibc's are weak or interposable). It advises exactly those maps — anonymous, private, fixed,
// read-write, 2 MiB or more — and nothing the C code maps.
//
// A long-lived pea would keep the huge pages (its heap's RSS 4 -> 9.5 MiB): the processes pea
// leaves behind for a container (the healthcheck timer, a detached exec's terminal holder) are
// started with PEA_HUGE_HEAP=0, which turns it off, as it does for anyone who sets it.

/*
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int pea_huge_heap;

__attribute__((constructor)) static void pea_huge_heap_init(void) {
	const char *v = getenv("PEA_HUGE_HEAP");
	pea_huge_heap = v == NULL || strcmp(v, "0") != 0;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
	void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (pea_huge_heap && p != MAP_FAILED && flags == (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) &&
	    prot == (PROT_READ | PROT_WRITE) && len >= (2UL << 20))
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}
*/
import "C"
