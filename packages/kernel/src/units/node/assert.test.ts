// node:assert (assert.ts, comparisons.ts) against Node's own: the same calls on both must pass or
// throw alike — the same error class, code and name, and for an AssertionError the same
// generatedMessage/operator/actual/expected (and message where both print values the same way).
// Random nested values (primitives that are loosely equal, -0/NaN, arrays, sparse arrays,
// objects with symbol keys and other prototypes, Maps with object keys, Sets, Dates, RegExps,
// typed arrays, boxed primitives, Errors, cycles) and their exact copies and mutated copies get
// the same deepStrictEqual/deepEqual outcome from both.

import nodeAssert from 'node:assert';
import { test } from 'node:test';
import { isDeepStrictEqual as nodeIsDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { createFakeMachine } from '../../testing/fake_ops.ts';
import { setOpsForTesting } from '../../ops.ts';
import ours, { AssertionError, strict as oursStrict } from './assert.ts';
import { isDeepEqual, isDeepStrictEqual } from './comparisons.ts';
import { isDeepStrictEqual as utilIsDeepStrictEqual } from './util.ts';

type AnyFn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Api = Record<string, AnyFn>;

/** Calls one of Node's assertions from code without a file: Node's ok(falsy) reads the caller's
 * source to print the expression (slow on this file as tsx maps it), and without one it prints
 * the fallback that ours prints. */
const callNode = new Function('f', 'args', 'return f(...args)') as (f: AnyFn, args: unknown[]) => unknown;

interface Outcome {
  threw: boolean;
  value?: unknown;
  ctor?: string;
  name?: string;
  code?: unknown;
  message?: string;
  generatedMessage?: unknown;
  operator?: unknown;
  actual?: unknown;
  expected?: unknown;
  ownKeys?: string[];
}

function describeError(e: unknown): Outcome {
  if (typeof e !== 'object' || e === null) return { threw: true, value: e };
  const err = e as Record<string, unknown>;
  const out: Outcome = {
    threw: true,
    ctor: (e.constructor as { name: string }).name,
    name: String(err.name),
    code: err.code,
    message: String(err.message),
  };
  if (out.ctor === 'AssertionError') {
    Object.assign(out, { generatedMessage: err.generatedMessage, operator: err.operator, actual: err.actual, expected: err.expected, ownKeys: Object.keys(e) });
  }
  return out;
}

function run(fn: () => unknown): Outcome {
  try {
    fn();
    return { threw: false };
  } catch (e) {
    return describeError(e);
  }
}

async function runAsync(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    await fn();
    return { threw: false };
  } catch (e) {
    return describeError(e);
  }
}

/** Both outcomes agree (messages only when `messages`). */
function same(label: string, mine: Outcome, node: Outcome, messages: boolean): void {
  const strip = (o: Outcome): Outcome => {
    const { message, actual, expected, ...rest } = o;
    return messages ? { ...rest, message } : rest;
  };
  nodeAssert.deepStrictEqual(strip(mine), strip(node), `${label}: ours ${JSON.stringify(mine.message)} vs Node ${JSON.stringify(node.message)}`);
  if (mine.ctor === 'AssertionError') {
    // Each side built its own arguments: functions (validation functions, classes) by source.
    const comparable = (v: unknown): unknown => (typeof v === 'function' ? `function ${String(v)}` : v);
    nodeAssert.ok(nodeIsDeepStrictEqual(comparable(mine.actual), comparable(node.actual)), `${label}: actual`);
    nodeAssert.ok(nodeIsDeepStrictEqual(comparable(mine.expected), comparable(node.expected)), `${label}: expected`);
  }
  if (mine.threw && mine.value !== undefined) nodeAssert.strictEqual(mine.value, node.value, label);
}

const sym = Symbol('s');
class Foo {
  constructor(public x = 1) {}
}
class MyError extends Error {}
const err = (msg: string): Error => new Error(msg);
const withProps = <T extends object>(o: T, props: object): T => Object.assign(o, props);
const cyclic = (): unknown => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};
const sparse = (): unknown[] => {
  const a: unknown[] = [1];
  a[2] = 3;
  return a;
};

/** [method, args, compare messages]: each value in args is built fresh for each side. */
const cases: [string, () => unknown[], boolean][] = [
  ['ok', () => [true], true],
  ['ok', () => [1, 'msg'], true],
  ['ok', () => [0], true],
  ['ok', () => [false, 'custom'], true],
  ['ok', () => [null, err('mine')], true],
  ['ok', () => [], true],
  ['equal', () => [1, '1'], true],
  ['equal', () => [1, 2], true],
  ['equal', () => [NaN, NaN], true],
  ['equal', () => [null, undefined], true],
  ['equal', () => [{}, {}], true],
  ['equal', () => [1], true],
  ['notEqual', () => [1, '1'], true],
  ['notEqual', () => [1, 2], true],
  ['notEqual', () => [NaN, NaN], true],
  ['strictEqual', () => [1, 1], true],
  ['strictEqual', () => [1, 2], true],
  ['strictEqual', () => [1, 2, 'boom'], true],
  ['strictEqual', () => [1, '1'], true],
  ['strictEqual', () => [0, -0], true],
  ['strictEqual', () => [NaN, NaN], true],
  ['strictEqual', () => ['a fairly long string', 'a fairly long strinG'], true],
  ['strictEqual', () => [{}, {}], false],
  ['strictEqual', () => [1, 2, err('own error')], true],
  ['notStrictEqual', () => [1, 2], true],
  ['notStrictEqual', () => [1, 1], true],
  ['notStrictEqual', () => ['long enough', 'long enough'], true],
  ['notStrictEqual', () => [-0, 0], true],
  ['deepEqual', () => [{ a: 1 }, { a: '1' }], true],
  ['deepEqual', () => [{ a: 1 }, { a: 2 }], false],
  ['deepEqual', () => [[1, 2], ['1', '2']], true],
  ['deepEqual', () => [new Foo(), { x: 1 }], true],
  ['deepEqual', () => [0, -0], true],
  ['deepEqual', () => [new Set([1, {}]), new Set(['1', {}])], true],
  ['deepEqual', () => [new Map<unknown, unknown>([[1, 'a']]), new Map([['1', 'a']])], true],
  ['deepEqual', () => [new Float64Array([0, NaN]), new Float64Array([-0, NaN])], false],
  ['deepEqual', () => [new Float64Array([0]), new Float64Array([-0])], true],
  ['deepEqual', () => [1, 2], true],
  ['notDeepEqual', () => [{ a: 1 }, { a: 1 }], false],
  ['notDeepEqual', () => [{ a: 1 }, { a: 2 }], true],
  ['deepStrictEqual', () => [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }], true],
  ['deepStrictEqual', () => [{ a: 1 }, { a: '1' }], false],
  ['deepStrictEqual', () => [new Foo(), { x: 1 }], false],
  ['deepStrictEqual', () => [Object.create(null), {}], false],
  ['deepStrictEqual', () => [0, -0], true],
  ['deepStrictEqual', () => [NaN, NaN], true],
  ['deepStrictEqual', () => [[NaN], [NaN]], true],
  ['deepStrictEqual', () => [{ [sym]: 1 }, { [sym]: 1 }], true],
  ['deepStrictEqual', () => [{ [sym]: 1 }, { [sym]: 2 }], false],
  ['deepStrictEqual', () => [{ [sym]: 1 }, {}], false],
  ['deepStrictEqual', () => [new Map<unknown, unknown>([[{ k: 1 }, 'a'], [{ k: 2 }, 'b']]), new Map([[{ k: 2 }, 'b'], [{ k: 1 }, 'a']])], true],
  ['deepStrictEqual', () => [new Map<unknown, unknown>([[{ k: 1 }, 'a']]), new Map([[{ k: 1 }, 'b']])], false],
  ['deepStrictEqual', () => [new Set([{ a: 1 }, { a: 2 }]), new Set([{ a: 2 }, { a: 1 }])], true],
  ['deepStrictEqual', () => [new Set([1, 2]), new Set([2, 1])], true],
  ['deepStrictEqual', () => [new Set([1]), new Set(['1'])], false],
  ['deepStrictEqual', () => [new Date(5), new Date(5)], true],
  ['deepStrictEqual', () => [new Date(5), new Date(6)], false],
  ['deepStrictEqual', () => [withProps(new Date(5), { x: 1 }), new Date(5)], false],
  ['deepStrictEqual', () => [/a/g, /a/g], true],
  ['deepStrictEqual', () => [/a/g, /a/i], false],
  ['deepStrictEqual', () => [/a/, /b/], false],
  ['deepStrictEqual', () => { const r = /a/g; r.lastIndex = 1; return [r, /a/g]; }, false],
  ['deepStrictEqual', () => [new Number(1), new Number(1)], true],
  ['deepStrictEqual', () => [new Number(1), new Number(2)], false],
  ['deepStrictEqual', () => [new Number(0), new Number(-0)], false],
  ['deepStrictEqual', () => [new String('a'), new String('a')], true],
  ['deepStrictEqual', () => [new String('a'), new String('b')], false],
  ['deepStrictEqual', () => [new Boolean(true), new Boolean(false)], false],
  ['deepStrictEqual', () => [Object(sym), Object(sym)], true],
  ['deepStrictEqual', () => [new Number(1), 1], false],
  ['deepStrictEqual', () => [new Uint8Array([1, 2]), new Uint8Array([1, 2])], true],
  ['deepStrictEqual', () => [new Uint8Array([1, 2]), new Uint8Array([1, 3])], false],
  ['deepStrictEqual', () => [new Uint8Array([1]), new Int8Array([1])], false],
  ['deepStrictEqual', () => [new Float64Array([0]), new Float64Array([-0])], false],
  ['deepStrictEqual', () => [new Float64Array([NaN]), new Float64Array([NaN])], true],
  ['deepStrictEqual', () => [new Uint8Array([1, 2, 3]).subarray(1), new Uint8Array([2, 3])], true],
  ['deepStrictEqual', () => [withProps(new Uint8Array([1]), { x: 1 }), new Uint8Array([1])], false],
  ['deepStrictEqual', () => [new ArrayBuffer(2), new ArrayBuffer(2)], true],
  ['deepStrictEqual', () => [new ArrayBuffer(2), new ArrayBuffer(3)], false],
  ['deepStrictEqual', () => [new Uint8Array([1]).buffer, new Uint8Array([2]).buffer], false],
  ['deepStrictEqual', () => [new DataView(new Uint8Array([1, 2]).buffer), new DataView(new Uint8Array([1, 2]).buffer)], true],
  ['deepStrictEqual', () => [new DataView(new Uint8Array([1, 2]).buffer), new DataView(new Uint8Array([1, 3]).buffer)], false],
  ['deepStrictEqual', () => [err('a'), err('a')], true],
  ['deepStrictEqual', () => [err('a'), err('b')], false],
  ['deepStrictEqual', () => [new TypeError('a'), err('a')], false],
  ['deepStrictEqual', () => [new Error('a', { cause: 1 }), new Error('a', { cause: 2 })], false],
  ['deepStrictEqual', () => [withProps(err('a'), { code: 1 }), withProps(err('a'), { code: 1 })], true],
  ['deepStrictEqual', () => [cyclic(), cyclic()], true],
  ['deepStrictEqual', () => [cyclic(), { a: 1, self: { a: 1, self: {} } }], false],
  ['deepStrictEqual', () => [sparse(), [1, undefined, 3]], false],
  ['deepStrictEqual', () => [sparse(), sparse()], true],
  ['deepStrictEqual', () => [withProps([1], { x: 2 }), [1]], false],
  ['deepStrictEqual', () => [[1, 2], { 0: 1, 1: 2, length: 2 }], false],
  ['deepStrictEqual', () => [new URL('https://a.example/x'), new URL('https://a.example/x')], true],
  ['deepStrictEqual', () => [new URL('https://a.example/x'), new URL('https://a.example/y')], false],
  ['deepStrictEqual', () => [1, 2, 'with message'], true],
  ['deepStrictEqual', () => [1], true],
  ['notDeepStrictEqual', () => [{ a: 1 }, { a: 1 }], false],
  ['notDeepStrictEqual', () => [{ a: 1 }, { a: '1' }], true],
  ['notDeepStrictEqual', () => [1, 1], true],
  ['notDeepStrictEqual', () => ['long string', 'long string'], true],
  ['match', () => ['abc', /b/], true],
  ['match', () => ['abc', /x/], true],
  ['match', () => [5, /x/], true],
  ['match', () => ['abc', 'b'], true],
  ['match', () => ['abc', /x/, 'mine'], true],
  ['doesNotMatch', () => ['abc', /x/], true],
  ['doesNotMatch', () => ['abc', /b/], true],
  ['fail', () => [], true],
  ['fail', () => ['a message'], true],
  ['fail', () => [err('thrown as is')], true],
  ['fail', () => [1, 2], true],
  ['fail', () => [1, 2, 'msg', '<>'], true],
  ['ifError', () => [null], true],
  ['ifError', () => [undefined], true],
  ['ifError', () => [err('bad')], true],
  ['ifError', () => ['text'], true],
  ['ifError', () => [new TypeError('')], true],
  ['throws', () => [() => { throw err('x'); }], true],
  ['throws', () => [() => 1], true],
  ['throws', () => [() => 1, 'no throw msg'], true],
  ['throws', () => [() => 1, TypeError], true],
  ['throws', () => [() => { throw new TypeError('x'); }, TypeError], true],
  ['throws', () => [() => { throw new TypeError('x'); }, RangeError], true],
  ['throws', () => [() => { throw new TypeError('x'); }, MyError], true],
  ['throws', () => [() => { throw new TypeError('x'); }, Error], true],
  ['throws', () => [() => { throw 'str'; }, Error], false], // eslint-disable-line no-throw-literal
  ['throws', () => [() => { throw err('abc'); }, /b/], true],
  ['throws', () => [() => { throw err('abc'); }, /x/], true],
  ['throws', () => [() => { throw err('abc'); }, (e: Error) => e.message === 'abc'], true],
  ['throws', () => [() => { throw err('abc'); }, function check(e: Error) { return e.message === 'x'; }], true],
  ['throws', () => [() => { throw err('abc'); }, { message: 'abc' }], true],
  ['throws', () => [() => { throw err('abc'); }, { message: /b/, name: 'Error' }], true],
  ['throws', () => [() => { throw err('abc'); }, { message: 'abd' }], false],
  ['throws', () => [() => { throw err('abc'); }, { message: 'abd' }, 'mine'], true],
  ['throws', () => [() => { throw withProps(err('abc'), { code: 'E1' }); }, { code: 'E1' }], true],
  ['throws', () => [() => { throw withProps(err('abc'), { code: 'E1' }); }, { code: 'E2' }], false],
  ['throws', () => [() => { throw err('abc'); }, err('abc')], true],
  ['throws', () => [() => { throw err('abc'); }, new TypeError('abc')], false],
  ['throws', () => [() => { throw err('abc'); }, {}], true],
  ['throws', () => [() => { throw 5; }, { a: 1 }], false], // eslint-disable-line no-throw-literal
  ['throws', () => [() => { throw err('abc'); }, 'abc'], true],
  ['throws', () => [() => { throw err('abc'); }, 'other'], true],
  ['throws', () => [() => { throw err('abc'); }, 'a', 'b'], true],
  ['throws', () => [() => { throw err('abc'); }, 5], true],
  ['throws', () => ['not a function'], true],
  ['doesNotThrow', () => [() => 1], true],
  ['doesNotThrow', () => [() => { throw err('abc'); }], true],
  ['doesNotThrow', () => [() => { throw err('abc'); }, 'mine'], true],
  ['doesNotThrow', () => [() => { throw err('abc'); }, TypeError], true],
  ['doesNotThrow', () => [() => { throw err('abc'); }, Error], true],
  ['doesNotThrow', () => [() => { throw err('abc'); }, /b/], true],
  ['doesNotThrow', () => [() => { throw err('abc'); }, /x/], true],
  ['doesNotThrow', () => [() => { throw err('abc'); }, {}], true],
];

test('fail() with the old arguments warns once on the console, as Node does (DEP0094)', () => {
  const machine = createFakeMachine();
  setOpsForTesting(machine.ops);
  nodeAssert.throws(() => ours.fail(1, 2, undefined, '>'), { message: '1 > 2', operator: '>' });
  nodeAssert.throws(() => ours.fail(1, 2), { message: '1 != 2', operator: '!=' });
  nodeAssert.deepStrictEqual(machine.out.join('').match(/DEP0094/g), ['DEP0094']);
});

for (const [i, [method, args, messages]] of cases.entries()) {
  test(`#${i} ${method}: same outcome as Node's`, () => {
    const machine = createFakeMachine();
    setOpsForTesting(machine.ops); // fail()'s deprecation warning goes to the console
    const mine = run(() => (ours as unknown as Api)[method]!(...args()));
    const node = run(() => callNode((nodeAssert as unknown as Api)[method]!, args()));
    same(`#${i} ${method}`, mine, node, messages);
  });
}

test('the strict variants: node:assert/strict and assert.strict', () => {
  const strictCases: [string, unknown[], boolean][] = [
    ['equal', [1, '1'], true], ['equal', [1, 1], true], ['notEqual', [1, '1'], true], ['notEqual', [NaN, NaN], true],
    ['deepEqual', [{ a: 1 }, { a: '1' }], false], ['deepEqual', [{ a: [1] }, { a: [1] }], true], ['deepEqual', [0, -0], true],
    ['notDeepEqual', [{ a: 1 }, { a: '1' }], true], ['notDeepEqual', [[0], [-0]], true], ['ok', [0], true], ['ok', [1], true],
  ];
  for (const [method, args, messages] of strictCases) {
    same(`strict.${method}`, run(() => (oursStrict as unknown as Api)[method]!(...args)), run(() => callNode((nodeAssert.strict as unknown as Api)[method]!, args)), messages);
  }
  same('strict()', run(() => oursStrict(0, 'm')), run(() => callNode(nodeAssert.strict, [0, 'm'])), true);
  nodeAssert.strictEqual(oursStrict.strict, oursStrict);
  nodeAssert.strictEqual(ours.strict, oursStrict);
  nodeAssert.strictEqual(ours.ok, ours);
  const names = (o: object): string[] => Object.keys(o).filter((k) => k !== 'CallTracker').sort();
  nodeAssert.deepStrictEqual(names(ours), names(nodeAssert));
  nodeAssert.deepStrictEqual(names(oursStrict), names(nodeAssert.strict));
});

test('rejects and doesNotReject: same outcome as Node', async () => {
  const asyncCases: [string, () => unknown[], boolean][] = [
    ['rejects', () => [Promise.reject(err('abc'))], true],
    ['rejects', () => [Promise.resolve(1)], true],
    ['rejects', () => [() => Promise.reject(new TypeError('x')), TypeError], true],
    ['rejects', () => [() => Promise.reject(new TypeError('x')), RangeError], true],
    ['rejects', () => [() => Promise.reject(err('abc')), { message: 'abc' }], true],
    ['rejects', () => [() => Promise.reject(err('abc')), /x/], true],
    ['rejects', () => [() => 5], true],
    ['rejects', () => [() => null], true],
    ['rejects', () => [5], true],
    ['rejects', () => [async () => { throw err('sync in async'); }, 'msg'], true],
    ['doesNotReject', () => [Promise.resolve(1)], true],
    ['doesNotReject', () => [Promise.reject(err('abc'))], true],
    ['doesNotReject', () => [() => Promise.reject(err('abc')), TypeError], true],
  ];
  for (const [method, args, messages] of asyncCases) {
    const mine = await runAsync(() => (ours as unknown as Api)[method]!(...args()));
    const node = await runAsync(() => callNode((nodeAssert as unknown as Api)[method]!, args()) as Promise<unknown>);
    same(method, mine, node, messages);
  }
  // A rejected call rejects: it does not throw synchronously.
  const p = ours.rejects(5 as unknown as Promise<unknown>);
  nodeAssert.ok(p instanceof Promise);
  await nodeAssert.rejects(p, { code: 'ERR_INVALID_ARG_TYPE' });
});

test('AssertionError: constructed directly as Node constructs it', () => {
  const opts = [
    { actual: 1, expected: 2, operator: 'strictEqual' },
    { actual: 1, expected: 2, operator: 'strictEqual', message: 'm' },
    { actual: 'a', expected: 'b', operator: 'deepEqual' },
    { actual: 1, expected: 1, operator: 'notDeepEqual' },
    { actual: 'x', expected: 1, operator: 'notDeepEqual' },
    { message: 'only a message' },
    {},
  ];
  for (const o of opts) {
    const mine = describeError(new AssertionError(o));
    const node = describeError(new nodeAssert.AssertionError(o));
    same(`new AssertionError(${JSON.stringify(o)})`, mine, node, true);
  }
  const e = new AssertionError({ actual: 1, expected: 2, operator: 'strictEqual' });
  nodeAssert.ok(e instanceof Error);
  nodeAssert.strictEqual(e.name, 'AssertionError');
  nodeAssert.strictEqual(e.code, 'ERR_ASSERTION');
  nodeAssert.strictEqual(String(e), String(new nodeAssert.AssertionError({ actual: 1, expected: 2, operator: 'strictEqual' })));
  same('no options', run(() => new AssertionError(undefined as never)), run(() => new nodeAssert.AssertionError(undefined as never)), true);
});

test('util.isDeepStrictEqual is the same function as the assertion', () => {
  nodeAssert.strictEqual(utilIsDeepStrictEqual, isDeepStrictEqual);
});

// ---- random values ----

const leaf = fc.oneof(
  fc.constantFrom<unknown>(0, -0, 1, -1, NaN, Infinity, '', '0', '1', 'a', ' 1 ', true, false, null, undefined, sym),
  fc.integer({ min: -3, max: 3 }),
  fc.string({ maxLength: 3 }),
);

const key = fc.constantFrom('a', 'b', 'c', '0', '1', 'length');

const valueArb = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    fc.tuple(fc.dictionary(key, tie('value'), { maxKeys: 3 }), fc.constantFrom('null', 'foo', 'symbol')).map(([o, kind]) => {
      if (kind === 'null') return Object.assign(Object.create(null) as object, o);
      if (kind === 'foo') return Object.assign(new Foo(), o);
      return Object.assign({ [sym]: 1 }, o);
    }),
    fc.array(fc.tuple(fc.oneof(leaf, tie('value')), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
    fc.array(fc.oneof(leaf, tie('value')), { maxLength: 3 }).map((e) => new Set(e)),
    fc.integer({ min: 0, max: 3 }).map((t) => new Date(t)),
    fc.constantFrom('/a/', '/a/g', '/b/i').map((r) => (r === '/a/' ? /a/ : r === '/a/g' ? /a/g : /b/i)),
    fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 3 }).map((a) => new Uint8Array(a)),
    fc.array(fc.constantFrom(0, -0, 1, NaN), { maxLength: 3 }).map((a) => new Float64Array(a)),
    fc.oneof(fc.integer({ min: -1, max: 1 }).map((n) => new Number(n)), fc.constantFrom('a', '1').map((s) => new String(s)), fc.boolean().map((b) => new Boolean(b))),
    fc.tuple(fc.constantFrom('a', 'b'), fc.boolean()).map(([m, t]) => (t ? new TypeError(m) : new Error(m))),
    fc.tuple(fc.array(tie('value'), { maxLength: 4 }), fc.integer({ min: 0, max: 3 })).map(([a, hole]) => {
      if (hole < a.length) delete a[hole];
      return a;
    }),
  ),
})).value;

/** A deep copy with the same prototypes, flags and cycles. */
function clone(v: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const done = seen.get(v);
  if (done !== undefined) return done;
  let out: Record<PropertyKey, unknown>;
  if (v instanceof Map) {
    const m = new Map();
    seen.set(v, m);
    for (const [k, x] of v) m.set(clone(k, seen), clone(x, seen));
    out = m as unknown as Record<PropertyKey, unknown>;
  } else if (v instanceof Set) {
    const s = new Set();
    seen.set(v, s);
    for (const x of v) s.add(clone(x, seen));
    out = s as unknown as Record<PropertyKey, unknown>;
  } else if (v instanceof Date) out = new Date(v.getTime()) as unknown as Record<PropertyKey, unknown>;
  else if (v instanceof RegExp) out = new RegExp(v.source, v.flags) as unknown as Record<PropertyKey, unknown>;
  else if (ArrayBuffer.isView(v)) out = (v as Uint8Array).slice() as unknown as Record<PropertyKey, unknown>;
  else if (v instanceof Number || v instanceof String || v instanceof Boolean) out = Object(v.valueOf()) as Record<PropertyKey, unknown>;
  else if (v instanceof Error) out = new (v.constructor as ErrorConstructor)(v.message) as unknown as Record<PropertyKey, unknown>;
  else if (Array.isArray(v)) out = new Array(v.length) as unknown as Record<PropertyKey, unknown>;
  else out = Object.create(Object.getPrototypeOf(v)) as Record<PropertyKey, unknown>;
  seen.set(v, out);
  for (const k of Reflect.ownKeys(v)) {
    if (!Object.prototype.propertyIsEnumerable.call(v, k)) continue;
    if ((ArrayBuffer.isView(v) || v instanceof String) && typeof k === 'string' && /^\d+$/.test(k)) continue;
    out[k] = clone((v as Record<PropertyKey, unknown>)[k], seen);
  }
  return out;
}

const looseTwin = (x: unknown): unknown => {
  if (x === 0) return Object.is(x, -0) ? 0 : -0;
  if (x === 1) return '1';
  if (x === '1') return 1;
  if (x === null) return undefined;
  if (x === undefined) return null;
  if (x === true) return 1;
  if (typeof x === 'number' && Number.isNaN(x)) return NaN;
  return typeof x === 'string' ? `${x}x` : 0;
};

/** Changes one place of `v` (a copy), picked by `pick`; `how` chooses the change. */
function mutate(v: unknown, pick: number, how: number): unknown {
  const places: [object, PropertyKey | { mapKey: unknown } | { setValue: unknown } | null][] = [];
  const visit = (x: unknown, seen: Set<object>): void => {
    if (typeof x !== 'object' || x === null || seen.has(x)) return;
    seen.add(x);
    places.push([x, null]);
    if (x instanceof Map) for (const [k, y] of x) { places.push([x, { mapKey: k }]); visit(y, seen); }
    else if (x instanceof Set) for (const y of x) { places.push([x, { setValue: y }]); visit(y, seen); }
    else if (!ArrayBuffer.isView(x)) {
      for (const k of Reflect.ownKeys(x)) {
        if (!Object.prototype.propertyIsEnumerable.call(x, k) || (x instanceof String && typeof k === 'string' && /^\d+$/.test(k))) continue;
        places.push([x, k]);
        visit((x as Record<PropertyKey, unknown>)[k], seen);
      }
    }
  };
  visit(v, new Set());
  if (places.length === 0) return looseTwin(v);
  const [target, where] = places[pick % places.length]!;
  const t = target as Record<PropertyKey, unknown>;
  if (where === null) {
    // The object itself: a new key, another prototype, or (typed arrays) a changed byte.
    if (ArrayBuffer.isView(target)) {
      const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
      if (bytes.length > 0) bytes[how % bytes.length] ^= 0x80;
      else t.extra = 1;
    } else if (how % 3 === 1 && target instanceof RegExp) {
      target.lastIndex++;
    } else if (how % 3 === 1 && target instanceof Error) {
      target.message += 'x';
    } else if (how % 3 === 1 && target instanceof Date) {
      target.setTime(target.getTime() + 1);
    } else if (how % 3 === 0 && !(target instanceof Map) && !(target instanceof Set)) {
      Object.setPrototypeOf(target, Object.getPrototypeOf(target) === null ? Object.prototype : null);
    } else if (target instanceof Map) target.set(`k${how}`, how);
    else if (target instanceof Set) target.add(`v${how}`);
    else t[how % 2 === 0 ? 'extra' : sym] = how;
  } else if (typeof where === 'object' && 'mapKey' in where) {
    const m = target as Map<unknown, unknown>;
    m.set(where.mapKey, looseTwin(m.get(where.mapKey)));
  } else if (typeof where === 'object' && 'setValue' in where) {
    const s = target as Set<unknown>;
    s.delete(where.setValue);
    s.add(looseTwin(where.setValue));
  } else if (how % 4 === 0) {
    delete t[where];
  } else {
    t[where] = looseTwin(t[where]);
  }
  return v;
}

const nodeLoose = (a: unknown, b: unknown): boolean => {
  try {
    nodeAssert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
};
const throwsOf = (f: () => void): boolean => run(f).threw;

function agree(a: unknown, b: unknown): void {
  const strictNode = nodeIsDeepStrictEqual(a, b);
  const looseNode = nodeLoose(a, b);
  nodeAssert.strictEqual(isDeepStrictEqual(a, b), strictNode, 'isDeepStrictEqual');
  nodeAssert.strictEqual(isDeepEqual(a, b), looseNode, 'isDeepEqual');
  nodeAssert.strictEqual(throwsOf(() => ours.deepStrictEqual(a, b)), !strictNode, 'deepStrictEqual');
  nodeAssert.strictEqual(throwsOf(() => ours.notDeepStrictEqual(a, b)), strictNode, 'notDeepStrictEqual');
  nodeAssert.strictEqual(throwsOf(() => ours.deepEqual(a, b)), !looseNode, 'deepEqual');
  nodeAssert.strictEqual(throwsOf(() => ours.notDeepEqual(a, b)), looseNode, 'notDeepEqual');
}

test('property: copies and mutated copies compare as in Node', () => {
  fc.assert(fc.property(valueArb, fc.nat(), fc.nat(), fc.boolean(), (v, pick, how, cycle) => {
    if (cycle && typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) (v as Record<string, unknown>).self = v;
    const copy = clone(v);
    agree(v, copy);
    agree(copy, v);
    const changed = mutate(clone(v), pick, how);
    agree(v, changed);
    agree(changed, v);
  }), { numRuns: 400 });
});

test('property: unrelated pairs compare as in Node', () => {
  fc.assert(fc.property(valueArb, valueArb, (a, b) => {
    agree(a, b);
  }), { numRuns: 400 });
});
