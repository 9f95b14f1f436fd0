#include <stddef.h>

// The size of the allocator's arena (alloc.c).
#define PEA_ARENA_BYTES (4 << 20)

// pea_use_allocator makes SQLite allocate from pea's arena (alloc.c); only before SQLite's
// first use.
int pea_use_allocator(void);

// pea_arena_used is the number of arena bytes handed out so far (for tests).
size_t pea_arena_used(void);

// pea_alloc_check runs the allocator's own checks: 0, or the line of the first that failed.
int pea_alloc_check(void);
