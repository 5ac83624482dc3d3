/* ops.c — the native ops: the whole surface the TypeScript kernel sees (runtime.js style,
 * `op_<area>_<verb>`). Declared for TypeScript in packages/kernel/src/ops.ts, which must list
 * exactly these. Installed as the global `__kiln_ops`; the kernel prelude captures and deletes it. */
#include <math.h>
#include "kernel.h"
#include "engine.h"

#define BOOT_TIMER_MMIO 0xC0000000ul
#define BOOT_TIMER_MAGIC 123

static JSValue tick_fn; /* valid when have_tick */
static bool have_tick;

static JSValue op_console_write(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    size_t len;
    const char *s = JS_ToCStringLen(c, &len, argv[0]);
    if (!s) return JS_EXCEPTION;
    console_write(s, len);
    JS_FreeCString(c, s);
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

static JSValue op_loop_set_tick(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    if (!JS_IsFunction(c, argv[0])) return JS_ThrowTypeError(c, "op_loop_set_tick: expected a function");
    if (have_tick) JS_FreeValue(c, tick_fn);
    tick_fn = JS_DupValue(c, argv[0]);
    have_tick = true;
    return JS_UNDEFINED;
}

static JSValue op_cmdline(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return JS_NewString(c, boot_cmdline());
}

static JSValue op_boot_mark(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    bootchart_mark("app");
    *(volatile uint8_t *)BOOT_TIMER_MMIO = BOOT_TIMER_MAGIC;
    if (cmdline_has_param("kiln.bootchart")) bootchart_print();
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry ops[] = {
    JS_CFUNC_DEF("op_console_write", 1, op_console_write),
    JS_CFUNC_DEF("op_exit", 1, op_exit),
    JS_CFUNC_DEF("op_clock_monotonic_ns", 0, op_clock_monotonic_ns),
    JS_CFUNC_DEF("op_loop_set_tick", 1, op_loop_set_tick),
    JS_CFUNC_DEF("op_cmdline", 0, op_cmdline),
    JS_CFUNC_DEF("op_boot_mark", 0, op_boot_mark),
};

void ops_install(JSContext *c) {
    JSValue obj = JS_NewObject(c);
    JS_SetPropertyFunctionList(c, obj, ops, sizeof ops / sizeof ops[0]);
    JSValue global = JS_GetGlobalObject(c);
    JS_SetPropertyStr(c, global, "__kiln_ops", obj);
    JS_FreeValue(c, global);
}

double ops_tick(JSContext *c, double now_ns) {
    if (!have_tick) return -1;
    JSValue arg = JS_NewFloat64(c, now_ns);
    JSValue r = JS_Call(c, tick_fn, JS_UNDEFINED, 1, &arg);
    if (JS_IsException(r)) engine_fail(c, "Uncaught ", JS_GetException(c));
    double next;
    if (JS_ToFloat64(c, &next, r)) engine_fail(c, "Uncaught ", JS_GetException(c));
    JS_FreeValue(c, r);
    return isnan(next) ? -1 : next;
}
