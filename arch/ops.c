/* ops.c — the native ops: the whole surface the TypeScript kernel sees (runtime.js style,
 * `op_<area>_<verb>`). Declared for TypeScript in packages/kernel/src/ops.ts, which must list
 * exactly these. Installed as the global `__kiln_ops`; the kernel prelude captures and deletes it. */
#include <math.h>
#include "kernel.h"
#include "engine.h"
#include "layout.h"
#include "x86.h"

#define DMA_MAX_ALIGN (2u << 20)

static JSValue op_console_write(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    size_t len;
    const char *s = JS_ToCStringLen(c, &len, argv[0]);
    if (!s) return JS_EXCEPTION;
    console_write(s, len);
    JS_FreeCString(c, s);
    return JS_UNDEFINED;
}

/* The bundle's `__name`, esbuild's keepNames helper (packages/cli/src/build.ts puts this op in
 * its place): Object.defineProperty(target, "name", { value, configurable: true }) without a
 * descriptor object or a JavaScript frame; returns target. Hono names ~20 arrows per request. */
static JSAtom name_atom;
static JSValue op_set_function_name(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    if (JS_DefineProperty(c, argv[0], name_atom, argv[1], JS_UNDEFINED, JS_UNDEFINED,
                          JS_PROP_HAS_VALUE | JS_PROP_HAS_CONFIGURABLE | JS_PROP_CONFIGURABLE | JS_PROP_THROW) < 0)
        return JS_EXCEPTION;
    return JS_DupValue(c, argv[0]);
}

/* kiln.fault=op (main.c): op_console_write's stand-in, page-faulting under the app's JavaScript. */
static JSValue op_console_write_faulting(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    fault_null_page();
    return JS_UNDEFINED;
}

static JSValue op_exit(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    int32_t code = 0;
    if (argc > 0 && JS_ToInt32(c, &code, argv[0])) return JS_EXCEPTION;
    machine_exit(code & 0xff);
}

static JSValue op_clock_monotonic_ns(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return JS_NewFloat64(c, (double)clock_ns());
}

static JSValue op_heap_size(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return JS_NewFloat64(c, (double)heap_size());
}

static JSValue op_loop_set_tick(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    if (!JS_IsFunction(c, argv[0])) return JS_ThrowTypeError(c, "op_loop_set_tick: expected a function");
    loop_set_tick(c, argv[0]);
    return JS_UNDEFINED;
}

static JSValue op_cmdline(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return JS_NewString(c, boot_cmdline());
}

static JSValue op_boot_mark(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    bootchart_mark("app");
    mmio_write(BOOT_TIMER_ADDR, 1, BOOT_TIMER_MAGIC);
    if (cmdline_has_param("kiln.bootchart")) bootchart_print();
    return JS_UNDEFINED;
}

/* Reads an integer argument in [0, 2^53); false (with a TypeError thrown) otherwise. */
static bool arg_u64(JSContext *c, JSValueConst v, const char *op, const char *what, uint64_t *out) {
    double d;
    if (JS_ToFloat64(c, &d, v)) return false;
    if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(uint64_t)d) {
        JS_ThrowTypeError(c, "%s: %s must be a non-negative integer", op, what);
        return false;
    }
    *out = (uint64_t)d;
    return true;
}

/* Validates an MMIO access: width 1, 2 or 4, naturally aligned, inside the MMIO gap. */
static bool mmio_args(JSContext *c, JSValueConst *argv, const char *op, uint64_t *addr, uint32_t *width) {
    uint64_t w;
    if (!arg_u64(c, argv[0], op, "addr", addr) || !arg_u64(c, argv[1], op, "width", &w)) return false;
    if (w != 1 && w != 2 && w != 4) { JS_ThrowTypeError(c, "%s: width must be 1, 2 or 4", op); return false; }
    if (*addr < MMIO_GAP_START || *addr + w > MMIO_GAP_END) {
        JS_ThrowTypeError(c, "%s: address 0x%lx is outside the MMIO range 0x%llX-0x%llX", op, *addr, MMIO_GAP_START, MMIO_GAP_END - 1);
        return false;
    }
    if (*addr & (w - 1)) { JS_ThrowTypeError(c, "%s: address 0x%lx is not %lu-byte aligned", op, *addr, w); return false; }
    *width = (uint32_t)w;
    return true;
}

static JSValue op_mmio_read(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    uint64_t addr;
    uint32_t width, v;
    if (!mmio_args(c, argv, "op_mmio_read", &addr, &width)) return JS_EXCEPTION;
    v = mmio_read(addr, width);
    return JS_NewUint32(c, v);
}

static JSValue op_mmio_write(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    uint64_t addr;
    uint32_t width, v;
    if (!mmio_args(c, argv, "op_mmio_write", &addr, &width)) return JS_EXCEPTION;
    if (JS_ToUint32(c, &v, argv[2])) return JS_EXCEPTION;
    mmio_write(addr, width, v);
    return JS_UNDEFINED;
}

static JSValue op_dma_alloc(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    uint64_t size, align;
    if (!arg_u64(c, argv[0], "op_dma_alloc", "size", &size) || !arg_u64(c, argv[1], "op_dma_alloc", "align", &align))
        return JS_EXCEPTION;
    if (size == 0 || size > heap_size()) return JS_ThrowRangeError(c, "op_dma_alloc: bad size %lu", size);
    if (align == 0 || (align & (align - 1)) || align > DMA_MAX_ALIGN)
        return JS_ThrowRangeError(c, "op_dma_alloc: align must be a power of two up to %u", DMA_MAX_ALIGN);
    uint64_t addr = dma_alloc(size, align);
    if (!addr) return JS_ThrowRangeError(c, "op_dma_alloc: out of memory (%lu bytes)", size);
    return JS_NewInt64(c, (int64_t)addr);
}

static JSValue op_dma_free(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    uint64_t addr;
    if (!arg_u64(c, argv[0], "op_dma_free", "addr", &addr)) return JS_EXCEPTION;
    if (!dma_free(addr)) return JS_ThrowTypeError(c, "op_dma_free: 0x%lx is not a live op_dma_alloc block", addr);
    return JS_UNDEFINED;
}

/* An ArrayBuffer over physical memory: no copy, no free function (the memory is not the
 * engine's). Only RAM — a view of MMIO would turn every JS access into an unchecked trap. */
static JSValue op_phys_view(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    uint64_t addr, size;
    if (!arg_u64(c, argv[0], "op_phys_view", "addr", &addr) || !arg_u64(c, argv[1], "op_phys_view", "size", &size))
        return JS_EXCEPTION;
    if (!phys_is_ram(addr, size))
        return JS_ThrowRangeError(c, "op_phys_view: [0x%lx, +0x%lx) is not in mapped RAM", addr, size);
    return JS_NewArrayBuffer(c, (uint8_t *)addr, size, NULL, NULL, 0);
}

static JSValue op_irq_subscribe(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    uint64_t irq;
    if (!arg_u64(c, argv[0], "op_irq_subscribe", "irq", &irq)) return JS_EXCEPTION;
    if (irq >= IRQ_PINS || !irq_subscribe((unsigned)irq))
        return JS_ThrowRangeError(c, "op_irq_subscribe: no IOAPIC pin %lu (pins 0-%d)", irq, (ioapic_pins() < IRQ_PINS ? ioapic_pins() : IRQ_PINS) - 1);
    return JS_UNDEFINED;
}

static JSValue op_loop_set_irq(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    if (!JS_IsFunction(c, argv[0])) return JS_ThrowTypeError(c, "op_loop_set_irq: expected a function");
    loop_set_irq(c, argv[0]);
    return JS_UNDEFINED;
}

static JSValue op_loop_set_exit_hook(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    if (!JS_IsFunction(c, argv[0])) return JS_ThrowTypeError(c, "op_loop_set_exit_hook: expected a function");
    engine_set_exit_hook(c, argv[0]); /* engine_fail runs it */
    return JS_UNDEFINED;
}

/* 32 random bits from RDRAND, or -1 when the CPU has no RDRAND or its DRNG keeps failing
 * (Intel's DRNG guide: retry up to 10 times). CPUID is read once (it traps, ~9 µs on PVM). */
static JSValue op_cpu_random(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    static int has_rdrand = -1;
    if (has_rdrand < 0) {
        uint32_t r[4];
        cpuid(1, 0, r);
        has_rdrand = (r[2] >> 30) & 1;
    }
    if (has_rdrand) {
        uint32_t v;
        for (int i = 0; i < 10; i++)
            if (rdrand32(&v)) return JS_NewUint32(c, v);
    }
    return JS_NewInt32(c, -1);
}

/* A full memory barrier. JS cannot order a store before a later load on its own (x86 may
 * satisfy the load first from its store buffer); virtqueue event-index checks need that order
 * (publish avail idx, then read avail_event; write used_event, then re-read used idx). */
static JSValue op_cpu_fence(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    __asm__ volatile("mfence" ::: "memory");
    return JS_UNDEFINED;
}

/* The payload section of `kind` as an ArrayBuffer over the loaded image: no copy, no free
 * function (the memory is the image's); undefined when the image has no such section. The
 * kernel only reads it (bootfs hands out copies). */
static JSValue op_payload_section(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    uint64_t kind;
    if (!arg_u64(c, argv[0], "op_payload_section", "kind", &kind)) return JS_EXCEPTION;
    size_t size;
    const void *p = kind <= UINT32_MAX ? payload_section((uint32_t)kind, &size) : NULL;
    if (!p) return JS_UNDEFINED;
    return JS_NewArrayBuffer(c, (uint8_t *)p, size, NULL, NULL, 0);
}

/* One turn of the nested loop of the exit paths (loop.c loop_poll): jobs, interrupts, or a
 * halt until one arrives or the deadline (monotonic ns) passes. */
static JSValue op_loop_poll(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    double deadline;
    if (JS_ToFloat64(c, &deadline, argv[0])) return JS_EXCEPTION;
    if (isnan(deadline)) return JS_ThrowTypeError(c, "op_loop_poll: the deadline is not a number");
    return JS_NewBool(c, loop_poll(c, deadline));
}

/* The Internet checksum's running sum (RFC 1071) over bytes[start, end) of a Uint8Array, added
 * to `sum`: TCP/IP checksums every segment twice, and in JS that is a per-byte loop costing
 * ~40 us per full frame on QuickJS. Returns the sum folded to 32 bits (the ones'-complement
 * result is unchanged by folding; wire/checksum.ts finishes it). */
static JSValue op_net_checksum(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    size_t off, len, elem;
    JSValue ab = JS_GetTypedArrayBuffer(c, argv[0], &off, &len, &elem);
    if (JS_IsException(ab)) return JS_EXCEPTION;
    size_t size;
    uint8_t *base = JS_GetArrayBuffer(c, &size, ab);
    JS_FreeValue(c, ab);
    if (!base || elem != 1) return JS_ThrowTypeError(c, "op_net_checksum: expected a Uint8Array");
    uint32_t start, end;
    double initial;
    if (JS_ToUint32(c, &start, argv[1]) || JS_ToUint32(c, &end, argv[2]) || JS_ToFloat64(c, &initial, argv[3])) return JS_EXCEPTION;
    if (start > end || end > len) return JS_ThrowRangeError(c, "op_net_checksum: [%u, %u) is outside the array (%lu bytes)", start, end, len);
    if (!(initial >= 0 && initial <= 9007199254740991.0)) return JS_ThrowRangeError(c, "op_net_checksum: bad initial sum");
    const uint8_t *p = base + off + start;
    size_t n = end - start;
    uint64_t sum = (uint64_t)initial;
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        /* Four big-endian 16-bit words: byte-swap each 32-bit half, add the halves' words. */
        uint32_t lo = __builtin_bswap32((uint32_t)w), hi = __builtin_bswap32((uint32_t)(w >> 32));
        sum += (lo >> 16) + (lo & 0xffff) + (hi >> 16) + (hi & 0xffff);
        p += 8;
        n -= 8;
    }
    while (n >= 2) {
        sum += ((uint32_t)p[0] << 8) | p[1];
        p += 2;
        n -= 2;
    }
    if (n) sum += (uint32_t)p[0] << 8;
    while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
    return JS_NewUint32(c, (uint32_t)sum);
}

static const JSCFunctionListEntry ops[] = {
    JS_CFUNC_DEF("op_console_write", 1, op_console_write),
    JS_CFUNC_DEF("op_exit", 1, op_exit),
    JS_CFUNC_DEF("op_clock_monotonic_ns", 0, op_clock_monotonic_ns),
    JS_CFUNC_DEF("op_loop_set_tick", 1, op_loop_set_tick),
    JS_CFUNC_DEF("op_cmdline", 0, op_cmdline),
    JS_CFUNC_DEF("op_boot_mark", 0, op_boot_mark),
    JS_CFUNC_DEF("op_mmio_read", 2, op_mmio_read),
    JS_CFUNC_DEF("op_mmio_write", 3, op_mmio_write),
    JS_CFUNC_DEF("op_dma_alloc", 2, op_dma_alloc),
    JS_CFUNC_DEF("op_dma_free", 1, op_dma_free),
    JS_CFUNC_DEF("op_phys_view", 2, op_phys_view),
    JS_CFUNC_DEF("op_irq_subscribe", 1, op_irq_subscribe),
    JS_CFUNC_DEF("op_loop_set_irq", 1, op_loop_set_irq),
    JS_CFUNC_DEF("op_cpu_random", 0, op_cpu_random),
    JS_CFUNC_DEF("op_cpu_fence", 0, op_cpu_fence),
    JS_CFUNC_DEF("op_loop_set_exit_hook", 1, op_loop_set_exit_hook),
    JS_CFUNC_DEF("op_payload_section", 1, op_payload_section),
    JS_CFUNC_DEF("op_loop_poll", 1, op_loop_poll),
    JS_CFUNC_DEF("op_net_checksum", 4, op_net_checksum),
    JS_CFUNC_DEF("op_heap_size", 0, op_heap_size),
    JS_CFUNC_DEF("op_set_function_name", 2, op_set_function_name),
};

void ops_install(JSContext *c) {
    name_atom = JS_NewAtom(c, "name");
    JSValue obj = JS_NewObject(c);
    JS_SetPropertyFunctionList(c, obj, ops, sizeof ops / sizeof ops[0]);
    if (kiln_fault_in_op) JS_SetPropertyStr(c, obj, "op_console_write", JS_NewCFunction(c, op_console_write_faulting, "op_console_write", 1));
    JSValue global = JS_GetGlobalObject(c);
    JS_SetPropertyStr(c, global, "__kiln_ops", obj);
    JS_FreeValue(c, global);
}
