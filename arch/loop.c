/* loop.c — the event loop of core 0: run promise jobs, hand pending device interrupts to the
 * kernel's irq handler, let the kernel run due timers (its tick returns the next deadline),
 * and when nothing is ready wait for an interrupt or the next deadline (platform.c cpu_idle: the
 * LAPIC timer and a halt, or the tender's wait), so an idle VM costs the host no CPU.
 * Interrupts only set flags; all work happens here. The program ends (code 0) when no jobs are
 * pending and the kernel reports nothing left (-1), as in Node; a tick of Infinity means "only
 * an interrupt can make progress" (an outstanding device request or listener).
 * loop_poll is a nested turn for the exit paths: it lets an async flush (filesystems) finish
 * after process.exit or an uncaught error, without running timers. */
#include <math.h>
#include "kernel.h"
#include "engine.h"

static void deliver_irqs(JSContext *ctx) {
    uint32_t irqs = irq_take_pending();
    if (!irqs) return;
    while (irqs) {
        unsigned pin = (unsigned)__builtin_ctz(irqs);
        irqs &= irqs - 1;
        ops_irq(ctx, pin);
    }
    engine_drain_jobs(ctx); /* completions resolve promises: run them before the timers */
}

void NORETURN loop_run(JSContext *ctx) {
    JSRuntime *rt = JS_GetRuntime(ctx);
    for (;;) {
        engine_drain_jobs(ctx);
        deliver_irqs(ctx);
        double next = ops_tick(ctx, (double)clock_ns());
        if (JS_IsJobPending(rt)) continue;
        if (next < 0) machine_exit(0);
        double now = (double)clock_ns();
        if (next <= now) continue;
        if (!isfinite(next) && !irq_any_subscribed()) {
            kprintf("kiln: the program waits for a device interrupt, but no device interrupt is subscribed\n");
            machine_exit(EXIT_JS_ERROR);
        }
        irq_disable();
        /* An interrupt that arrived after deliver_irqs() would otherwise sleep until the next
         * one: with interrupts off, anything new stays pending in the (virtual) APIC and wakes
         * the safe halt below. */
        if (irq_any_pending()) { irq_enable(); continue; }
        cpu_idle(isfinite(next) ? (int64_t)(next - now) : -1); /* returns after an interrupt, with interrupts enabled */
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
    uint32_t irqs = irq_take_pending();
    while (irqs) {
        unsigned pin = (unsigned)__builtin_ctz(irqs);
        irqs &= irqs - 1;
        ops_irq(ctx, pin);
        worked = true;
    }
    double now = (double)clock_ns();
    if (worked || now >= deadline_ns) return now < deadline_ns;
    irq_disable();
    if (irq_any_pending()) { irq_enable(); return true; }
    cpu_idle((int64_t)(deadline_ns - now));
    return (double)clock_ns() < deadline_ns;
}
