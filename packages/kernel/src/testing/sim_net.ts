// A deterministic network simulation for kiln:net tests in one Node process: a simulated clock
// whose timers stand in for the guest's, a seeded link between two devices (kiln:netdev's
// shape) that loses, duplicates, delays and reorders frames, and a loop that runs promise jobs,
// then the earliest simulated timer, until a condition holds. Everything random comes from
// one seed, so a failure replays exactly.

import type { FrameDevice, NetEnv } from '../net/driver.ts';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

export class SimClock {
  t = 0;
  private readonly timers = new Map<number, SimTimer>();
  private nextId = 1;
  private seq = 0;

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), seq: this.seq++, fn });
    return id;
  };

  clearTimeout = (h: unknown): void => {
    this.timers.delete(h as number);
  };

  get pending(): number {
    return this.timers.size;
  }

  /** Runs the earliest timer (advancing the clock to it); false when none is armed or it is after `limit`. */
  runNext(limit = Infinity): boolean {
    let first: SimTimer | undefined;
    for (const t of this.timers.values()) if (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq)) first = t;
    if (!first || first.at > limit) return false;
    this.timers.delete(first.id);
    this.t = Math.max(this.t, first.at);
    first.fn();
    return true;
  }

  /** A NetEnv on this clock; randomness from `seed`. */
  env(seed: number): NetEnv {
    const r = seededRandom(seed);
    return {
      now: this.now, setTimeout: this.setTimeout, clearTimeout: this.clearTimeout, queueMicrotask: (fn) => queueMicrotask(fn),
      random: (b) => {
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
      },
    };
  }
}

export interface LinkOptions {
  seed: number;
  /** Probability that a frame is lost. */
  loss?: number;
  /** Probability that a frame is delivered twice. */
  duplicate?: number;
  /** One-way delay (ms) and extra random delay up to `jitterMs` (frames overtake each other). */
  delayMs?: number;
  jitterMs?: number;
  mtu?: number;
}

/** Two devices joined by a simulated cable. */
export class SimLink {
  readonly a: FrameDevice;
  readonly b: FrameDevice;
  readonly stats = { frames: 0, lost: 0, duplicated: 0, delivered: 0 };
  private readonly rnd: () => number;

  constructor(private readonly clock: SimClock, private readonly o: LinkOptions) {
    this.rnd = seededRandom(o.seed ^ 0x5eed);
    const la: ((f: Uint8Array) => void)[] = [];
    const lb: ((f: Uint8Array) => void)[] = [];
    this.a = this.device(0x024b4c4e0a01, la, lb);
    this.b = this.device(0x024b4c4e0b02, lb, la);
  }

  private device(mac: number, mine: ((f: Uint8Array) => void)[], peer: ((f: Uint8Array) => void)[]): FrameDevice {
    const m = new Uint8Array(6);
    for (let i = 5, v = mac; i >= 0; i--, v = Math.floor(v / 256)) m[i] = v % 256;
    return {
      mac: m,
      mtu: this.o.mtu ?? 1500,
      send: (frame) => {
        const copy = frame.slice();
        this.stats.frames++;
        if (this.rnd() < (this.o.loss ?? 0)) {
          this.stats.lost++;
        } else {
          const copies = this.rnd() < (this.o.duplicate ?? 0) ? 2 : 1;
          if (copies === 2) this.stats.duplicated++;
          for (let i = 0; i < copies; i++) {
            const delay = (this.o.delayMs ?? 1) + this.rnd() * (this.o.jitterMs ?? 0);
            this.clock.setTimeout(() => {
              this.stats.delivered++;
              for (const l of peer.slice()) l(copy);
            }, delay);
          }
        }
        return true; // the cable never fills
      },
      onRoom: () => () => {},
      listen: (cb) => {
        mine.push(cb);
        return () => {
          const i = mine.indexOf(cb);
          if (i >= 0) mine.splice(i, 1);
        };
      },
    };
  }
}

// Node's setImmediate (this file is typed against the guest's globals): runs after every promise job queued before it
const nodeSetImmediate = (globalThis as unknown as { setImmediate(cb: () => void): void }).setImmediate;
const turn = (): Promise<void> => new Promise((r) => nodeSetImmediate(r));

/**
 * Runs promise jobs and simulated timers until `done()` holds. Throws when nothing is left to
 * run or simulated time passes `limitMs` first.
 */
export async function runUntil(clock: SimClock, done: () => boolean, limitMs = 600_000): Promise<void> {
  for (;;) {
    await turn();
    if (done()) return;
    if (!clock.runNext(limitMs)) {
      await turn();
      if (done()) return;
      throw new Error(`simulation stuck at t=${clock.t} ms (${clock.pending} timers, limit ${limitMs} ms)`);
    }
  }
}
