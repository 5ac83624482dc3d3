/* loop.c — the event loop of core 0, where kmain ends: run promise jobs, hand pending device
 * interrupts to the kernel's irq handler, let the kernel run due timers (its tick returns the
 * next deadline), and when nothing is ready wait for an interrupt or the next deadline
 * (platform.c cpu_idle: the LAPIC timer and a halt, or the tender's wait), so an idle VM costs
 * the host no CPU. The two callbacks are the kernel's (op_loop_set_tick, op_loop_set_irq).
 * Interrupts only set flags; all work happens here. The program ends (code 0) when no jobs are
 * pending and the kernel reports nothing left (-1), as in Node; a tick of Infinity means "only
 * an interrupt can make progress" (an outstanding device request or listener).
 * loop_poll is a nested turn for the exit paths: it lets an async flush (filesystems) finish
 * after process.exit or an uncaught error, without running timers. */
#include <math.h>
#include "kernel.h"
#include "engine.h"

static JSValue tick_fn; /* valid when have_tick */
static bool have_tick;
static JSValue irq_fn; /* valid when have_irq */
static bool have_irq;

void loop_set_tick(JSContext *ctx, JSValueConst fn) {
    if (have_tick) JS_FreeValue(ctx, tick_fn);
    tick_fn = JS_DupValue(ctx, fn);
    have_tick = true;
}

void loop_set_irq(JSContext *ctx, JSValueConst fn) {
    if (have_irq) JS_FreeValue(ctx, irq_fn);
    irq_fn = JS_DupValue(ctx, fn);
    have_irq = true;
}

/* The kernel's tick: runs due timers, returns the next deadline (monotonic ns); -1 when no
 * tick handler is registered or it returns NaN. */
static double call_tick(JSContext *ctx, double now_ns) {
    if (!have_tick) return -1;
    JSValue arg = JS_NewFloat64(ctx, now_ns);
    JSValue r = JS_Call(ctx, tick_fn, JS_UNDEFINED, 1, &arg);
    if (JS_IsException(r)) engine_fail(ctx, "Uncaught ", JS_GetException(ctx));
    double next;
    if (JS_ToFloat64(ctx, &next, r)) engine_fail(ctx, "Uncaught ", JS_GetException(ctx));
    JS_FreeValue(ctx, r);
    return isnan(next) ? -1 : next;
}

/* Hands each pending device interrupt to the kernel's irq handler (if any); false when none was pending. */
static bool dispatch_irqs(JSContext *ctx) {
    uint32_t irqs = irq_take_pending();
    if (!irqs) return false;
    while (irqs) {
        unsigned pin = (unsigned)__builtin_ctz(irqs);
        irqs &= irqs - 1;
        if (!have_irq) continue;
        JSValue arg = JS_NewInt32(ctx, (int32_t)pin);
        JSValue r = JS_Call(ctx, irq_fn, JS_UNDEFINED, 1, &arg);
        if (JS_IsException(r)) engine_fail(ctx, "Uncaught ", JS_GetException(ctx));
        JS_FreeValue(ctx, r);
    }
    return true;
}

/* Waits for an interrupt or `timeout_ns` (<0: none). An interrupt that arrived after the last
 * dispatch_irqs() would otherwise sleep until the next one: with interrupts off, anything new
 * stays pending in the (virtual) APIC and wakes the safe halt. True when one was already
 * pending (no wait). */
static bool idle(int64_t timeout_ns) {
    irq_disable();
    if (irq_any_pending()) { irq_enable(); return true; }
    cpu_idle(timeout_ns); /* returns after an interrupt, with interrupts enabled */
    return false;
}

void NORETURN loop_run(JSContext *ctx) {
    JSRuntime *rt = JS_GetRuntime(ctx);
    for (;;) {
        engine_drain_jobs(ctx);
        if (dispatch_irqs(ctx)) engine_drain_jobs(ctx); /* completions resolve promises: run them before the timers */
        double next = call_tick(ctx, (double)clock_ns());
        if (JS_IsJobPending(rt)) continue;
        if (next < 0) machine_exit(0);
        double now = (double)clock_ns();
        if (next <= now) continue;
        if (!isfinite(next) && !irq_any_subscribed()) {
            kprintf("kiln: the program waits for a device interrupt, but no device interrupt is subscribed\n");
            machine_exit(EXIT_JS_ERROR);
        }
        idle(isfinite(next) ? (int64_t)(next - now) : -1);
    }
}

/* One turn of the nested loop the kernel runs while it ends the program (op_loop_poll): run the
 * pending promise jobs (a job's exception is dropped: the program is ending anyway) and deliver
 * pending interrupts; when there was nothing to do, halt until an interrupt or the deadline
 * (monotonic ns). Timers do not run. False once the deadline has passed. */
bool loop_poll(JSContext *ctx, double deadline_ns) {
    JSRuntime *rt = JS_GetRuntime(ctx);
    JSContext *job_ctx;
    bool worked = false;
    int r;
    while ((r = JS_ExecutePendingJob(rt, &job_ctx)) != 0) {
        if (r < 0) JS_FreeValue(job_ctx, JS_GetException(job_ctx));
        worked = true;
    }
    if (dispatch_irqs(ctx)) worked = true;
    double now = (double)clock_ns();
    if (worked || now >= deadline_ns) return now < deadline_ns;
    if (idle((int64_t)(deadline_ns - now))) return true;
    return (double)clock_ns() < deadline_ns;
}
