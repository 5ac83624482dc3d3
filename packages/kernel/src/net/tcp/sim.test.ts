// Deterministic simulation: two TcpLayers in one process joined by a seeded link (10 Mbit/s
// each way, 5 ms ± 1 ms one-way delay, a 32 KiB drop-tail queue, random loss, duplication and
// reordering) under a simulated clock. Each run moves 2 MiB in both directions at once,
// checks every byte, half-closes both sides and waits for the orderly close. The throughput
// and retransmission table for a few loss rates is compared with sim.golden.txt (rewrite it
// with KILN_UPDATE_GOLDEN=1 after a deliberate change in behaviour).

import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { SeededRandom } from '../../testing/tcp_harness.ts';
import type { TcpLower, TcpSocket } from '../types.ts';
import { TcpLayer } from './layer.ts';

const ADDR_A = 0x0a000001;
const ADDR_B = 0x0a000002;
const BYTES_EACH_WAY = 2 << 20;
const GOLDEN = new URL('./sim.golden.txt', import.meta.url);

interface LinkParams {
  loss: number;
  duplicate: number;
  reorder: number;
  queueBytes: number;
}

interface Arrival {
  at: number;
  order: number;
  to: TcpLayer;
  src: number;
  dst: number;
  bytes: Uint8Array;
}

/** One direction of the link: serialization at a fixed rate behind a byte-limited queue, then delay. */
class Link {
  private busyUntil = 0;
  static readonly BYTES_PER_MS = 1250; // 10 Mbit/s
  static readonly DELAY_MS = 5;
  static readonly JITTER_MS = 1;
  static readonly REORDER_EXTRA_MS = 3;
  drops = 0;

  constructor(private readonly sim: Sim, private readonly rng: SeededRandom, private readonly params: LinkParams, private readonly to: () => TcpLayer) {}

  send(src: number, dst: number, segment: Uint8Array): void {
    const now = this.sim.clock;
    const wire = segment.length + 40; // IP header and framing
    const start = Math.max(now, this.busyUntil);
    if ((start - now) * Link.BYTES_PER_MS > this.params.queueBytes) {
      this.drops++;
      return;
    }
    this.busyUntil = start + wire / Link.BYTES_PER_MS;
    if (this.rng.next() < this.params.loss) return;
    let at = this.busyUntil + Link.DELAY_MS + this.rng.next() * Link.JITTER_MS;
    if (this.rng.next() < this.params.reorder) at += Link.REORDER_EXTRA_MS;
    const bytes = segment.slice(); // the receiver may keep views into it
    this.sim.schedule(at, this.to(), src, dst, bytes);
    if (this.rng.next() < this.params.duplicate) this.sim.schedule(at + this.rng.next() * 2, this.to(), src, dst, bytes);
  }
}

class Sim {
  clock = 0;
  private readonly arrivals: Arrival[] = [];
  private order = 0;
  readonly a: TcpLayer;
  readonly b: TcpLayer;
  readonly ab: Link;
  readonly ba: Link;

  constructor(seed: number, params: LinkParams) {
    const rng = new SeededRandom(seed);
    this.ab = new Link(this, rng, params, () => this.b);
    this.ba = new Link(this, rng, params, () => this.a);
    const lower = (addr: number, link: Link): TcpLower => ({
      sendSegment: (src, dst, seg) => link.send(src, dst, seg),
      mssFor: () => 1460,
      isLocalAddr: (x) => x === addr,
    });
    const now = () => this.clock;
    this.a = new TcpLayer({ lower: lower(ADDR_A, this.ab), random: new SeededRandom(seed + 1).fill, now });
    this.b = new TcpLayer({ lower: lower(ADDR_B, this.ba), random: new SeededRandom(seed + 2).fill, now });
  }

  schedule(at: number, to: TcpLayer, src: number, dst: number, bytes: Uint8Array): void {
    const item = { at, order: this.order++, to, src, dst, bytes };
    const q = this.arrivals;
    let lo = 0, hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (q[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, item);
  }

  /** Runs arrivals and timers in time order until `done` or `limitMs` of simulated time. */
  run(done: () => boolean, limitMs: number): void {
    let steps = 0;
    while (!done()) {
      const next = Math.min(this.arrivals[0]?.at ?? Infinity, this.a.nextDeadline() ?? Infinity, this.b.nextDeadline() ?? Infinity);
      assert.ok(next !== Infinity, `stalled at ${this.clock} ms with nothing scheduled`);
      assert.ok(next <= limitMs, `not done after ${limitMs} ms of simulated time`);
      assert.ok(++steps < 5_000_000, 'simulation does not make progress');
      if (next > this.clock) this.clock = next;
      while (this.arrivals.length > 0 && this.arrivals[0]!.at <= this.clock) {
        const x = this.arrivals.shift()!;
        x.to.input(x.src, x.dst, x.bytes);
      }
      this.a.poll();
      this.b.poll();
    }
  }
}

/** Streams `source` out of `sock` and checks what comes in against `expected`; half-closes, then closes. */
class Endpoint {
  sent = 0;
  received = 0;
  eof = false;
  closed = false;
  error: string | undefined;
  private readonly scratch = new Uint8Array(65536);

  constructor(readonly sock: TcpSocket, private readonly source: Uint8Array, private readonly expected: Uint8Array) {
    sock.events = {
      onConnected: () => this.pump(),
      onWritable: () => this.pump(),
      onReadable: () => this.drain(),
      onClosed: (e) => {
        this.closed = true;
        this.error = e?.code;
      },
    };
  }

  pump(): void {
    while (this.sent < this.source.length) {
      const n = this.sock.write(this.source.subarray(this.sent, Math.min(this.source.length, this.sent + 20000)));
      if (n === 0) return;
      this.sent += n;
    }
    if (this.sock.state === 'ESTABLISHED' || this.sock.state === 'CLOSE-WAIT') this.sock.closeWrite();
    this.maybeClose();
  }

  drain(): void {
    for (;;) {
      const n = this.sock.read(this.scratch);
      if (n === 0) return;
      if (n < 0) {
        this.eof = true;
        this.maybeClose();
        return;
      }
      const want = this.expected.subarray(this.received, this.received + n);
      assert.ok(Buffer.from(this.scratch.buffer, 0, n).equals(want), `corrupt data at offset ${this.received}`);
      this.received += n;
    }
  }

  private maybeClose(): void {
    if (this.eof && this.sent === this.source.length) this.sock.close();
  }
}

function payload(seed: number): Uint8Array {
  const rng = new SeededRandom(seed);
  const b = new Uint8Array(BYTES_EACH_WAY);
  rng.fill(b);
  return b;
}

interface Row {
  bothWays: boolean;
  loss: number;
  ms: number;
  segments: number;
  retransmits: number;
  queueDrops: number;
}

function runOnce(seed: number, params: LinkParams, bothWays: boolean): Row {
  const sim = new Sim(seed, params);
  const fromA = payload(seed * 3 + 1);
  const fromB = bothWays ? payload(seed * 3 + 2) : new Uint8Array(0);
  const listener = sim.b.listen({ addr: 0, port: 80 });
  let server: Endpoint | undefined;
  listener.onAcceptable = () => {
    const sock = listener.accept()!;
    server = new Endpoint(sock, fromB, fromA);
    server.pump();
    server.drain();
  };
  const client = new Endpoint(sim.a.connect(ADDR_A, { addr: ADDR_B, port: 80 }), fromA, fromB);
  sim.run(() => client.closed && !!server?.closed, 600_000);
  assert.equal(client.error, undefined);
  assert.equal(server!.error, undefined);
  assert.equal(client.received, fromB.length);
  assert.equal(server!.received, fromA.length);
  // Both reached TIME-WAIT or CLOSED in order; let TIME-WAIT run out and check nothing is left.
  const finishedAt = sim.clock;
  sim.run(() => sim.a.nextDeadline() === undefined && sim.b.nextDeadline() === undefined, finishedAt + 120_000);
  assert.equal(client.sock.state, 'CLOSED');
  assert.equal(server!.sock.state, 'CLOSED');
  const a = sim.a.stats(), b = sim.b.stats();
  assert.equal(a.checksumErrors + b.checksumErrors + a.malformed + b.malformed, 0);
  return {
    bothWays,
    loss: params.loss,
    ms: finishedAt,
    segments: a.segmentsOut + b.segmentsOut,
    retransmits: a.retransmits + b.retransmits,
    queueDrops: sim.ab.drops + sim.ba.drops,
  };
}

function table(rows: Row[]): string {
  const lines = [
    `# ${BYTES_EACH_WAY} bytes A→B, and B→A at the same time when "both"; link 10 Mbit/s each way,`,
    '# 5±1 ms one way, 32 KiB drop-tail queue, 1% of packets duplicated, 2% delayed 3 ms (reordered)',
    'dir   loss   sim_ms  KiB/s_per_dir  segments  retransmits  queue_drops',
  ];
  for (const r of rows) {
    const rate = BYTES_EACH_WAY / 1024 / (r.ms / 1000);
    lines.push(
      `${r.bothWays ? 'both' : 'A→B '}  ${(r.loss * 100).toFixed(1).padStart(4)}%  ${r.ms.toFixed(0).padStart(6)}  ${rate.toFixed(1).padStart(13)}  ${String(r.segments).padStart(8)}  ${String(r.retransmits).padStart(11)}  ${String(r.queueDrops).padStart(11)}`,
    );
  }
  return lines.join('\n') + '\n';
}

test('sim_two_layers_lossy_link_golden_table', () => {
  const link = (loss: number): LinkParams => ({ loss, duplicate: 0.01, reorder: 0.02, queueBytes: 32 * 1024 });
  const rows = [
    ...[0, 0.005, 0.02, 0.05].map((loss, i) => runOnce(1000 + i, link(loss), true)),
    ...[0, 0.02].map((loss, i) => runOnce(2000 + i, link(loss), false)),
  ];
  const got = table(rows);
  if (process.env.KILN_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, got);
  assert.equal(got, readFileSync(GOLDEN, 'utf8'));
});

test('sim_clean_link_no_retransmits_and_acks_coalesced', () => {
  // No loss and a queue that never overflows: nothing is sent twice, and the receiver ACKs
  // every second segment (about one ACK per two data segments on top of them).
  const row = runOnce(7, { loss: 0, duplicate: 0, reorder: 0, queueBytes: 1 << 20 }, false);
  assert.equal(row.retransmits, 0);
  assert.equal(row.queueDrops, 0);
  const dataSegments = Math.ceil(BYTES_EACH_WAY / 1460);
  assert.ok(row.segments < dataSegments * 1.6, `${row.segments} segments for ${dataSegments} data segments`);
});
