// Timers for the guest: setTimeout/setInterval/clearTimeout/clearInterval on a binary heap
// ordered by (deadline, insertion sequence), driven by the loop's tick (arch/loop.c).
// Time comes in as an argument (ns), so ordering is testable with an injected clock.
// Semantics: Node's (delay coerced to [1, 2^31-1] ms, intervals re-armed from the tick time).
// A timer added with ref = false is Node's unref'd timer: it fires if the program is still
// running, but does not keep it running (refCount counts the others; runtime.ts's tick decides).

import * as P from '../lib/primordials.ts';

const TIMEOUT_MAX = 2 ** 31 - 1;
const NS_PER_MS = 1e6;

interface Timer {
  id: number;
  deadlineNs: number;
  seq: number;
  callback: (...args: unknown[]) => void;
  args: unknown[];
  repeatMs: number | undefined;
  cancelled: boolean;
  ref: boolean;
}

function coerceDelay(ms: unknown): number {
  const after = P.NumberCtor(ms);
  return after >= 1 && after <= TIMEOUT_MAX ? after : 1;
}

export class Timers {
  private readonly heap: Timer[] = [];
  private readonly byId = new P.MapCtor<number, Timer>();
  private nextId = 1;
  private nextSeq = 0;
  /** Armed timers that keep the program alive. */
  refCount = 0;

  constructor(private readonly nowNs: () => number) {}

  /** Number of armed timers. */
  get size(): number {
    return P.MapPrototypeGetSize(this.byId as Map<unknown, unknown>);
  }

  add(callback: unknown, delayMs: unknown, args: unknown[], repeat: boolean, ref = true): number {
    if (typeof callback !== 'function') {
      throw new P.TypeErrorCtor(`The "callback" argument must be of type function. Received ${typeof callback}`);
    }
    const ms = coerceDelay(delayMs);
    const t: Timer = {
      id: this.nextId++, deadlineNs: this.nowNs() + ms * NS_PER_MS, seq: this.nextSeq++,
      callback: callback as (...a: unknown[]) => void, args, repeatMs: repeat ? ms : undefined, cancelled: false, ref,
    };
    if (ref) this.refCount++;
    P.MapPrototypeSet(this.byId, t.id, t);
    this.push(t);
    return t.id;
  }

  clear(id: unknown): void {
    if (typeof id !== 'number') return;
    const t = P.MapPrototypeGet(this.byId, id);
    if (t === undefined) return;
    t.cancelled = true; // removed lazily when it reaches the top of the heap
    P.MapPrototypeDelete(this.byId, id);
    if (t.ref) this.refCount--;
  }

  /** Deadline (ns) of the earliest armed timer, or -1. */
  nextDeadline(): number {
    this.dropCancelled();
    return this.heap.length === 0 ? -1 : this.heap[0]!.deadlineNs;
  }

  /**
   * Runs the earliest timer if it is due at `nowNs` (one per call, so the loop runs promise
   * jobs between timer callbacks as Node does). Returns whether a callback ran. Exceptions
   * from the callback propagate to the caller (the tick handler reports them).
   */
  runOne(nowNs: number): boolean {
    this.dropCancelled();
    const t = this.heap[0];
    if (t === undefined || t.deadlineNs > nowNs) return false;
    this.pop();
    if (t.repeatMs === undefined) {
      P.MapPrototypeDelete(this.byId, t.id);
      if (t.ref) this.refCount--;
    } else {
      // Re-arm before the callback so clearInterval inside it works, and a throw still leaves it armed.
      t.deadlineNs = nowNs + t.repeatMs * NS_PER_MS;
      t.seq = this.nextSeq++;
      this.push(t);
    }
    P.ReflectApply(t.callback, undefined, t.args);
    return true;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.deadlineNs < b.deadlineNs || (a.deadlineNs === b.deadlineNs && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    P.ArrayPrototypePush(h, t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      const tmp = h[i]!;
      h[i] = h[parent]!;
      h[parent] = tmp;
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = P.ArrayPrototypePop(h);
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        const tmp = h[i]!;
        h[i] = h[m]!;
        h[m] = tmp;
        i = m;
      }
    }
    return top;
  }
}
