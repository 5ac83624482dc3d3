/* quickjs_profile.c — publishes the descriptor a sampler needs to walk this core's JavaScript
 * stack (profile.h). #included at the end of quickjs.c by fetch_quickjs.sh, like
 * quickjs_es2023.c, because the offsets are of QuickJS's private structures: they are computed
 * here by the compiler, so no other part of Kiln hard-codes QuickJS's layout. engine.c calls
 * kiln_profile_publish once the runtime exists. Bitfields have no offsetof: their byte and mask
 * are found by setting the field in a zeroed struct and looking for the byte that changed. */
#include "profile.h"

struct kiln_profile_desc kiln_profile __attribute__((used)) = { .magic = KILN_PROFILE_MAGIC, .version = KILN_PROFILE_VERSION };

/* The first byte of `set` that differs from zero (the struct was zeroed): its offset and bits. */
static void kiln_profile_locate(const void *set, size_t size, uint16_t *offset, uint32_t *mask, unsigned width) {
    const uint8_t *p = set;
    for (size_t i = 0; i < size; i++) {
        if (!p[i]) continue;
        size_t start = width == 4 ? i & ~(size_t)3 : i;
        uint32_t m = 0;
        memcpy(&m, p + start, width);
        *offset = (uint16_t)start;
        *mask = m;
        return;
    }
}

void kiln_profile_publish(JSRuntime *rt) {
    struct kiln_profile_desc *d = &kiln_profile;
    d->bytecode_classes = (1ull << JS_CLASS_BYTECODE_FUNCTION) | (1ull << JS_CLASS_GENERATOR_FUNCTION) |
                          (1ull << JS_CLASS_ASYNC_FUNCTION) | (1ull << JS_CLASS_ASYNC_GENERATOR_FUNCTION);
    d->cfunction_class = JS_CLASS_C_FUNCTION;
    d->tag_object = JS_TAG_OBJECT;
    d->atom_tag_int = JS_ATOM_TAG_INT;
    d->value_tag = offsetof(JSValue, tag);
    d->sf_prev = offsetof(JSStackFrame, prev_frame);
    d->sf_cur_func = offsetof(JSStackFrame, cur_func);
    d->sf_cur_pc = offsetof(JSStackFrame, cur_pc);
    d->b_byte_code_buf = offsetof(JSFunctionBytecode, byte_code_buf);
    d->obj_class_id = offsetof(JSObject, class_id);
    d->obj_bytecode = offsetof(JSObject, u.func.function_bytecode);
    d->obj_cfunc = offsetof(JSObject, u.cfunc.c_function);
    d->b_func_name = offsetof(JSFunctionBytecode, func_name);
    d->b_filename = offsetof(JSFunctionBytecode, debug.filename);
    d->b_line_num = offsetof(JSFunctionBytecode, debug.line_num);
    d->b_pc2line_len = offsetof(JSFunctionBytecode, debug.pc2line_len);
    d->b_pc2line_buf = offsetof(JSFunctionBytecode, debug.pc2line_buf);
    d->pc2line_base = PC2LINE_BASE;
    d->pc2line_range = PC2LINE_RANGE;
    d->pc2line_op_first = PC2LINE_OP_FIRST;
    JSFunctionBytecode b;
    memset(&b, 0, sizeof b);
    b.has_debug = 1;
    uint32_t mask = 0;
    kiln_profile_locate(&b, sizeof b, &d->b_debug_flags, &mask, 1);
    d->has_debug_mask = (uint8_t)mask;
    JSString s;
    memset(&s, 0, sizeof s);
    s.len = 0x7fffffff;
    kiln_profile_locate(&s, sizeof s, &d->str_bits, &d->str_len_mask, 4);
    memset(&s, 0, sizeof s);
    s.is_wide_char = 1;
    kiln_profile_locate(&s, sizeof s, &d->str_bits, &d->str_wide_mask, 4);
    d->str_data = offsetof(JSString, u);
    d->atom_array = (uint64_t)(uintptr_t)&rt->atom_array;
    d->atom_size = (uint64_t)(uintptr_t)&rt->atom_size;
    __atomic_store_n(&d->frame_head, (uint64_t)(uintptr_t)&rt->current_stack_frame, __ATOMIC_RELEASE);
}
