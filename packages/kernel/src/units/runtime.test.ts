// Tests of the guest runtime with fake ops and an injected clock: timer ordering (deadline,
// then insertion), argument passing, intervals, clearing, the tick contract (one callback per
// turn, next deadline, -1 when drained, exitCode on drain), uncaught errors, console output.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { KilnOps } from '../ops.ts';
import { setExitCode } from './lifecycle.ts';
import { createRuntime } from './runtime.ts';

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function fake() {
  const state = { now: 0, out: '', exits: [] as number[], uncaught: [] as unknown[] };
  const ops: KilnOps = {
    op_console_write: (t) => { state.out += t; },
    op_exit: (code) => { state.exits.push(code); throw new ExitCalled(code); },
    op_clock_monotonic_ns: () => state.now,
    op_loop_set_tick: () => {},
    op_cmdline: () => '',
    op_boot_mark: () => {},
    op_mmio_read: () => 0,
    op_mmio_write: () => {},
    op_dma_alloc: () => 4096,
    op_dma_free: () => {},
    op_phys_view: (_addr, size) => new ArrayBuffer(size),
    op_irq_subscribe: () => {},
    op_loop_set_irq: () => {},
    op_cpu_random: () => -1,
    op_cpu_fence: () => {},
    op_loop_set_exit_hook: () => {},
    op_payload_section: () => undefined,
    op_loop_poll: () => false,
    op_net_checksum: () => 0,
    op_heap_size: () => 64 * 1024 * 1024,
    op_set_function_name: (target) => target,
  };
  const rt = createRuntime(ops, (e) => { state.uncaught.push(e); });
  /** Drives the loop like arch/loop.c: tick, jump the clock to the deadline, repeat. */
  const drain = (limit = 1000): number => {
    for (let i = 0; i < limit; i++) {
      const next = rt.tick(state.now);
      if (next === -1) return -1;
      if (next > state.now) state.now = next;
    }
    throw new Error('loop did not drain');
  };
  return { state, rt, drain };
}

const MS = 1e6;

test('timers_fire_by_deadline_then_insertion_order', () => {
  const { state, rt, drain } = fake();
  const seen: string[] = [];
  rt.setTimeout(() => seen.push('c30'), 30);
  rt.setTimeout(() => seen.push('a10'), 10);
  rt.setTimeout(() => seen.push('b10'), 10);
  rt.setTimeout(() => seen.push('z0'), 0); // coerced to 1 ms
  rt.setTimeout(() => seen.push('neg'), -5);
  rt.setTimeout(() => seen.push('nan'), NaN);
  assert.equal(drain(), -1);
  assert.deepEqual(seen, ['z0', 'neg', 'nan', 'a10', 'b10', 'c30']);
  assert.equal(state.now, 30 * MS);
});

test('setTimeout_returns_numeric_ids_and_passes_arguments', () => {
  const { rt, drain } = fake();
  const got: unknown[] = [];
  const a = rt.setTimeout((x: unknown, y: unknown) => got.push(x, y), 5, 'x', 2);
  const b = rt.setTimeout(() => {}, 5);
  assert.equal(typeof a, 'number');
  assert.notEqual(a, b);
  drain();
  assert.deepEqual(got, ['x', 2]);
  assert.throws(() => rt.setTimeout('code' as unknown, 1), TypeError);
});

test('tick_runs_one_callback_per_turn_and_reports_next_deadline', () => {
  const { state, rt } = fake();
  const seen: number[] = [];
  rt.setTimeout(() => seen.push(1), 10);
  rt.setTimeout(() => seen.push(2), 10);
  rt.setTimeout(() => seen.push(3), 20);
  assert.equal(rt.tick(0), 10 * MS); // nothing due yet
  state.now = 15 * MS;
  assert.equal(rt.tick(state.now), state.now); // ran one: call again right away
  assert.deepEqual(seen, [1]);
  assert.equal(rt.tick(state.now), state.now);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(rt.tick(state.now), 20 * MS);
});

test('clearTimeout_and_clearInterval', () => {
  const { state, rt, drain } = fake();
  const seen: string[] = [];
  const t = rt.setTimeout(() => seen.push('cleared'), 5);
  rt.setTimeout(() => seen.push('kept'), 6);
  rt.clearTimeout(t);
  rt.clearTimeout(undefined);
  rt.clearTimeout(9999);
  let n = 0;
  const iv = rt.setInterval((tag: string) => {
    seen.push(`${tag}${++n}@${state.now / MS}`);
    if (n === 3) rt.clearInterval(iv);
  }, 10, 'i');
  assert.equal(drain(), -1);
  assert.deepEqual(seen, ['kept', 'i1@10', 'i2@20', 'i3@30']);
  assert.equal(rt.timers.size, 0);
});

test('timer_added_from_callback_with_same_deadline_runs_after_existing_ones', () => {
  const { rt, drain } = fake();
  const seen: string[] = [];
  rt.setTimeout(() => {
    seen.push('a');
    rt.setTimeout(() => seen.push('nested'), 1);
  }, 1);
  rt.setTimeout(() => seen.push('b'), 1);
  rt.setTimeout(() => seen.push('c'), 2);
  drain();
  assert.deepEqual(seen, ['a', 'b', 'c', 'nested']);
});

test('uncaught_error_in_timer_is_reported', () => {
  const { state, rt } = fake();
  const boom = new Error('boom');
  rt.setTimeout(() => { throw boom; }, 1);
  state.now = MS;
  rt.tick(state.now);
  assert.deepEqual(state.uncaught, [boom]);
});

test('drained_loop_returns_minus_one_or_exits_with_exitCode', () => {
  const { state, rt } = fake();
  assert.equal(rt.tick(0), -1);
  setExitCode(7);
  try {
    assert.throws(() => rt.tick(0), ExitCalled);
    assert.deepEqual(state.exits, [7]);
  } finally {
    setExitCode(undefined);
  }
});

test('queueMicrotask_runs_after_sync_code_and_reports_errors', async () => {
  const { state, rt } = fake();
  const seen: string[] = [];
  rt.queueMicrotask(() => seen.push('micro'));
  rt.queueMicrotask(() => { throw new Error('m'); });
  seen.push('sync');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['sync', 'micro']);
  assert.equal((state.uncaught[0] as Error).message, 'm');
  assert.throws(() => rt.queueMicrotask(42), TypeError);
});

test('console_and_performance', () => {
  const { state, rt } = fake();
  rt.console.log('a %s %d', 'b', 3, { x: [1] });
  rt.console.error(new Map([[1, 2]]));
  rt.console.assert(true, 'no');
  rt.console.assert(false, 'yes %i', 4.5);
  rt.console.assert(0);
  rt.console.dir({ a: { b: { c: { d: 1 } } } }, { depth: 0 });
  rt.console.count();
  rt.console.count();
  state.now = 2.5 * MS;
  rt.console.time('t');
  state.now = 4 * MS;
  rt.console.timeEnd('t');
  assert.equal(
    state.out,
    "a b 3 { x: [ 1 ] }\nMap(1) { 1 => 2 }\nAssertion failed: yes 4\nAssertion failed\n{ a: [Object] }\ndefault: 1\ndefault: 2\nt: 1.500ms\n",
  );
  assert.equal(rt.performance.now(), 4);
  assert.ok(Math.abs(rt.performance.timeOrigin - Date.now()) < 5000);
});

test('tick_returns_Infinity_while_a_ref_is_held_and_-1_after_unref', async () => {
  const { ref, unref } = await import('../lib/handles.ts');
  const { rt, state } = fake();
  ref();
  assert.equal(rt.tick(state.now), Infinity);
  rt.setTimeout(() => {}, 5);
  assert.equal(rt.tick(state.now), 5 * MS); // a timer deadline still wins (the core also wakes on irqs)
  state.now = 5 * MS;
  rt.tick(state.now);
  assert.equal(rt.tick(state.now), Infinity);
  unref();
  assert.equal(rt.tick(state.now), -1);
  assert.throws(() => unref(), /unref without a ref/);
});

test('unref_timers_fire_while_the_program_runs_but_do_not_keep_it_alive', () => {
  const { state, rt, drain } = fake();
  const seen: string[] = [];
  rt.setUnrefTimeout(() => seen.push('unref 5'), 5);
  rt.setTimeout(() => seen.push('ref 10'), 10);
  rt.setUnrefTimeout(() => seen.push('unref 50'), 50);
  assert.equal(drain(), -1);
  assert.deepEqual(seen, ['unref 5', 'ref 10']); // the loop ended at 10 ms: the 50 ms one never ran
  assert.equal(state.now, 10 * MS);
  const id = rt.setTimeout(() => seen.push('cleared'), 1);
  rt.clearTimeout(id);
  assert.equal(rt.timers.refCount, 0);
  assert.equal(drain(), -1);
});
