// Event, EventTarget, CustomEvent, AbortController/AbortSignal and structuredClone beside Node's
// own: the same programs log the same events with both (listener order, once, capture, passive,
// handleEvent, removal during dispatch, signal-removed listeners, preventDefault, abort reasons,
// AbortSignal.any/timeout), and random values clone as Node clones them (property test).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { AbortController, AbortSignal } from './abort.ts';
import { CustomEvent, Event, EventTarget } from './event_target.ts';
import { structuredClone } from './structured_clone.ts';

interface Classes {
  Event: typeof globalThis.Event;
  CustomEvent: typeof globalThis.CustomEvent;
  EventTarget: typeof globalThis.EventTarget;
  AbortController: typeof globalThis.AbortController;
  AbortSignal: typeof globalThis.AbortSignal;
}
const kiln = { Event, CustomEvent, EventTarget, AbortController, AbortSignal } as unknown as Classes;
const node: Classes = globalThis as unknown as Classes;

const programs: Record<string, (c: Classes, log: (s: unknown) => void) => Promise<void>> = {
  async listeners(c, log) {
    const t = new c.EventTarget();
    const a = (e: globalThis.Event): void => log(`a ${e.type} ${e.eventPhase} ${e.target === t} ${e.currentTarget === t}`);
    t.addEventListener('x', a);
    t.addEventListener('x', a); // a duplicate is ignored
    t.addEventListener('x', { handleEvent: (e: globalThis.Event) => log(`obj ${e.type}`) });
    t.addEventListener('x', () => log('once'), { once: true });
    const later = (): void => log('removed during dispatch');
    t.addEventListener('x', () => {
      log('removes');
      t.removeEventListener('x', later);
    });
    t.addEventListener('x', later);
    log(t.dispatchEvent(new c.Event('x')));
    log(t.dispatchEvent(new c.Event('x')));
  },
  async cancelAndStop(c, log) {
    const t = new c.EventTarget();
    t.addEventListener('y', (e) => { e.preventDefault(); e.stopImmediatePropagation(); });
    t.addEventListener('y', () => log('not reached'));
    log(t.dispatchEvent(new c.Event('y', { cancelable: true })));
    log(t.dispatchEvent(new c.Event('y')));
    const ce = new c.CustomEvent('z', { detail: { n: 1 } });
    log(`${JSON.stringify(ce.detail)} ${ce instanceof c.Event} ${new c.CustomEvent('q').detail}`);
    const e = new c.Event('w', { bubbles: true, cancelable: true });
    log(`${e.bubbles} ${e.cancelable} ${e.composed} ${e.isTrusted} ${e.eventPhase} ${e.target} ${e.returnValue}`);
    assert.throws(() => (t as unknown as { dispatchEvent(x: unknown): void }).dispatchEvent({ type: 'x' }), TypeError);
  },
  async abort(c, log) {
    const ac = new c.AbortController();
    const t = new c.EventTarget();
    t.addEventListener('p', () => log('removed by signal?'), { signal: ac.signal });
    ac.signal.addEventListener('abort', (e) => log(`abort event ${e.type} ${ac.signal.aborted}`));
    ac.signal.onabort = () => log('onabort');
    log(`${ac.signal.aborted} ${ac.signal.reason}`);
    ac.abort();
    ac.abort('again');
    const r = ac.signal.reason as Error;
    log(`${ac.signal.aborted} ${r.name} ${(r as { code?: number }).code} ${r instanceof Error}`);
    t.dispatchEvent(new c.Event('p'));
    try {
      ac.signal.throwIfAborted();
    } catch (e) {
      log(`throwIfAborted: ${(e as Error).name}`);
    }
    log(`${c.AbortSignal.abort('why').reason} ${c.AbortSignal.abort().reason instanceof Error}`);
    const a = new c.AbortController();
    const b = new c.AbortController();
    const any = c.AbortSignal.any([a.signal, b.signal]);
    any.addEventListener('abort', () => log(`any: ${any.reason}`));
    b.abort('b first');
    a.abort('a later');
    log(`any of aborted: ${c.AbortSignal.any([c.AbortSignal.abort(7)]).reason}`);
    const timed = c.AbortSignal.timeout(5);
    const keepAlive = setTimeout(() => {}, 5000); // Node's timeout timer is unref'd: alone, the loop would end first
    await new Promise((resolve) => timed.addEventListener('abort', resolve));
    clearTimeout(keepAlive);
    log(`timeout: ${(timed.reason as Error).name}`);
    assert.throws(() => new (c.AbortSignal as unknown as new () => unknown)(), TypeError);
  },
};

test('events: where Node 20 departs from the DOM spec, Kiln follows the spec', () => {
  const t = new EventTarget();
  const log: string[] = [];
  const a = (e: Event): void => void log.push(`a ${e.eventPhase} ${e.currentTarget === t}`);
  t.addEventListener('x', a);
  t.addEventListener('x', a, true); // a second registration (capture differs): at the target, phase 2 for both (Node says 0 for this one)
  // A listener added during a dispatch waits for the next one (Node runs it in the same dispatch).
  t.addEventListener('x', () => t.addEventListener('x', () => log.push('added')), { once: true });
  // preventDefault in a passive listener is ignored (Node 20 honours it).
  t.addEventListener('x', (e) => e.preventDefault(), { passive: true });
  assert.equal(t.dispatchEvent(new Event('x', { cancelable: true })), true);
  assert.deepEqual(log, ['a 2 true', 'a 2 true']);
  t.dispatchEvent(new Event('x'));
  assert.deepEqual(log.slice(2), ['a 2 true', 'a 2 true', 'added']);
});

for (const [name, program] of Object.entries(programs)) {
  test(`events: ${name} behaves as in Node`, async () => {
    const logs: [string[], string[]] = [[], []];
    await program(node, (s) => logs[0].push(String(s)));
    await program(kiln, (s) => logs[1].push(String(s)));
    assert.deepEqual(logs[1], logs[0]);
  });
}

test('structuredClone: random values clone as Node clones them; cycles, sharing and refusals', () => {
  const leaf = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt(),
    fc.date({ noInvalidDate: true }), fc.uint8Array({ maxLength: 4 }), fc.constantFrom(/a+b/gi, new Error('e'), new RangeError('r')));
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), tie('v'), { maxKeys: 3 }),
      fc.array(fc.tuple(tie('v'), tie('v')), { maxLength: 2 }).map((e) => new Map(e)), fc.array(tie('v'), { maxLength: 3 }).map((e) => new Set(e))),
  })).v;
  fc.assert(fc.property(value, (v) => {
    assert.equal(inspect(structuredClone(v), { depth: 20 }), inspect(globalThis.structuredClone(v), { depth: 20 }));
  }), { numRuns: 300 });
  const o: Record<string, unknown> = { buf: new ArrayBuffer(8) };
  o.self = o;
  o.a = new Uint8Array(o.buf as ArrayBuffer, 2, 3);
  o.b = new DataView(o.buf as ArrayBuffer);
  const c = structuredClone(o);
  assert.equal(c.self, c);
  assert.equal((c.a as Uint8Array).buffer, (c.b as DataView).buffer);
  assert.notEqual(c.buf, o.buf);
  const err = structuredClone(new TypeError('t', { cause: { x: 1 } }));
  assert.deepEqual([err instanceof TypeError, err.message, err.cause], [true, 't', { x: 1 }]);
  for (const bad of [() => 1, Symbol('s'), new WeakMap(), Promise.resolve(), { f() {} }]) {
    assert.throws(() => structuredClone(bad), (e: Error) => e.name === 'DataCloneError', String(bad));
  }
  assert.throws(() => structuredClone(new ArrayBuffer(1), { transfer: [new ArrayBuffer(1)] }), { name: 'DataCloneError' });
  class Point { constructor(public x = 1) {} }
  assert.deepEqual(structuredClone(new Point()), { x: 1 });
});
