// Kernel prelude: the first module of every bundle (kiln build puts it before the app).
// Captures the native ops (importing ops.ts deletes the __kiln_ops global), installs the web
// globals (console, timers, queueMicrotask, performance) and registers the loop's tick handler.
// Spec: docs/ARCHITECTURE.md "Native ops" and "Guest event loop"; shared/DESIGN.md §4 "App API".

import { setUnrefTimerSource } from './lib/unref_timer.ts';
import { ops } from './ops.ts';
import { consoleBusy, consoleEndTurn, consoleFlushSync, consoleWrite } from './units/console_out.ts';
import { beforeCoreExit, reportUncaught } from './units/lifecycle.ts';
import { createRuntime } from './units/runtime.ts';

const rt = createRuntime(ops, reportUncaught, { write: consoleWrite, endTurn: consoleEndTurn, busy: consoleBusy, flushSync: consoleFlushSync });

const define = (name: string, value: unknown): void => {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
};
define('console', rt.console);
define('setTimeout', rt.setTimeout);
define('setInterval', rt.setInterval);
define('clearTimeout', rt.clearTimeout);
define('clearInterval', rt.clearInterval);
define('queueMicrotask', rt.queueMicrotask);
define('performance', rt.performance);

setUnrefTimerSource(rt.setUnrefTimeout);
ops.op_loop_set_tick(rt.tick);
ops.op_loop_set_exit_hook(beforeCoreExit);
