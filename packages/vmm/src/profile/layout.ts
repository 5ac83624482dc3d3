// The numbers of arch/profile.h — the profiler's descriptor in the guest core, the sample
// records and the ring they travel in — for the VMM's side: the ring reader (ring.ts) and the
// JavaScript function resolver (guest_functions.ts). layout.test.ts compiles the header and
// compares every offset and constant, so a change on one side fails there.

export const KILN_PROFILE_MAGIC = 0x31465250;
export const KILN_PROFILE_VERSION = 1;
/** The core's descriptor symbol (in the image's payload symbol table). */
export const KILN_PROFILE_SYMBOL = 'kiln_profile';

/** struct kiln_profile_desc: field → byte offset (and its size). */
export const DESC = {
  magic: 0, version: 4, frame_head: 8, atom_array: 16, atom_size: 24, bytecode_classes: 32,
  cfunction_class: 40, tag_object: 44, atom_tag_int: 48, value_tag: 52, sf_prev: 54, sf_cur_func: 56,
  obj_class_id: 58, obj_bytecode: 60, obj_cfunc: 62, b_func_name: 64, b_debug_flags: 66, b_filename: 68,
  b_line_num: 70, str_bits: 72, str_data: 74, str_len_mask: 76, str_wide_mask: 80, b_pc2line_len: 84,
  b_pc2line_buf: 86, has_debug_mask: 88, pc2line_base: 89, pc2line_range: 90, pc2line_op_first: 91,
  sf_cur_pc: 92, b_byte_code_buf: 94,
} as const;
export const DESC_SIZE = 96;

export const KILN_SAMPLE_MAX_NATIVE = 64;
export const KILN_SAMPLE_MAX_JS = 64;
export const KILN_SAMPLE_PAD = 1;
export const KILN_SAMPLE_IN_HOST = 2;
export const KILN_SAMPLE_JS_CUT = 4;
export const KILN_JS_BYTECODE = 1;
export const KILN_JS_CFUNCTION = 2;
export const KILN_JS_OTHER = 3;
/** struct kiln_sample_head, kiln_native_frame, kiln_js_frame. */
export const SAMPLE_HEAD_SIZE = 16;
export const NATIVE_FRAME_SIZE = 16;
export const JS_FRAME_SIZE = 24;
/** KILN_SAMPLE_SIZE: a record's bytes, rounded up to 16. */
export function sampleSize(nnative: number, njs: number): number {
  return Math.ceil((SAMPLE_HEAD_SIZE + nnative * NATIVE_FRAME_SIZE + njs * JS_FRAME_SIZE) / 16) * 16;
}

export const KILN_RING_MAGIC = 0x31474e52;
export const KILN_RING_HEADER = 64;
/** struct kiln_profile_ring: field → byte offset. */
export const RING = { magic: 0, size: 4, head: 8, tail: 16, taken: 24, dropped: 32, paused: 40 } as const;
