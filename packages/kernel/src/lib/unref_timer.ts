// A timeout that does not keep the program alive (Node's timeout.unref()), for layers below the
// runtime that need one (AbortSignal.timeout in web/abort.ts): the prelude plugs in the runtime's
// (units/runtime.ts setUnrefTimeout); until then, and in Node tests, it is the global setTimeout.

type Schedule = (callback: () => void, ms: number) => unknown;

let schedule: Schedule = (callback, ms) => (globalThis as unknown as { setTimeout: Schedule }).setTimeout(callback, ms);

export function setUnrefTimerSource(s: Schedule): void {
  schedule = s;
}

export function unrefTimeout(callback: () => void, ms: number): void {
  schedule(callback, ms);
}
