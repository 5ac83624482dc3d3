/* malloc_test.c — randomized test of the core's allocator (malloc.c), run on the host.
 * malloc.c is compiled with its entry points renamed (k_malloc, ...) and exercised with a
 * seeded random sequence of malloc/calloc/realloc/free over a fixed arena, checking that
 * blocks are 16-byte aligned, inside the arena, never overlap, keep their contents across
 * realloc, and that `used` returns to zero when everything is freed. Then directed checks of
 * the quick lists: a freed small block is the next one handed out for its size, and memory
 * parked on them is given back when a request could not be met otherwise.
 * usage: malloc_test SEED STEPS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void heap_init(uint64_t base, uint64_t size);
size_t heap_used(void);
void *k_malloc(size_t);
void k_free(void *);
void *k_realloc(void *, size_t);
void *k_calloc(size_t, size_t);
size_t k_malloc_usable_size(void *);

#define ARENA (8u << 20)
#define SLOTS 512
static struct { uint8_t *p; size_t n; uint8_t tag; } slot[SLOTS];
static uint8_t *arena;
static uint64_t rng;

static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static void fail(const char *what, int i) { fprintf(stderr, "FAIL: %s (slot %d)\n", what, i); exit(1); }

static void check(int i) {
    if (!slot[i].p) return;
    if ((uintptr_t)slot[i].p % 16) fail("misaligned", i);
    if (slot[i].p < arena || slot[i].p + slot[i].n > arena + ARENA) fail("outside the arena", i);
    if (k_malloc_usable_size(slot[i].p) < slot[i].n) fail("usable size too small", i);
    for (size_t k = 0; k < slot[i].n; k++)
        if (slot[i].p[k] != (uint8_t)(slot[i].tag + k)) fail("contents changed", i);
}

static void fill(int i) { for (size_t k = 0; k < slot[i].n; k++) slot[i].p[k] = (uint8_t)(slot[i].tag + k); }

static size_t random_size(void) {
    uint64_t r = next() % 100;
    if (r < 70) return next() % 256;
    if (r < 95) return next() % 8192;
    return next() % 262144;
}

int main(int argc, char **argv) {
    rng = argc > 1 ? strtoull(argv[1], 0, 10) * 2654435761u + 1 : 1;
    long steps = argc > 2 ? atol(argv[2]) : 200000;
    arena = aligned_alloc(4096, ARENA);
    heap_init((uint64_t)arena, ARENA);
    for (long s = 0; s < steps; s++) {
        int i = (int)(next() % SLOTS);
        uint64_t op = next() % 4;
        check(i);
        if (op == 0 && !slot[i].p) {
            size_t n = random_size();
            slot[i].p = k_malloc(n);
            if (slot[i].p) { slot[i].n = n; slot[i].tag = (uint8_t)next(); fill(i); }
        } else if (op == 1 && !slot[i].p) {
            size_t n = random_size();
            slot[i].p = k_calloc(1, n);
            if (slot[i].p) {
                for (size_t k = 0; k < n; k++) if (slot[i].p[k]) fail("calloc not zeroed", i);
                slot[i].n = n; slot[i].tag = (uint8_t)next(); fill(i);
            }
        } else if (op == 2 && slot[i].p) {
            size_t n = random_size();
            uint8_t *q = k_realloc(slot[i].p, n);
            if (q || n == 0) {
                size_t keep = n < slot[i].n ? n : slot[i].n;
                for (size_t k = 0; k < keep; k++) if (q[k] != (uint8_t)(slot[i].tag + k)) fail("realloc lost data", i);
                slot[i].p = q; slot[i].n = n; fill(i);
            }
        } else if (slot[i].p) {
            k_free(slot[i].p);
            slot[i].p = NULL;
        }
    }
    for (int i = 0; i < SLOTS; i++) { check(i); k_free(slot[i].p); slot[i].p = NULL; }
    if (heap_used() != 0) { fprintf(stderr, "FAIL: %zu bytes still counted as used\n", heap_used()); return 1; }
    void *big = k_malloc(ARENA - 4096); /* everything coalesced back into one free region */
    if (!big) { fprintf(stderr, "FAIL: heap fragmented after freeing everything\n"); return 1; }
    if (k_malloc((size_t)1 << 50)) { fprintf(stderr, "FAIL: absurd size allocated\n"); return 1; }
    k_free(big);

    /* Quick lists: LIFO reuse of one size. */
    void *a = k_malloc(100), *b = k_malloc(100);
    k_free(a);
    if (k_malloc(100) != a) { fprintf(stderr, "FAIL: a freed small block was not reused first\n"); return 1; }
    k_free(a);
    k_free(b);
    /* Fill the arena with small blocks, free them all (many wait on quick lists), then ask for
     * most of the arena: the quick lists must be flushed and coalesced to meet it. */
    static void *smalls[ARENA / 48];
    size_t count = 0;
    while (count < sizeof smalls / sizeof smalls[0] && (smalls[count] = k_malloc(40 + count % 3 * 16))) count++;
    if (count < ARENA / 128) { fprintf(stderr, "FAIL: only %zu small blocks fit\n", count); return 1; }
    for (size_t k = 0; k < count; k++) k_free(smalls[k]);
    if (heap_used() != 0) { fprintf(stderr, "FAIL: %zu bytes used after freeing the small blocks\n", heap_used()); return 1; }
    if (!(big = k_malloc(ARENA - 4096))) { fprintf(stderr, "FAIL: memory parked on quick lists was not given back\n"); return 1; }
    k_free(big);
    printf("ok seed=%s steps=%ld\n", argc > 1 ? argv[1] : "1", steps);
    return 0;
}
