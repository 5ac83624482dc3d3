/* loop.c — the event loop of core 0: run promise jobs, let the kernel run due timers (its tick
 * returns the next deadline), and when nothing is ready arm the LAPIC timer and halt, so an idle
 * VM costs the host no CPU. Interrupts only set flags; all work happens here. The program ends
 * (code 0) when no jobs are pending and the kernel reports nothing left (-1), as in Node. */
#include <math.h>
#include "kernel.h"
#include "engine.h"

void NORETURN loop_run(JSContext *ctx) {
    JSRuntime *rt = JS_GetRuntime(ctx);
    for (;;) {
        engine_drain_jobs(ctx);
        double next = ops_tick(ctx, (double)clock_ns());
        if (JS_IsJobPending(rt)) continue;
        if (next < 0) machine_exit(0);
        double now = (double)clock_ns();
        if (next <= now) continue;
        irq_disable();
        timer_fired = 0;
        if (isfinite(next)) lapic_timer_arm((uint64_t)(next - now));
        cpu_safe_halt(); /* returns after an interrupt, with interrupts enabled */
    }
}
