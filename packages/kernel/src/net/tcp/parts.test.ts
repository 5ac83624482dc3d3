// Tests of the TCP layer's building blocks: sequence arithmetic across the 2^32 wrap, the
// byte ring and the reassembly ranges against simple models (fast-check), RFC 6528 ISNs, the
// RFC 6298 estimator, the NewReno window arithmetic on hand-computed cases, and the timer heap
// against a model.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { Assembler } from './assembler.ts';
import { NewReno } from './congestion.ts';
import { IsnGenerator } from './isn.ts';
import { ByteRing } from './ring.ts';
import { RttEstimator } from './rtt.ts';
import { TimerHeap } from './timers.ts';
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMax, seqSub } from './seq.ts';

test('seq_arithmetic_across_wrap', () => {
  assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
  assert.equal(seqAdd(5, -6), 0xffffffff);
  assert.equal(seqSub(0x10, 0xfffffff0), 0x20);
  assert.equal(seqSub(0xfffffff0, 0x10), -0x20);
  assert.ok(seqLt(0xfffffff0, 0x10) && seqLe(0xfffffff0, 0x10) && !seqGe(0xfffffff0, 0x10));
  assert.ok(seqGt(0x10, 0xfffffff0) && seqGe(7, 7) && seqLe(7, 7) && !seqLt(7, 7));
  assert.equal(seqMax(0xfffffff0, 0x10), 0x10);
});

test('ring_matches_a_plain_array_model', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), n: fc.nat(9000) }),
    fc.record({ kind: fc.constant('read' as const), n: fc.nat(9000) }),
    fc.record({ kind: fc.constant('discard' as const), n: fc.nat(9000) }),
    fc.record({ kind: fc.constant('peek' as const), n: fc.nat(9000) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const ring = new ByteRing(20000);
    let model: number[] = [];
    let counter = 0;
    for (const o of ops) {
      if (o.kind === 'append') {
        const src = Uint8Array.from({ length: o.n }, () => counter++ & 0xff);
        const took = ring.append(src);
        assert.equal(took, Math.min(o.n, 20000 - model.length));
        model.push(...src.subarray(0, took));
      } else if (o.kind === 'read') {
        const into = new Uint8Array(o.n);
        const got = ring.read(into);
        assert.deepEqual([...into.subarray(0, got)], model.slice(0, got));
        model = model.slice(got);
      } else if (o.kind === 'discard') {
        const n = Math.min(o.n, model.length);
        ring.discard(n);
        model = model.slice(n);
      } else {
        const n = Math.min(o.n, model.length);
        const into = new Uint8Array(n + 3);
        ring.copyOut(0, into, 3, n);
        assert.deepEqual([...into.subarray(3)], model.slice(0, n));
      }
      assert.equal(ring.length, model.length);
      assert.equal(ring.room, 20000 - model.length);
    }
  }));
});

test('ring_bytes_written_past_the_end_survive_reads_and_growth', () => {
  const ring = new ByteRing(65538);
  ring.append(new Uint8Array(3000).fill(1));
  ring.writeAt(3000 + 5000, new Uint8Array(2000).fill(3)); // out of order, grows the ring
  assert.equal(ring.read(new Uint8Array(3000)), 3000); // the reader empties the in-order part
  ring.writeAt(0, new Uint8Array(5000).fill(2)); // the gap arrives
  ring.commit(7000);
  const out = new Uint8Array(7000);
  assert.equal(ring.read(out), 7000);
  assert.deepEqual([out[0], out[4999], out[5000], out[6999]], [2, 2, 3, 3]);
});

test('assembler_matches_a_set_model', () => {
  const base = 0xffffff00; // ranges cross the wrap
  const range = fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 60 }));
  fc.assert(fc.property(fc.array(range, { maxLength: 30 }), fc.integer({ min: 0, max: 100 }), (ranges, firstLen) => {
    const asm = new Assembler();
    const have = new Set<number>();
    for (const [off, len] of ranges) {
      if (asm.add(seqAdd(base, off), seqAdd(base, off + len))) for (let i = off; i < off + len; i++) have.add(i);
    }
    // Everything before `firstLen` arrives: the contiguous end is the first offset not held.
    let expect = firstLen;
    while (have.has(expect)) expect++;
    assert.equal(seqSub(asm.advance(seqAdd(base, firstLen)), base), expect);
  }));
});

test('assembler_limits_holes', () => {
  const asm = new Assembler();
  for (let i = 0; i < 8; i++) assert.ok(asm.add(i * 10, i * 10 + 5));
  assert.ok(!asm.add(100, 105)); // a ninth hole
  assert.ok(asm.add(5, 10)); // merging needs no new range
  assert.ok(asm.contains(0, 15));
  assert.equal(asm.advance(0), 15);
});

test('rtt_estimator_rfc6298_golden', () => {
  const rtt = new RttEstimator(1000, 200, 60_000);
  assert.equal(rtt.rto, 1000);
  rtt.sample(100); // SRTT 100, RTTVAR 50 → 100 + 200
  assert.deepEqual([rtt.srtt, rtt.rttvar, rtt.rto], [100, 50, 300]);
  rtt.sample(300); // RTTVAR = 0.75·50 + 0.25·200 = 87.5, SRTT = 0.875·100 + 0.125·300 = 125 → 125 + 350
  assert.deepEqual([rtt.srtt, rtt.rttvar, rtt.rto], [125, 87.5, 475]);
  rtt.backOff();
  assert.equal(rtt.rto, 950);
  for (let i = 0; i < 10; i++) rtt.backOff();
  assert.equal(rtt.rto, 60_000);
  const fast = new RttEstimator(1000, 200, 60_000);
  fast.sample(1);
  assert.equal(fast.rto, 200); // clamped to the minimum
});

test('newreno_slow_start_avoidance_recovery_timeout', () => {
  const mss = 1000;
  const cc = new NewReno();
  cc.start(mss, 0, false);
  assert.equal(cc.cwnd, 4000); // RFC 5681: MSS ≤ 1095 → 4 segments
  cc.onNewAck(mss, 3000, 3001, 0);
  assert.equal(cc.cwnd, 5000); // slow start: + min(acked, MSS)
  cc.ssthresh = 5000;
  cc.onNewAck(mss, 1000, 4001, 0);
  assert.equal(cc.cwnd, 5200); // avoidance: + MSS²/cwnd
  // Three duplicate ACKs with 8000 bytes in flight: ssthresh 4000, cwnd 4000 + 3 MSS.
  assert.ok(!cc.onDupAck(mss, 4001, 8000, 12001));
  assert.ok(!cc.onDupAck(mss, 4001, 8000, 12001));
  assert.ok(cc.onDupAck(mss, 4001, 8000, 12001));
  assert.deepEqual([cc.ssthresh, cc.cwnd, cc.inRecovery], [4000, 7000, true]);
  assert.ok(!cc.onDupAck(mss, 4001, 8000, 12001));
  assert.equal(cc.cwnd, 8000); // inflation
  assert.ok(cc.onNewAck(mss, 2000, 6001, 6000)); // partial: deflate by 2000, add back one MSS
  assert.equal(cc.cwnd, 7000);
  assert.ok(!cc.onNewAck(mss, 6000, 12001, 0)); // full ACK: min(ssthresh, max(flight, MSS) + MSS)
  assert.deepEqual([cc.cwnd, cc.inRecovery], [2000, false]);
  cc.onTimeout(mss, 10_000, 20_001);
  assert.deepEqual([cc.ssthresh, cc.cwnd], [5000, 1000]);
  // Duplicate ACKs below `recover` (left by the timeout) do not start another fast retransmit.
  cc.onDupAck(mss, 15_001, 5000, 20_001);
  cc.onDupAck(mss, 15_001, 5000, 20_001);
  assert.ok(!cc.onDupAck(mss, 15_001, 5000, 20_001));
  const lost = new NewReno();
  lost.start(1460, 0, true);
  assert.equal(lost.cwnd, 1460); // SYN was retransmitted: one segment
});

test('isn_keyed_per_tuple_and_advancing_4us_clock', () => {
  const key = (fill: number) => (b: Uint8Array) => b.fill(fill);
  const g = new IsnGenerator(key(1));
  const a = g.isn(1, 2, 3, 4, 0);
  assert.equal(seqSub(g.isn(1, 2, 3, 4, 1000), a), 250_000); // one tick per 4 µs
  assert.notEqual(g.isn(1, 2, 3, 5, 0), a);
  assert.notEqual(g.isn(3, 4, 1, 2, 0), a); // direction matters
  assert.notEqual(new IsnGenerator(key(2)).isn(1, 2, 3, 4, 0), a); // so does the key
  assert.equal(new IsnGenerator(key(1)).isn(1, 2, 3, 4, 0), a);
});

test('timer_heap_wakes_each_item_at_its_earliest_time', () => {
  const step = fc.record({ item: fc.nat(9), at: fc.integer({ min: 1, max: 1000 }), pollAt: fc.nat(1000) });
  fc.assert(fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
    const heap = new TimerHeap<{ id: number; scheduledAt: number }>();
    const items = Array.from({ length: 10 }, (_, id) => ({ id, scheduledAt: Infinity }));
    const want = new Map<number, number>(); // model: earliest requested time per item not yet woken
    let now = 0;
    for (const s of steps) {
      heap.schedule(items[s.item]!, now + s.at);
      want.set(s.item, Math.min(want.get(s.item) ?? Infinity, now + s.at));
      now = Math.max(now, s.pollAt);
      const due: { id: number; scheduledAt: number }[] = [];
      heap.takeDue(now, due);
      const expected = [...want].filter(([, at]) => at <= now).map(([id]) => id).sort();
      assert.deepEqual(due.map((d) => d.id).sort(), expected);
      for (const id of expected) want.delete(id);
      const next = Math.min(...want.values());
      assert.equal(heap.peek(), next);
    }
  }));
});
