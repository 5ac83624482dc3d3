/* profile.h — what Kiln's sampling profiler reads of a running guest, and the ring its samples
 * travel in. Three parties share it: the guest core publishes `kiln_profile` (quickjs_profile.c
 * fills it once the engine exists: where QuickJS keeps its innermost stack frame, and the field
 * offsets a walker needs, so no one outside hard-codes QuickJS's layout); the samplers — the
 * process platform's tender (tender/sampler.c) and the KVM addon's vCPU thread — capture each
 * sample with profile_capture.h into a ring; the VMM (packages/vmm/src/profile/) drains the
 * ring, resolves JavaScript functions by reading guest RAM with the same offsets, and symbolises
 * native frames from the image's symbol table. packages/vmm/src/profile/layout.ts mirrors the
 * numbers here (a test compares the two). The guest writes nothing for the profiler per call or
 * per sample; what every guest pays is the frame pointers the walk needs (~3 %, bench/RESULTS.md).
 *
 * Everything here is guest input to a sampler: a guest that scribbles over `kiln_profile` or its
 * stack frames gets samples with fewer or odd frames, never a read outside guest RAM. */
#pragma once
#include <stdint.h>

#define KILN_PROFILE_MAGIC 0x31465250u /* "PRF1" */
#define KILN_PROFILE_VERSION 1
#define KILN_PROFILE_SYMBOL "kiln_profile"

/* The guest core's descriptor (one, in .data, found by its symbol). Offsets are bytes. */
struct kiln_profile_desc {
    uint32_t magic, version;
    uint64_t frame_head;  /* address of rt->current_stack_frame (0 until the engine runs) */
    uint64_t atom_array;  /* address of rt->atom_array (JSAtomStruct **) */
    uint64_t atom_size;   /* address of rt->atom_size (int) */
    uint64_t bytecode_classes; /* bit c set: class id c is a bytecode function */
    uint32_t cfunction_class;  /* JS_CLASS_C_FUNCTION */
    int32_t tag_object;        /* JS_TAG_OBJECT */
    uint32_t atom_tag_int;     /* JS_ATOM_TAG_INT: an atom with this bit is an integer */
    uint16_t value_tag;        /* JSValue: offset of the tag (the pointer is at 0) */
    uint16_t sf_prev, sf_cur_func; /* JSStackFrame */
    uint16_t obj_class_id, obj_bytecode, obj_cfunc; /* JSObject: class_id (u16), u.func.function_bytecode, u.cfunc.c_function */
    uint16_t b_func_name, b_debug_flags, b_filename, b_line_num; /* JSFunctionBytecode: func_name (u32 atom), the byte holding has_debug, debug.filename (atom), debug.line_num */
    uint16_t str_bits, str_data; /* JSString: the u32 holding len and is_wide_char; the characters */
    uint32_t str_len_mask, str_wide_mask;
    uint16_t b_pc2line_len, b_pc2line_buf; /* JSFunctionBytecode: debug.pc2line_len (int), debug.pc2line_buf */
    uint8_t has_debug_mask;      /* has_debug's bit in the byte at b_debug_flags */
    int8_t pc2line_base;         /* PC2LINE_BASE, PC2LINE_RANGE, PC2LINE_OP_FIRST: the line table's short ops */
    uint8_t pc2line_range, pc2line_op_first;
    uint16_t sf_cur_pc;          /* JSStackFrame.cur_pc: where a frame's call was made (0 in a core that predates it) */
    uint16_t b_byte_code_buf;    /* JSFunctionBytecode.byte_code_buf */
};

/* Sample records in a ring: a head, then `nnative` native frames (innermost first: frame 0 is
 * the interrupted RIP with RBP), then `njs` JavaScript frames (innermost first), then zeros up to
 * a multiple of 16 bytes (so a PAD head always fits before the ring's end). */
#define KILN_SAMPLE_MAX_NATIVE 64
#define KILN_SAMPLE_MAX_JS 64
#define KILN_SAMPLE_PAD 1u        /* flags: filler up to the ring's end; skip it */
#define KILN_SAMPLE_IN_HOST 2u    /* flags: the RIP was outside the guest image (the tender's code, a vDSO) */
#define KILN_SAMPLE_JS_CUT 4u     /* flags: the JS walk stopped at an unreadable frame or the limit */

struct kiln_sample_head {
    uint16_t size;     /* bytes of the record, head included */
    uint8_t nnative, njs;
    uint32_t flags;
    uint64_t time_ns;  /* CLOCK_MONOTONIC of the sampler */
};
struct kiln_native_frame { uint64_t pc, fp; }; /* a code address and the frame pointer of the function it is in */
#define KILN_JS_BYTECODE 1u /* ptr = JSFunctionBytecode */
#define KILN_JS_CFUNCTION 2u /* ptr = the C function */
#define KILN_JS_OTHER 3u    /* ptr = the function object (bound function, C function with data, ...) */
struct kiln_js_frame { uint64_t sf, ptr; uint32_t kind, reserved; }; /* sf: the JSStackFrame's address */

#define KILN_SAMPLE_SIZE(nnative, njs) ((sizeof(struct kiln_sample_head) + (nnative) * sizeof(struct kiln_native_frame) + (njs) * sizeof(struct kiln_js_frame) + 15) & ~(size_t)15)
#define KILN_SAMPLE_MAX_SIZE KILN_SAMPLE_SIZE(KILN_SAMPLE_MAX_NATIVE, KILN_SAMPLE_MAX_JS)

/* The ring: one producer (the sampler), one consumer (the VMM). head and tail count bytes since
 * the start; the record at tail % size is the oldest unread. A record never wraps: the producer
 * fills the rest of the data area with a PAD record first. A full ring drops the sample. */
#define KILN_RING_MAGIC 0x31474e52u /* "RNG1" */
#define KILN_RING_HEADER 64
struct kiln_profile_ring {
    uint32_t magic, size;   /* data bytes after the header, a multiple of 16 */
    uint64_t head;          /* producer: bytes written (release) */
    uint64_t tail;          /* consumer: bytes consumed (release) */
    uint64_t taken, dropped; /* producer: samples written, samples lost to a full ring */
    uint32_t paused;        /* consumer: nonzero, the producer takes no more samples */
    uint32_t reserved[5];
};
