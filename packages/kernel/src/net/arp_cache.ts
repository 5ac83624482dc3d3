// The ARP cache (RFC 826, with RFC 1122 §2.3.2.1's flood limit and §2.3.2.2's queue): IPv4 →
// MAC for on-link next hops. Sans-IO: time comes in as `now` and requests go out through the
// owner's callback. Policy:
// - An entry is fresh for ENTRY_LIFETIME_MS after it was learned. A stale entry keeps being
//   used while one unicast request re-validates it (Linux's STALE/PROBE states, so a busy
//   connection does not stall every minute); without an answer after REQUEST_TRIES it is gone.
// - A miss queues the packet (at most QUEUE_PER_ADDR per address, the oldest dropped first)
//   and broadcasts a request, repeated every REQUEST_INTERVAL_MS up to REQUEST_TRIES times;
//   then the queue is dropped and the address is not asked for again for FAILED_HOLD_MS.
// - At most MAX_ENTRIES entries: learning a new one evicts the oldest.

import type { MacAddr } from '@kiln/common/wire/ethernet.ts';
import type { Ipv4Addr } from './types.ts';

export const ENTRY_LIFETIME_MS = 60_000;
export const REQUEST_INTERVAL_MS = 1000;
export const REQUEST_TRIES = 3;
export const QUEUE_PER_ADDR = 16;
export const FAILED_HOLD_MS = 1000;
export const MAX_ENTRIES = 256;

interface Entry {
  /** undefined while resolving (or after a failure). */
  mac: MacAddr | undefined;
  /** Fresh until this time (resolved entries). */
  freshUntil: number;
  /** Requests sent in the current resolution or re-validation (0: none running). */
  tries: number;
  /** While active: when the next request (or giving up) is due; for a failed entry, when it may be asked for again. */
  dueAt: number;
  failed: boolean;
  queue: Uint8Array[];
}

export interface ArpCacheEvents {
  /** Send a request for `ip`: broadcast (mac undefined) or unicast to a stale entry's MAC. */
  request(ip: Ipv4Addr, mac: MacAddr | undefined): void;
  /** A queued packet can go now. */
  deliver(packet: Uint8Array, mac: MacAddr): void;
  /** A queued packet was dropped (queue full, or resolution failed). */
  dropped(packet: Uint8Array, reason: 'queue-full' | 'unresolved'): void;
}

export class ArpCache {
  private readonly entries = new Map<Ipv4Addr, Entry>();
  /** Entries with a request cycle running or a failure hold (what poll and nextDeadline look at). */
  private readonly active = new Set<Ipv4Addr>();

  constructor(private readonly events: ArpCacheEvents) {}

  get size(): number {
    return this.entries.size;
  }

  /** The MAC to use for `ip`, fresh or stale (a stale hit schedules re-validation at `now`: see nextDeadline), or undefined. */
  lookup(ip: Ipv4Addr, now: number): MacAddr | undefined {
    const e = this.entries.get(ip);
    if (!e || e.mac === undefined) return undefined;
    if (now >= e.freshUntil && !this.active.has(ip)) {
      // re-validate from the next poll: the caller may be in the middle of building a frame
      e.tries = 0;
      e.dueAt = now;
      this.active.add(ip);
    }
    return e.mac;
  }

  /** A lookup missed: queue `packet` (owned by the cache from now on) and resolve `ip`. */
  enqueue(ip: Ipv4Addr, packet: Uint8Array, now: number): void {
    let e = this.entries.get(ip);
    if (e && e.failed && now < e.dueAt) {
      this.events.dropped(packet, 'unresolved');
      return;
    }
    if (!e || e.failed) {
      if (!e) this.makeRoom();
      e = { mac: undefined, freshUntil: 0, tries: 0, dueAt: 0, failed: false, queue: [] };
      this.entries.set(ip, e);
    }
    if (e.queue.length >= QUEUE_PER_ADDR) this.events.dropped(e.queue.shift()!, 'queue-full');
    e.queue.push(packet);
    if (e.tries === 0) {
      e.tries = 1;
      e.dueAt = now + REQUEST_INTERVAL_MS;
      this.active.add(ip);
      this.events.request(ip, undefined);
    }
  }

  /**
   * What an ARP packet says (sender `ip` is at `mac`). `create`: add an entry when there is none
   * (the packet was addressed to us); otherwise only existing entries are updated (RFC 826's
   * merge flag). Queued packets for `ip` are delivered.
   */
  learn(ip: Ipv4Addr, mac: MacAddr, now: number, create: boolean): void {
    let e = this.entries.get(ip);
    if (!e) {
      if (!create) return;
      this.makeRoom();
      e = { mac, freshUntil: 0, tries: 0, dueAt: 0, failed: false, queue: [] };
      this.entries.set(ip, e);
    }
    e.mac = mac;
    e.freshUntil = now + ENTRY_LIFETIME_MS;
    e.tries = 0;
    e.failed = false;
    this.active.delete(ip);
    if (e.queue.length > 0) {
      const q = e.queue;
      e.queue = [];
      for (let i = 0; i < q.length; i++) this.events.deliver(q[i]!, mac);
    }
  }

  /** Repeats requests that are due, gives up on silent addresses, ends failure holds. */
  poll(now: number): void {
    for (const ip of this.active) {
      const e = this.entries.get(ip)!;
      if (now < e.dueAt) continue;
      if (e.failed) {
        this.entries.delete(ip);
        this.active.delete(ip);
      } else if (e.tries < REQUEST_TRIES) {
        e.tries++;
        e.dueAt = now + REQUEST_INTERVAL_MS;
        this.events.request(ip, e.mac);
      } else if (e.mac !== undefined) {
        // a stale entry nobody re-validated
        this.entries.delete(ip);
        this.active.delete(ip);
      } else {
        const q = e.queue;
        e.queue = [];
        e.tries = 0;
        e.failed = true;
        e.dueAt = now + FAILED_HOLD_MS;
        for (let i = 0; i < q.length; i++) this.events.dropped(q[i]!, 'unresolved');
      }
    }
  }

  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const ip of this.active) {
      const at = this.entries.get(ip)!.dueAt;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Forgets everything (the interface's address changed); queued packets are dropped. */
  clear(): void {
    for (const e of this.entries.values()) for (const p of e.queue) this.events.dropped(p, 'unresolved');
    this.entries.clear();
    this.active.clear();
  }

  private makeRoom(): void {
    if (this.entries.size < MAX_ENTRIES) return;
    // Maps iterate in insertion order: the first entry is the oldest
    for (const [ip, e] of this.entries) {
      for (const p of e.queue) this.events.dropped(p, 'queue-full');
      this.entries.delete(ip);
      this.active.delete(ip);
      return;
    }
  }
}
