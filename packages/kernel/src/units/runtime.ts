// The guest runtime behind the globals: console, timers, queueMicrotask, performance and the
// event loop's tick handler, built over an ops object (the real one, or a fake in tests).
// The tick contract with arch/loop.c: docs/ARCHITECTURE.md "Guest event loop".
// prelude.ts installs what this returns as globals before the app runs.

import type { KilnOps } from '../ops.ts';
import { createConsole, type KilnConsole } from './console.ts';
import { activeRefs } from '../lib/handles.ts';
import { EXIT_FLUSH_NS, getExitCode, startExitFlushes } from './lifecycle.ts';
import * as P from '../lib/primordials.ts';
import { Timers } from './timers.ts';

export interface KilnPerformance {
  now(): number;
  readonly timeOrigin: number;
}

export interface Runtime {
  console: KilnConsole;
  setTimeout(callback: unknown, ms?: unknown, ...args: unknown[]): number;
  setInterval(callback: unknown, ms?: unknown, ...args: unknown[]): number;
  clearTimeout(id: unknown): void;
  clearInterval(id: unknown): void;
  /** A timeout that does not keep the program alive (Node's timeout.unref()); cleared by clearTimeout. */
  setUnrefTimeout(callback: () => void, ms: number): number;
  queueMicrotask(callback: unknown): void;
  performance: KilnPerformance;
  /** The loop's tick handler (registered with op_loop_set_tick by the prelude). */
  tick(nowNs: number): number;
  timers: Timers;
}

/** Where console text goes (units/console_out.ts in the guest; the serial op by default). */
export interface ConsoleOut {
  write(text: string): void;
  /** End of a loop turn: send what this turn buffered. */
  endTurn(): void;
  /** Output still in flight: the loop must wait (for an interrupt) before ending. */
  busy(): boolean;
  /** Before op_exit: wait until every byte has left. */
  flushSync(): void;
}

/** `onUncaught` prints and ends the VM; it returns only in tests (where op_exit is a fake). */
export function createRuntime(ops: KilnOps, onUncaught: (err: unknown) => void, out?: ConsoleOut): Runtime {
  const cout: ConsoleOut = out ?? { write: (t) => ops.op_console_write(t), endTurn() {}, busy: () => false, flushSync() {} };
  const originNs = ops.op_clock_monotonic_ns();
  const timeOrigin = P.DateNow();
  const nowMs = (): number => (ops.op_clock_monotonic_ns() - originNs) / 1e6;
  const timers = new Timers(() => ops.op_clock_monotonic_ns());
  /** The exit flushes the drained loop waits for, and the timer that bounds the wait. */
  let exitFlush: { timer: number } | undefined;

  const tick = (nowNs: number): number => {
    let ran = false;
    try {
      ran = timers.runOne(nowNs);
    } catch (err) {
      onUncaught(err);
    }
    cout.endTurn(); // one device notification per loop turn for everything logged in it
    if (ran) {
      // Ask to be called again right away: promise jobs the callback queued run first,
      // then the next due timer (one callback per turn, as Node interleaves microtasks).
      return nowNs;
    }
    // Alive while a timer that keeps it alive is armed, a device request or listener is
    // outstanding (only an interrupt can make progress then: its completion resolves a promise),
    // or console output is still with the device (its completion interrupt wakes the core).
    // Unref'd timers fire meanwhile but do not keep the program alive on their own.
    const next = timers.nextDeadline();
    const alive = timers.refCount > 0 || activeRefs() > 0 || cout.busy();
    if (alive) return next !== -1 ? next : Infinity;
    // Before the program ends, cached filesystem writes go back (lifecycle.ts); a timer bounds
    // the wait and keeps the loop alive meanwhile. Then the loop drains again.
    if (!exitFlush) {
      const started = startExitFlushes();
      if (started) {
        const flush = {
          timer: timers.add(() => {
            cout.write(`kiln: the filesystems did not finish writing back within ${EXIT_FLUSH_NS / 1e9} s; ending anyway\n`);
            cout.flushSync();
            ops.op_exit(getExitCode() ?? 0);
          }, EXIT_FLUSH_NS / 1e6, [], false),
        };
        exitFlush = flush;
        void started.then(() => {
          timers.clear(flush.timer);
          exitFlush = undefined;
        });
        return nowNs;
      }
    }
    // Nothing pending: the core already drained promise jobs before this call, so the
    // program is done. A non-zero process.exitCode ends the VM here; 0 is the core's default.
    const code = getExitCode();
    if (code !== undefined && code !== 0) ops.op_exit(code);
    return -1;
  };

  return {
    console: createConsole((t) => cout.write(t), nowMs),
    setTimeout: (cb, ms, ...args) => timers.add(cb, ms, args, false),
    setInterval: (cb, ms, ...args) => timers.add(cb, ms, args, true),
    clearTimeout: (id) => timers.clear(id),
    clearInterval: (id) => timers.clear(id),
    setUnrefTimeout: (cb, ms) => timers.add(cb, ms, [], false, false),
    queueMicrotask(callback: unknown) {
      if (typeof callback !== 'function') {
        throw new P.TypeErrorCtor(`The "callback" argument must be of type function. Received ${typeof callback}`);
      }
      P.PromisePrototypeThen(P.PromiseResolve(), () => {
        try {
          P.ReflectApply(callback, undefined, []);
        } catch (err) {
          onUncaught(err);
        }
      });
    },
    performance: { now: nowMs, timeOrigin },
    tick,
    timers,
  };
}
