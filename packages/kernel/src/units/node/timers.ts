// `node:timers` for guests: the prelude's timers (units/timers.ts behind the globals, Node's delay
// rules), read from globalThis when called, and setImmediate/clearImmediate as a zero-delay timer
// (the guest's loop has no check phase: an immediate runs after the promise jobs and due timers
// before it, as in Node, but not after pending I/O). Ids are numbers, not Timeout objects.
// Spec: Node.js timers (docs/ARCHITECTURE.md "The CLI", bundler conventions).

type Callback = (...args: unknown[]) => void;

export function setTimeout(callback: Callback, ms?: number, ...args: unknown[]): number {
  return globalThis.setTimeout(callback, ms, ...args);
}
export function setInterval(callback: Callback, ms?: number, ...args: unknown[]): number {
  return globalThis.setInterval(callback, ms, ...args);
}
export function clearTimeout(id: number | undefined): void {
  globalThis.clearTimeout(id);
}
export function clearInterval(id: number | undefined): void {
  globalThis.clearInterval(id);
}
export function setImmediate(callback: Callback, ...args: unknown[]): number {
  if (typeof callback !== 'function') throw new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`);
  return globalThis.setTimeout(callback, 0, ...args);
}
export function clearImmediate(id: number | undefined): void {
  globalThis.clearTimeout(id);
}

/** `node:timers/promises`: the same timers as promises (no AbortSignal option). */
export const promises = {
  setTimeout: <T>(ms?: number, value?: T): Promise<T | undefined> => new Promise((resolve) => setTimeout(() => resolve(value), ms)),
  setImmediate: <T>(value?: T): Promise<T | undefined> => new Promise((resolve) => setImmediate(() => resolve(value))),
};

export default { setTimeout, setInterval, clearTimeout, clearInterval, setImmediate, clearImmediate, promises };
