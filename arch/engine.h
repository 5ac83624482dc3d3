/* engine.h — the interface between the engine host (engine.c), the native ops (ops.c) and the
 * event loop (loop.c). Everything here runs on the core's own QuickJS runtime. */
#pragma once
#include "quickjs.h"

void ops_install(JSContext *ctx);
void ops_exit_hook(JSContext *ctx); /* the kernel's flush before engine_fail reports and exits */
double ops_tick(JSContext *ctx, double now_ns); /* -1 when no tick handler is registered */
void ops_irq(JSContext *ctx, unsigned irq);     /* calls the kernel's irq handler, if any */
void engine_drain_jobs(JSContext *ctx);
void NORETURN engine_fail(JSContext *ctx, const char *prefix, JSValueConst error);
void NORETURN loop_run(JSContext *ctx);
bool loop_poll(JSContext *ctx, double deadline_ns); /* one turn of the exit paths' nested loop */
