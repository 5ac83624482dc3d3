/* profile_capture.h — takes one profiler sample of a stopped guest CPU and appends it to a ring
 * (profile.h): the native stack by a frame-pointer walk from RIP/RBP (the core and QuickJS are
 * built with frame pointers), and the JavaScript stack by QuickJS's own frame list, found through
 * the core's `kiln_profile` descriptor. The one implementation both samplers include: the
 * process platform's tender (in its SIGPROF handler, on the guest's own thread) and the KVM
 * addon's vCPU thread (between two KVM_RUNs). C and C++; no allocation, no locks, no TLS and no
 * libc beyond what the compiler may emit for byte loops (memset/memcpy, signal-safe in musl and
 * glibc), so it is safe in a signal handler.
 *
 * Every guest word is read through `env->map`, which answers a host pointer only for a range
 * inside guest RAM: a guest that scribbled over its frames or the descriptor yields a shorter
 * sample (KILN_SAMPLE_JS_CUT), never a read outside RAM. Walks are bounded by the frame limits;
 * native frames must move up the stack (a loop ends), JS frames are bounded by count only
 * (generator frames live on the heap). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "profile.h"

struct kiln_capture_env {
    /* A host pointer to guest-physical [gpa, gpa+len), or NULL when that is not all RAM. */
    const void *(*map)(void *ctx, uint64_t gpa, uint64_t len);
    void *ctx;
    uint64_t desc_addr;             /* guest address of kiln_profile, 0: no JavaScript frames */
    uint64_t text_lo, text_hi;      /* the image's executable range: a RIP outside is KILN_SAMPLE_IN_HOST */
    struct kiln_profile_ring *ring; /* host pointer to the ring header; data follows it */
};

static inline int kiln_cap_read(const struct kiln_capture_env *e, uint64_t gpa, void *out, unsigned len) {
    const uint8_t *p = (const uint8_t *)e->map(e->ctx, gpa, len);
    if (!p) return 0;
    uint8_t *o = (uint8_t *)out;
    for (unsigned i = 0; i < len; i++) o[i] = p[i]; /* byte copies: no alignment assumed */
    return 1;
}

static inline int kiln_cap_u64(const struct kiln_capture_env *e, uint64_t gpa, uint64_t *v) { return kiln_cap_read(e, gpa, v, 8); }

/* The JavaScript frames, innermost first; returns how many, and sets *cut if the walk stopped early. */
static inline unsigned kiln_cap_js(const struct kiln_capture_env *e, struct kiln_js_frame *out, unsigned max, int *cut) {
    struct kiln_profile_desc d;
    uint64_t sf = 0;
    if (!e->desc_addr || !kiln_cap_read(e, e->desc_addr, &d, sizeof d)) return 0;
    if (d.magic != KILN_PROFILE_MAGIC || d.version != KILN_PROFILE_VERSION || !d.frame_head) return 0;
    if (d.sf_prev > 256 || d.sf_cur_func > 256 || d.value_tag > 16 || d.obj_class_id > 256 ||
        d.obj_bytecode > 256 || d.obj_cfunc > 256) { *cut = 1; return 0; }
    if (!kiln_cap_u64(e, d.frame_head, &sf)) { *cut = 1; return 0; }
    unsigned n = 0;
    while (sf) {
        if (n == max) { *cut = 1; break; }
        uint64_t prev, func, tag;
        if (!kiln_cap_u64(e, sf + d.sf_prev, &prev) || !kiln_cap_u64(e, sf + d.sf_cur_func, &func) ||
            !kiln_cap_u64(e, sf + d.sf_cur_func + d.value_tag, &tag)) { *cut = 1; break; }
        struct kiln_js_frame *f = &out[n];
        f->sf = sf, f->ptr = func, f->kind = KILN_JS_OTHER, f->reserved = 0;
        uint16_t cls = 0xffff;
        if ((int32_t)tag == d.tag_object && kiln_cap_read(e, func + d.obj_class_id, &cls, 2)) {
            uint64_t p;
            if (cls < 64 && (d.bytecode_classes >> cls & 1) && kiln_cap_u64(e, func + d.obj_bytecode, &p)) {
                f->kind = KILN_JS_BYTECODE, f->ptr = p;
            } else if (cls == d.cfunction_class && kiln_cap_u64(e, func + d.obj_cfunc, &p)) {
                f->kind = KILN_JS_CFUNCTION, f->ptr = p;
            }
        }
        n++;
        sf = prev;
    }
    return n;
}

/* The native frames from (rip, rbp), innermost first. */
static inline unsigned kiln_cap_native(const struct kiln_capture_env *e, uint64_t rip, uint64_t rbp, struct kiln_native_frame *out, unsigned max) {
    unsigned n = 0;
    out[n].pc = rip, out[n].fp = rbp, n++;
    uint64_t fp = rbp;
    while (n < max && fp && !(fp & 7)) {
        uint64_t frame[2]; /* saved rbp, return address */
        if (!kiln_cap_read(e, fp, frame, sizeof frame) || !frame[1]) break;
        out[n].pc = frame[1], out[n].fp = frame[0], n++;
        if (frame[0] <= fp || frame[0] - fp > (1u << 20)) break; /* frames move up the stack, by less than 1 MiB */
        fp = frame[0];
    }
    return n;
}

/* Appends one sample to the ring (or counts it dropped). Returns 1 if it was written. */
static inline int kiln_capture_sample(const struct kiln_capture_env *e, uint64_t rip, uint64_t rbp, uint64_t time_ns) {
    struct kiln_profile_ring *r = e->ring;
    if (__atomic_load_n(&r->paused, __ATOMIC_RELAXED)) return 0;
    union { struct kiln_sample_head h; uint8_t bytes[KILN_SAMPLE_MAX_SIZE]; uint64_t align; } rec;
    struct kiln_native_frame *nf = (struct kiln_native_frame *)(rec.bytes + sizeof rec.h);
    unsigned nn = kiln_cap_native(e, rip, rbp, nf, KILN_SAMPLE_MAX_NATIVE);
    struct kiln_js_frame *jf = (struct kiln_js_frame *)(nf + nn);
    int cut = 0;
    unsigned nj = kiln_cap_js(e, jf, KILN_SAMPLE_MAX_JS, &cut);
    uint32_t size = (uint32_t)KILN_SAMPLE_SIZE(nn, nj);
    for (uint8_t *z = (uint8_t *)(jf + nj); z < rec.bytes + size; z++) *z = 0;
    rec.h.size = (uint16_t)size, rec.h.nnative = (uint8_t)nn, rec.h.njs = (uint8_t)nj, rec.h.time_ns = time_ns;
    rec.h.flags = (rip < e->text_lo || rip >= e->text_hi ? KILN_SAMPLE_IN_HOST : 0) | (cut ? KILN_SAMPLE_JS_CUT : 0);

    uint8_t *data = (uint8_t *)r + KILN_RING_HEADER;
    uint64_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint64_t pos = head % r->size, room_to_end = r->size - pos, need = size;
    if (room_to_end < size) need += room_to_end; /* a PAD record fills the rest first */
    if (r->size - (head - tail) < need) { r->dropped++; return 0; }
    if (room_to_end < size) {
        struct kiln_sample_head pad = { (uint16_t)room_to_end, 0, 0, KILN_SAMPLE_PAD, 0 };
        const uint8_t *s = (const uint8_t *)&pad;
        for (unsigned i = 0; i < sizeof pad; i++) data[pos + i] = s[i];
        head += room_to_end, pos = 0;
    }
    for (uint32_t i = 0; i < size; i++) data[pos + i] = rec.bytes[i];
    r->taken++;
    __atomic_store_n(&r->head, head + size, __ATOMIC_RELEASE);
    return 1;
}
