/* engine.c — the QuickJS runtime on this core: create it, load the app's bytecode from the
 * payload and run it (kmain installs the native ops in between and then enters loop_run).
 * Uncaught exceptions and unhandled promise rejections print the error with its stack (in the
 * app's source lines when the kernel's exit hook maps it) and end the VM with code 1, as Node
 * does; QuickJS's "out of memory" adds the heap's size and use and ends it with
 * EXIT_OUT_OF_MEMORY (98). */
#include "kernel.h"
#include "engine.h"
#include <string.h>

#define MAX_REJECTIONS 64
#define STACK_MARGIN (64 * 1024)

static struct { JSValue promise, reason; } rejections[MAX_REJECTIONS];
static int nrejections;
static JSValue exit_hook_fn; /* valid when have_exit_hook */
static bool have_exit_hook;

/* Prints prefix + String(v), then v's stack: `mapped` when it is a string (the exit hook's, in
 * the app's source lines), else v.stack. */
static void print_value(JSContext *c, const char *prefix, JSValueConst v, JSValueConst mapped) {
    const char *s = JS_ToCString(c, v);
    kprintf("%s%s\n", prefix, s ? s : "[value that cannot be converted to a string]");
    if (s) JS_FreeCString(c, s);
    else JS_FreeValue(c, JS_GetException(c));
    if (JS_IsObject(v)) {
        JSValue stack = JS_IsString(mapped) ? JS_DupValue(c, mapped) : JS_GetPropertyStr(c, v, "stack");
        if (JS_IsString(stack)) {
            const char *st = JS_ToCString(c, stack);
            if (st && *st) kprintf("%s", st);
            if (st) JS_FreeCString(c, st);
        }
        JS_FreeValue(c, stack);
    }
}

/* QuickJS's JS_ThrowOutOfMemory: an InternalError whose message is "out of memory". */
static int is_out_of_memory(JSContext *c, JSValueConst error) {
    if (!JS_IsError(c, error)) return 0;
    JSValue m = JS_GetPropertyStr(c, error, "message");
    const char *s = JS_IsString(m) ? JS_ToCString(c, m) : NULL;
    int oom = s && strcmp(s, "out of memory") == 0;
    if (s) JS_FreeCString(c, s);
    JS_FreeValue(c, m);
    return oom;
}

void engine_set_exit_hook(JSContext *c, JSValueConst fn) {
    if (have_exit_hook) JS_FreeValue(c, exit_hook_fn);
    exit_hook_fn = JS_DupValue(c, fn);
    have_exit_hook = true;
}

/* Before the core itself ends the VM on a JS error: let the kernel flush output still
 * buffered for a console device, once, and give back the error's stack in the app's source
 * lines (a string; anything else prints error.stack); its own errors are dropped (the report
 * follows). */
static JSValue run_exit_hook(JSContext *c, JSValueConst error) {
    static bool ran;
    if (!have_exit_hook || ran) return JS_UNDEFINED;
    ran = true;
    JSValue r = JS_Call(c, exit_hook_fn, JS_UNDEFINED, 1, (JSValueConst *)&error);
    if (!JS_IsException(r)) return r;
    JS_FreeValue(c, JS_GetException(c));
    return JS_UNDEFINED;
}

void NORETURN engine_fail(JSContext *c, const char *prefix, JSValueConst error) {
    JSValue stack = run_exit_hook(c, error); /* virtio-console output logged before the error leaves first */
    print_value(c, prefix, error, stack);
    JS_FreeValue(c, stack);
    if (is_out_of_memory(c, error)) {
        kprintf("kiln: out of memory: the guest's JavaScript heap is full (%lu of %lu KiB in use); give it more with kiln run --mem\n",
                heap_used() / 1024, heap_size() / 1024);
        machine_exit(EXIT_OUT_OF_MEMORY);
    }
    machine_exit(EXIT_JS_ERROR);
}

static void on_rejection(JSContext *c, JSValueConst promise, JSValueConst reason, JS_BOOL is_handled, void *opaque) {
    (void)opaque;
    if (!is_handled) {
        if (nrejections < MAX_REJECTIONS) {
            rejections[nrejections].promise = JS_DupValue(c, promise);
            rejections[nrejections].reason = JS_DupValue(c, reason);
            nrejections++;
        } else {
            engine_fail(c, "Uncaught (in promise) ", reason);
        }
        return;
    }
    for (int i = 0; i < nrejections; i++) {
        if (JS_VALUE_GET_PTR(rejections[i].promise) == JS_VALUE_GET_PTR(promise)) {
            JS_FreeValue(c, rejections[i].promise);
            JS_FreeValue(c, rejections[i].reason);
            rejections[i] = rejections[--nrejections];
            return;
        }
    }
}

/* Run every pending promise job; then a rejection nobody handled is fatal. */
void engine_drain_jobs(JSContext *c) {
    JSContext *job_ctx;
    int r;
    while ((r = JS_ExecutePendingJob(JS_GetRuntime(c), &job_ctx)) != 0) {
        if (r < 0) {
            JSValue e = JS_GetException(job_ctx);
            engine_fail(job_ctx, "Uncaught ", e);
        }
    }
    if (nrejections > 0) engine_fail(c, "Uncaught (in promise) ", rejections[0].reason);
}

JSContext *engine_init(void) {
    JSRuntime *rt = JS_NewRuntime();
    if (!rt) { kprintf("kiln: cannot create the JS runtime (heap %lu KiB)\n", heap_size() / 1024); machine_exit(EXIT_NO_HEAP); }
    JS_SetMaxStackSize(rt, (size_t)(boot_stack_top - boot_stack) - STACK_MARGIN);
    JS_SetHostPromiseRejectionTracker(rt, on_rejection, NULL);
    kiln_profile_publish(rt);
    JSContext *ctx = JS_NewContext(rt);
    if (!ctx) { kprintf("kiln: cannot create the JS context (heap %lu KiB)\n", heap_size() / 1024); machine_exit(EXIT_NO_HEAP); }
    return ctx;
}

void engine_run_app(JSContext *ctx) {
    size_t size;
    const void *bytecode = payload_section(PAYLOAD_BYTECODE, &size);
    if (!bytecode) { kprintf("kiln: the image holds no app bytecode (build it with `kiln build`)\n"); machine_exit(EXIT_JS_ERROR); }
    JSValue fn = JS_ReadObject(ctx, bytecode, size, JS_READ_OBJ_BYTECODE);
    if (JS_IsException(fn)) engine_fail(ctx, "kiln: cannot load the app bytecode: ", JS_GetException(ctx));
    bootchart_mark("bytecode");
    JSValue result = JS_EvalFunction(ctx, fn);
    if (JS_IsException(result)) engine_fail(ctx, "Uncaught ", JS_GetException(ctx));
    JS_FreeValue(ctx, result);
}
