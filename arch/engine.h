/* engine.h — the JavaScript side of the core, one section per file from the top down: kmain
 * (main.c) creates the engine, installs the native ops, runs the app and ends in loop_run.
 * ops.c calls loop.c and engine.c, loop.c calls engine.c, engine.c calls neither.
 * Everything here runs on the core's own QuickJS runtime. */
#pragma once
#include "quickjs.h"

/* ops.c: the native ops, installed as the global __kiln_ops */
void ops_install(JSContext *ctx);

/* loop.c: the event loop and the kernel's callbacks it calls (tick, irq) */
void loop_set_tick(JSContext *ctx, JSValueConst fn);
void loop_set_irq(JSContext *ctx, JSValueConst fn);
void NORETURN loop_run(JSContext *ctx);
bool loop_poll(JSContext *ctx, double deadline_ns); /* one turn of the exit paths' nested loop */

/* engine.c: the QuickJS runtime, the app's bytecode, promise jobs and fatal JS errors */
JSContext *engine_init(void);
void engine_run_app(JSContext *ctx);
void engine_set_exit_hook(JSContext *ctx, JSValueConst fn); /* the kernel's flush (and mapped stack) before engine_fail reports and exits */
void engine_drain_jobs(JSContext *ctx);
void NORETURN engine_fail(JSContext *ctx, const char *prefix, JSValueConst error);

/* quickjs_profile.c (inside quickjs.c): fills the profiler's descriptor `kiln_profile` (profile.h) */
void kiln_profile_publish(JSRuntime *rt);
