// SQLite's memory allocator in pea: size classes carved from a zero-filled static arena.
//
// musl's malloc, which SQLite used before, maps a fresh group of pages with mmap for each size
// class it sees and unmaps groups as they empty. Opening the state database and reading its
// schema makes a few hundred small allocations of a few dozen sizes, so a listing of an empty
// store paid for those maps and their first-touch page faults. Here every allocation up to 64 KiB
// is a block of a size class, cut from one arena in the binary's BSS (its pages cost nothing
// until touched, and the blocks of a command sit side by side on few pages) and recycled through
// a free list per class. Larger allocations, and any once the arena is used up, go to
// malloc. Each block has an 8-byte header before it: the class, or the size of a malloc'd one.

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define PEA_MIN_SHIFT 4  // 16 B
#define PEA_MAX_SHIFT 16 // 64 KiB
// The classes are the powers of two from 16 B to 64 KiB and the sizes halfway between them (24,
// 48, 96...): a block wastes at most a third of itself. (With powers of two alone, SQLite's page
// cache lines, a 4 KiB page and ~300 bytes of its own, took 8 KiB blocks.)
#define PEA_CLASSES (2 * (PEA_MAX_SHIFT - PEA_MIN_SHIFT) + 1)
#define PEA_MALLOCED 0xff // the header's low byte for a block from malloc; the size is above it

static _Alignas(16) unsigned char pea_arena[PEA_ARENA_BYTES];
static size_t pea_arena_top;
static void *pea_free_list[PEA_CLASSES];
static pthread_mutex_t pea_alloc_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t pea_class_bytes(int c) {
	size_t base = (size_t)1 << (c / 2 + PEA_MIN_SHIFT);
	return c % 2 ? base + base / 2 : base;
}

static int pea_class_of(int n) {
	int c = 0;
	while (pea_class_bytes(c) < (size_t)n) c++;
	return c;
}

static void *pea_from_malloc(size_t n) {
	uint64_t *h = malloc(n + 8);
	if (h == NULL) return NULL;
	*h = ((uint64_t)n << 8) | PEA_MALLOCED;
	return h + 1;
}

static void *pea_malloc(int n) {
	if (n <= 0) n = 1;
	if (n > (1 << PEA_MAX_SHIFT)) return pea_from_malloc((size_t)n);
	int c = pea_class_of(n);
	uint64_t *h = NULL;
	pthread_mutex_lock(&pea_alloc_mu);
	if (pea_free_list[c] != NULL) {
		void *p = pea_free_list[c];
		pea_free_list[c] = *(void **)p;
		h = (uint64_t *)p - 1;
	} else if (pea_arena_top + 8 + pea_class_bytes(c) <= sizeof pea_arena) {
		h = (uint64_t *)(pea_arena + pea_arena_top);
		pea_arena_top += 8 + pea_class_bytes(c);
	}
	pthread_mutex_unlock(&pea_alloc_mu);
	if (h == NULL) return pea_from_malloc(pea_class_bytes(c));
	*h = (uint64_t)c;
	return h + 1;
}

static void pea_free(void *p) {
	if (p == NULL) return;
	uint64_t *h = (uint64_t *)p - 1;
	if ((*h & 0xff) == PEA_MALLOCED) {
		free(h);
		return;
	}
	int c = (int)(*h & 0xff);
	pthread_mutex_lock(&pea_alloc_mu);
	*(void **)p = pea_free_list[c];
	pea_free_list[c] = p;
	pthread_mutex_unlock(&pea_alloc_mu);
}

static int pea_size(void *p) {
	uint64_t h = ((uint64_t *)p)[-1];
	if ((h & 0xff) == PEA_MALLOCED) return (int)(h >> 8);
	return (int)pea_class_bytes((int)(h & 0xff));
}

static void *pea_realloc(void *p, int n) {
	if (n <= 0) n = 1;
	int have = pea_size(p);
	if (n <= have && ((((uint64_t *)p)[-1] & 0xff) != PEA_MALLOCED || n > have / 2)) return p;
	void *q = pea_malloc(n);
	if (q == NULL) return NULL;
	memcpy(q, p, (size_t)(n < have ? n : have));
	pea_free(p);
	return q;
}

static int pea_roundup(int n) {
	if (n > (1 << PEA_MAX_SHIFT)) return (n + 7) & ~7;
	return (int)pea_class_bytes(pea_class_of(n));
}

static int pea_alloc_init(void *unused) { return 0; }
static void pea_alloc_shutdown(void *unused) {}

// SQLite's sqlite3_mem_methods, spelled out (pea declares the few SQLite symbols it uses).
struct pea_mem_methods {
	void *(*xMalloc)(int);
	void (*xFree)(void *);
	void *(*xRealloc)(void *, int);
	int (*xSize)(void *);
	int (*xRoundup)(int);
	int (*xInit)(void *);
	void (*xShutdown)(void *);
	void *pAppData;
};

static const struct pea_mem_methods pea_mem = {
	pea_malloc, pea_free, pea_realloc, pea_size, pea_roundup, pea_alloc_init, pea_alloc_shutdown, NULL,
};

int sqlite3_config(int op, ...);

int pea_use_allocator(void) {
	return sqlite3_config(4, &pea_mem); // SQLITE_CONFIG_MALLOC
}

size_t pea_arena_used(void) {
	pthread_mutex_lock(&pea_alloc_mu);
	size_t n = pea_arena_top;
	pthread_mutex_unlock(&pea_alloc_mu);
	return n;
}

// pea_alloc_check exercises the allocator through SQLite's interface and returns 0, or the line
// of the first check that failed (for the tests, which cannot call C themselves).
int pea_alloc_check(void) {
	// Every size up to 64 KiB gets a block of the smallest class that holds it, 8-byte aligned,
	// whose whole size (as xSize tells it) is usable.
	for (int n = 1; n <= (1 << PEA_MAX_SHIFT); n = n < 64 ? n + 1 : n * 3 / 2) {
		unsigned char *p = pea_malloc(n);
		if (p == NULL || ((uintptr_t)p & 7) != 0) return __LINE__;
		int size = pea_size(p);
		if (size < n || size != pea_roundup(n) || (n > 16 && 2 * size > 3 * n)) return __LINE__;
		memset(p, 0xa5, (size_t)size);
		pea_free(p);
	}
	// A freed block is the next one of its class.
	void *a = pea_malloc(100);
	pea_free(a);
	if (pea_malloc(120) != a) return __LINE__;
	pea_free(a);
	// Growing within the class keeps the block; growing past it moves the contents.
	unsigned char *r = pea_malloc(40);
	for (int i = 0; i < 40; i++) r[i] = (unsigned char)i;
	if (pea_realloc(r, 46) != r) return __LINE__; // 40 and 46 are both in the 48-byte class
	unsigned char *g = pea_realloc(r, 5000);
	if (g == NULL || pea_size(g) < 5000) return __LINE__;
	for (int i = 0; i < 40; i++)
		if (g[i] != (unsigned char)i) return __LINE__;
	pea_free(g);
	// Beyond the largest class: malloc, with its size kept exactly.
	unsigned char *big = pea_malloc((1 << PEA_MAX_SHIFT) + 1);
	if (big == NULL || pea_size(big) != (1 << PEA_MAX_SHIFT) + 1) return __LINE__;
	big[(1 << PEA_MAX_SHIFT)] = 1;
	unsigned char *bigger = pea_realloc(big, 200000);
	if (bigger == NULL || pea_size(bigger) != 200000 || bigger[1 << PEA_MAX_SHIFT] != 1) return __LINE__;
	unsigned char *small = pea_realloc(bigger, 10); // shrinking a malloc'd block far moves it into the arena
	if (small == NULL || pea_size(small) != 16) return __LINE__;
	pea_free(small);
	pea_free(NULL);
	return 0;
}
