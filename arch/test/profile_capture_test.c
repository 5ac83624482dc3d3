/* profile_capture_test.c — drives arch/profile_capture.h over a fake guest RAM for
 * packages/vmm/src/profile/capture.test.ts, built with AddressSanitizer so any read outside
 * the RAM the map function allows is a crash.
 *   frames: a guest with a descriptor, three JS frames (two bytecode functions and a C function)
 *           and a frame-pointer chain; writes the ring (header + data) to stdout.
 *   fuzz SEED N: N samples of random RAM (the descriptor's magic valid, everything else random),
 *           random RIP/RBP; prints the samples taken and dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../profile_capture.h"

#define BASE 0x100000ull
#define SIZE (256u << 10)
static uint8_t *ram;

static const void *map(void *ctx, uint64_t gpa, uint64_t len) {
    (void)ctx;
    if (gpa < BASE || len > SIZE || gpa - BASE > SIZE - len) return NULL;
    return ram + (gpa - BASE);
}

static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + (gpa - BASE), &v, 8); }
static void put16(uint64_t gpa, uint16_t v) { memcpy(ram + (gpa - BASE), &v, 2); }

static uint64_t state = 1;
static uint64_t rnd(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }

static struct kiln_profile_ring *new_ring(size_t size) {
    struct kiln_profile_ring *r = calloc(1, KILN_RING_HEADER + size);
    r->magic = KILN_RING_MAGIC, r->size = (uint32_t)size;
    return r;
}

static int frames(void) {
    const uint64_t desc = BASE + 0x100, head = BASE + 0x200;
    struct kiln_profile_desc d = { .magic = KILN_PROFILE_MAGIC, .version = KILN_PROFILE_VERSION, .frame_head = head,
        .bytecode_classes = 1ull << 13, .cfunction_class = 12, .tag_object = -1, .value_tag = 8,
        .sf_prev = 0, .sf_cur_func = 8, .obj_class_id = 6, .obj_bytecode = 48, .obj_cfunc = 56 };
    memcpy(ram + (desc - BASE), &d, sizeof d);
    /* stack: frames at 0x30000 (innermost) < 0x30100 < 0x30200; JS frames inside them */
    const uint64_t fp0 = BASE + 0x30000, fp1 = BASE + 0x30100, fp2 = BASE + 0x30200;
    put64(fp0, fp1), put64(fp0 + 8, 0x101234);
    put64(fp1, fp2), put64(fp1 + 8, 0x105678);
    put64(fp2, 0), put64(fp2 + 8, 0x109abc);
    const uint64_t sf[3] = { BASE + 0x2ff80, BASE + 0x30080, BASE + 0x30180 }; /* inner → outer */
    const uint64_t obj[3] = { BASE + 0x1000, BASE + 0x1100, BASE + 0x1200 };
    const uint16_t cls[3] = { 12, 13, 13 };
    put64(head, sf[0]);
    for (int i = 0; i < 3; i++) {
        put64(sf[i], i < 2 ? sf[i + 1] : 0);
        put64(sf[i] + 8, obj[i]), put64(sf[i] + 16, (uint64_t)-1);
        put16(obj[i] + 6, cls[i]);
        put64(obj[i] + 48, 0x20000 + i), put64(obj[i] + 56, 0x30000 + i);
    }
    struct kiln_profile_ring *r = new_ring(4096);
    struct kiln_capture_env e = { map, NULL, desc, 0x100000, 0x200000, r };
    if (!kiln_capture_sample(&e, 0x100abc, fp0, 42)) return 1;
    e.text_hi = 0x100000; /* a RIP outside the image: host time */
    if (!kiln_capture_sample(&e, 0x100abc, fp0, 43)) return 1;
    fwrite(r, 1, KILN_RING_HEADER + r->size, stdout);
    free(r);
    return 0;
}

static int fuzz(uint64_t seed, long n) {
    state = seed * 2654435761u + 1;
    struct kiln_profile_ring *r = new_ring(1 << 16);
    for (long i = 0; i < n; i++) {
        if (i % 64 == 0) {
            for (size_t j = 0; j < SIZE; j += 8) {
                uint64_t v = rnd();
                if (v % 4 == 0) v = BASE + v % SIZE; /* many words point into RAM */
                memcpy(ram + j, &v, 8);
            }
            struct kiln_profile_desc d;
            for (size_t j = 0; j < sizeof d; j++) ((uint8_t *)&d)[j] = (uint8_t)rnd();
            d.magic = KILN_PROFILE_MAGIC, d.version = KILN_PROFILE_VERSION, d.frame_head = BASE + rnd() % SIZE;
            if (rnd() % 2) { d.sf_prev %= 64; d.sf_cur_func %= 64; d.value_tag %= 16; d.obj_class_id %= 64; d.obj_bytecode %= 64; d.obj_cfunc %= 64; }
            memcpy(ram, &d, sizeof d);
        }
        uint64_t rbp = rnd() % 3 ? BASE + rnd() % SIZE : rnd();
        kiln_capture_sample(&(struct kiln_capture_env){ map, NULL, rnd() % 8 ? BASE : rnd(), BASE, BASE + SIZE, r }, rnd(), rbp, (uint64_t)i);
        if (rnd() % 4 == 0) r->tail = r->head; /* the consumer caught up */
    }
    printf("%llu %llu\n", (unsigned long long)r->taken, (unsigned long long)r->dropped);
    free(r);
    return 0;
}

int main(int argc, char **argv) {
    ram = calloc(1, SIZE);
    int rc = 2;
    if (argc >= 2 && !strcmp(argv[1], "frames")) rc = frames();
    else if (argc >= 4 && !strcmp(argv[1], "fuzz")) rc = fuzz(strtoull(argv[2], NULL, 0), strtol(argv[3], NULL, 0));
    else fprintf(stderr, "usage: profile_capture_test frames | fuzz SEED N\n");
    free(ram);
    return rc;
}
