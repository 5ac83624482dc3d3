// Types of the globals the prelude installs, for app and kernel code compiled with the kernel
// tsconfig (lib ES2020 has no DOM, and `types: []` keeps Node's out). Implementation:
// units/runtime.ts. Spec: WHATWG Console, HTML timers, High Resolution Time.

declare var console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  trace(...data: unknown[]): void;
  assert(condition?: unknown, ...data: unknown[]): void;
  dir(item?: unknown, options?: { depth?: number }): void;
  time(label?: string): void;
  timeEnd(label?: string): void;
  timeLog(label?: string, ...data: unknown[]): void;
  count(label?: string): void;
  countReset(label?: string): void;
};
declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): number;
declare function setInterval<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): number;
declare function clearTimeout(id: number | undefined): void;
declare function clearInterval(id: number | undefined): void;
declare function queueMicrotask(callback: () => void): void;
declare var performance: { now(): number; readonly timeOrigin: number };
declare var crypto: {
  /** Fills an integer typed array (≤ 65536 bytes) with cryptographically strong random values. */
  getRandomValues<T extends ArrayBufferView>(array: T): T;
};
