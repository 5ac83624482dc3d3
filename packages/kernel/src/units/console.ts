// The guest's `console` global: log-family methods with Node's util.format semantics,
// written to the serial console through op_console_write (stdout and stderr share it).
// Spec: WHATWG Console Standard (method set), Node's console (formatting, trace/assert text).

import { format, inspect } from './inspect.ts';
import * as P from '../lib/primordials.ts';

export interface KilnConsole {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  assert(condition?: unknown, ...args: unknown[]): void;
  dir(value?: unknown, options?: { depth?: number }): void;
  time(label?: string): void;
  timeEnd(label?: string): void;
  timeLog(label?: string, ...data: unknown[]): void;
  count(label?: string): void;
  countReset(label?: string): void;
}

export function createConsole(write: (text: string) => void, nowMs: () => number): KilnConsole {
  const out = (...args: unknown[]): void => write(`${P.ReflectApply(format, undefined, args)}\n`);
  const timers = new P.MapCtor<string, number>();
  const counts = new P.MapCtor<string, number>();
  const elapsed = (label: string): string | undefined => {
    const start = P.MapPrototypeGet(timers, label);
    if (start === undefined) {
      write(`Warning: No such label '${label}' for console.timeEnd()\n`);
      return undefined;
    }
    return `${label}: ${(nowMs() - start).toFixed(3)}ms`;
  };
  return {
    log: out,
    info: out,
    debug: out,
    warn: out,
    error: out,
    trace(...args: unknown[]) {
      const stack = new P.ErrorCtor().stack ?? '';
      const frames = P.StringPrototypeSplit(stack, '\n');
      const lines: string[] = [];
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        if (P.StringPrototypeStartsWith(f, '    at') && !P.StringPrototypeIncludes(f, 'trace')) P.ArrayPrototypePush(lines, f);
      }
      const msg = P.ReflectApply(format, undefined, args);
      write(`Trace${msg === '' ? '' : `: ${msg}`}\n${P.ArrayPrototypeJoin(lines, '\n')}${lines.length > 0 ? '\n' : ''}`);
    },
    assert(condition?: unknown, ...args: unknown[]) {
      if (condition) return;
      if (args.length === 0) write('Assertion failed\n');
      else write(`Assertion failed: ${P.ReflectApply(format, undefined, args)}\n`);
    },
    dir(value?: unknown, options?: { depth?: number }) {
      write(`${inspect(value, { depth: options?.depth })}\n`);
    },
    time(label = 'default') {
      P.MapPrototypeSet(timers, label, nowMs());
    },
    timeEnd(label = 'default') {
      const line = elapsed(label);
      if (line !== undefined) write(`${line}\n`);
      P.MapPrototypeDelete(timers, label);
    },
    timeLog(label = 'default', ...data: unknown[]) {
      const line = elapsed(label);
      if (line !== undefined) write(`${line}${data.length > 0 ? ` ${P.ReflectApply(format, undefined, data)}` : ''}\n`);
    },
    count(label = 'default') {
      const n = (P.MapPrototypeGet(counts, label) ?? 0) + 1;
      P.MapPrototypeSet(counts, label, n);
      write(`${label}: ${n}\n`);
    },
    countReset(label = 'default') {
      P.MapPrototypeSet(counts, label, 0);
    },
  };
}
