/* malloc.c — the core's heap: malloc/free/realloc/calloc/malloc_usable_size over one region.
 * Boundary tags with immediate coalescing and segregated free lists (64 exact 16-byte bins up
 * to 1 KiB, then one bin per power of two), a bitmap of non-empty bins, and a "top" chunk
 * carved for new space. One heap per core and no locks: each core owns its runtime (Toro).
 * Chunk: { prev_size (valid when the previous chunk is free), size | flags }, payload 16-aligned.
 *
 * In front of it, quick lists (glibc's tcache): a freed chunk of up to QUICK_MAX bytes goes,
 * still marked in use, onto a LIFO list of its exact size, and malloc takes it back from there
 * first. The interpreter frees and allocates the same few small sizes all the time (objects,
 * shapes, closures, promises); this skips the coalescing, which touches both neighbours, and
 * hands back the most recently freed (so cache-warm) block. At most QUICK_CAP chunks wait per
 * size, and when the heap cannot satisfy a request otherwise every quick list is freed for real
 * (coalescing) and the request retried, so no memory is ever lost to them. */
#include <stdint.h>
#include <string.h>
#include "kernel.h"

#define ALIGN 16
#define HDR 16
#define MIN_CHUNK 32
#define INUSE 1ul
#define PREV_INUSE 2ul
#define FLAGS 3ul
#define NBINS 128
#define EXACT_BINS 64 /* sizes 32..1040 step 16 */

#define QUICK_MAX 512 /* chunk sizes (header included) kept on quick lists */
#define QUICK_CAP 128 /* chunks per quick list */

struct chunk { size_t prev_size, size; struct chunk *next, *prev; /* next/prev only when free */ };

static struct chunk *bins[NBINS];
static uint64_t binmap[NBINS / 64];
static struct chunk *top;
static uintptr_t heap_end;
static size_t total, used;
/* Quick list heads by chunk size / ALIGN, linked through each chunk's `next`. */
static struct chunk *quick[QUICK_MAX / ALIGN + 1];
static unsigned quick_count[QUICK_MAX / ALIGN + 1];

static inline size_t csize(const struct chunk *c) { return c->size & ~FLAGS; }
static inline struct chunk *next_chunk(struct chunk *c) { return (struct chunk *)((char *)c + csize(c)); }
static inline void *mem_of(struct chunk *c) { return (char *)c + HDR; }
static inline struct chunk *chunk_of(void *p) { return (struct chunk *)((char *)p - HDR); }

static unsigned bin_index(size_t size) {
    if (size < MIN_CHUNK + EXACT_BINS * ALIGN) return (unsigned)((size - MIN_CHUNK) / ALIGN);
    unsigned log = 63 - (unsigned)__builtin_clzl(size); /* >= 10 */
    unsigned i = EXACT_BINS + (log - 10);
    return i < NBINS ? i : NBINS - 1;
}

static void bin_insert(struct chunk *c) {
    unsigned i = bin_index(csize(c));
    c->prev = NULL;
    c->next = bins[i];
    if (bins[i]) bins[i]->prev = c;
    bins[i] = c;
    binmap[i / 64] |= 1ull << (i % 64);
}

static void bin_remove(struct chunk *c) {
    unsigned i = bin_index(csize(c));
    if (c->prev) c->prev->next = c->next;
    else bins[i] = c->next;
    if (c->next) c->next->prev = c->prev;
    if (!bins[i]) binmap[i / 64] &= ~(1ull << (i % 64));
}

void heap_init(uint64_t base, uint64_t size) {
    uintptr_t start = (base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    heap_end = (base + size) & ~(uintptr_t)(ALIGN - 1);
    top = (struct chunk *)start;
    top->prev_size = 0;
    top->size = (heap_end - start) | PREV_INUSE;
    total = heap_end - start;
}

size_t heap_size(void) { return total; }
size_t heap_used(void) { return used; }

static size_t request_size(size_t n) {
    if (n > ((size_t)1 << 40)) return 0;
    size_t s = (n + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    return s < MIN_CHUNK ? MIN_CHUNK : s;
}

/* Mark c (unlinked, at least `size` bytes) in use, splitting off any usable rest.
 * The top chunk is always split: malloc() checks that it keeps at least MIN_CHUNK. */
static void *take(struct chunk *c, size_t size) {
    size_t have = csize(c);
    if (c == top || have - size >= MIN_CHUNK) {
        struct chunk *rest = (struct chunk *)((char *)c + size);
        rest->size = (have - size) | PREV_INUSE;
        c->size = size | (c->size & PREV_INUSE) | INUSE;
        if (c == top) {
            top = rest;
        } else {
            next_chunk(rest)->prev_size = have - size;
            bin_insert(rest);
        }
    } else {
        c->size |= INUSE;
        next_chunk(c)->size |= PREV_INUSE;
    }
    used += csize(c);
    return mem_of(c);
}

static void release(struct chunk *c);

/* Frees every chunk waiting on a quick list, so that they coalesce. */
static void flush_quick(void) {
    for (unsigned q = 0; q <= QUICK_MAX / ALIGN; q++) {
        while (quick[q]) {
            struct chunk *c = quick[q];
            quick[q] = c->next;
            used += csize(c); /* release() takes it off again */
            release(c);
        }
        quick_count[q] = 0;
    }
}

/* A chunk of at least `size` bytes from the bins or the top; NULL when there is none. */
static void *allocate(size_t size) {
    unsigned i = bin_index(size);
    if (i < EXACT_BINS && bins[i]) { struct chunk *c = bins[i]; bin_remove(c); return take(c, size); }
    for (unsigned w = i / 64; w < NBINS / 64; w++) {
        uint64_t m = binmap[w] & (w == i / 64 ? ~0ull << (i % 64) : ~0ull);
        while (m) {
            unsigned b = w * 64 + (unsigned)__builtin_ctzll(m);
            for (struct chunk *c = bins[b]; c; c = c->next)
                if (csize(c) >= size) { bin_remove(c); return take(c, size); }
            m &= m - 1;
        }
    }
    if ((uintptr_t)top + size + MIN_CHUNK > heap_end) return NULL;
    return take(top, size);
}

void *malloc(size_t n) {
    size_t size = request_size(n);
    if (!size) return NULL;
    if (size <= QUICK_MAX) {
        struct chunk **head = &quick[size / ALIGN];
        struct chunk *c = *head;
        if (c) {
            *head = c->next;
            quick_count[size / ALIGN]--;
            used += size;
            return mem_of(c);
        }
    }
    void *p = allocate(size);
    if (!p) {
        flush_quick();
        p = allocate(size);
    }
    return p;
}

void free(void *p) {
    if (!p) return;
    struct chunk *c = chunk_of(p);
    size_t size = csize(c);
    if (size <= QUICK_MAX && quick_count[size / ALIGN] < QUICK_CAP) {
        c->next = quick[size / ALIGN];
        quick[size / ALIGN] = c;
        quick_count[size / ALIGN]++;
        used -= size;
        return;
    }
    release(c);
}

/* Frees chunk c for real: coalesced with free neighbours, then binned or folded into top. */
static void release(struct chunk *c) {
    size_t size = csize(c);
    used -= size;
    c->size &= ~INUSE;
    if (!(c->size & PREV_INUSE)) { /* merge with the free chunk before */
        struct chunk *prev = (struct chunk *)((char *)c - c->prev_size);
        bin_remove(prev);
        prev->size = (prev->size & FLAGS) | (csize(prev) + size);
        c = prev;
        size = csize(c);
    }
    struct chunk *next = next_chunk(c);
    if (next == top) { /* fold into top */
        c->size = (c->size & PREV_INUSE) | (size + csize(top));
        top = c;
        return;
    }
    if (!(next->size & INUSE)) {
        bin_remove(next);
        size += csize(next);
        c->size = (c->size & FLAGS) | size;
        next = next_chunk(c);
    }
    next->prev_size = size;
    next->size &= ~PREV_INUSE;
    bin_insert(c);
}

void *realloc(void *p, size_t n) {
    if (!p) return malloc(n);
    if (n == 0) { free(p); return NULL; }
    size_t size = request_size(n);
    if (!size) return NULL;
    struct chunk *c = chunk_of(p);
    size_t have = csize(c);
    if (have >= size) { /* shrink in place, returning the tail when worth it */
        if (have - size >= MIN_CHUNK) {
            struct chunk *rest = (struct chunk *)((char *)c + size);
            c->size = size | (c->size & PREV_INUSE) | INUSE;
            rest->size = (have - size) | PREV_INUSE | INUSE;
            release(rest); /* moves rest's bytes out of `used` */
        }
        return p;
    }
    struct chunk *next = next_chunk(c);
    size_t grow = size - have;
    if (next == top && csize(top) >= grow + MIN_CHUNK) { /* extend into top */
        size_t top_size = csize(top);
        top = (struct chunk *)((char *)c + size);
        top->size = (top_size - grow) | PREV_INUSE;
        c->size = size | (c->size & PREV_INUSE) | INUSE;
        used += grow;
        return p;
    }
    if (next != top && !(next->size & INUSE) && have + csize(next) >= size) { /* absorb the free next */
        bin_remove(next);
        size_t merged = have + csize(next);
        c->size = merged | (c->size & PREV_INUSE) | INUSE;
        next_chunk(c)->size |= PREV_INUSE;
        used += merged - have;
        if (merged - size >= MIN_CHUNK) {
            struct chunk *rest = (struct chunk *)((char *)c + size);
            c->size = size | (c->size & PREV_INUSE) | INUSE;
            rest->size = (merged - size) | PREV_INUSE | INUSE;
            release(rest);
        }
        return p;
    }
    void *q = malloc(n);
    if (!q) return NULL;
    memcpy(q, p, have - HDR);
    free(p);
    return q;
}

void *calloc(size_t a, size_t b) {
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) return NULL;
    void *p = malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

size_t malloc_usable_size(void *p) { return p ? csize(chunk_of(p)) - HDR : 0; }
