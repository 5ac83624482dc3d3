// Golden tests of the guest's inspect()/format(): each case is compared with Node's own
// util.inspect/util.format (the reference behaviour), plus fixed golden strings for the
// cases where the guest deliberately differs (QuickJS error stacks, %o without hidden props).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import util from 'node:util';
import { format, inspect } from './inspect.ts';

class Foo {
  a = 1;
  b = 'two';
}
class Bar extends Foo {}
class Empty {}
function named(): void {}
const circular: Record<string, unknown> = { name: 'c' };
circular.self = circular;
circular.list = [circular, { back: circular }];
const withGetter = {
  get g() {
    throw new Error('getter must not run');
  },
  set s(_v: number) {},
  get gs() { return 1; },
  set gs(_v: number) {},
};
const sparse = [1, , , 4]; // eslint-disable-line no-sparse-arrays
const arrWithProp = Object.assign([1, 2], { extra: true });

const cases: Array<[string, unknown]> = [
  ['number', 42], ['negzero', -0], ['nan', NaN], ['bigint', 12n], ['string', 'hi'], ['undefined', undefined], ['null', null],
  ['symbol', Symbol('s')], ['bool', true],
  ['flat object', { a: 1, b: 'x', c: null, d: undefined }],
  ['nested depth', { a: { b: { c: { d: { e: 1 } } } } }],
  ['nested array depth', [[[[1]]]]],
  ['empty', {}], ['empty array', []], ['empty deep', { a: { b: { c: {} } } }],
  ['quoting', { s: "it's", t: 'say "hi" it\'s', n: 'line\nbreak\t\x01' }],
  ['keys', { 'a-b': 1, _ok: 2, '0': 3, [Symbol('k')]: 4 }],
  ['class', new Foo()], ['subclass', new Bar()], ['empty class', new Empty()],
  ['null proto', Object.assign(Object.create(null), { x: 1 })], ['empty null proto', Object.create(null)],
  ['circular', circular],
  ['map', new Map<unknown, unknown>([['a', 1], [{ k: 1 }, [1, 2]]])], ['set', new Set([1, 'two', [3]])],
  ['empty map', new Map()], ['empty set', new Set()],
  ['date', new Date(0)], ['invalid date', new Date(NaN)],
  ['functions', { named, anon: (() => () => {})(), arrow: () => {}, async af() {}, *gen() {} }],
  ['fn alone', named], ['class ctor', Foo], ['subclass ctor', Bar],
  ['fn with props', Object.assign(function f() {}, { x: 1 })],
  ['typed', new Uint8Array([1, 2, 3])], ['float typed', new Float64Array([1.5, -0])], ['big typed', new BigInt64Array([1n])],
  ['empty typed', new Uint8Array(0)],
  ['array buffer', new Uint8Array([1, 2, 255]).buffer],
  ['getters', withGetter],
  ['sparse', sparse], ['array with prop', arrWithProp],
  ['long array', Array.from({ length: 30 }, (_, i) => i * 7)],
  ['very long array', Array.from({ length: 120 }, (_, i) => i)],
  ['string array', Array.from({ length: 10 }, (_, i) => `item${i}`)],
  ['long object', { alpha: 'aaaaaaaaaaaa', beta: 'bbbbbbbbbbbbbb', gamma: 'cccccccccccccc', delta: 'dddddddddddd', eps: 1 }],
  ['boxed', [new Number(3), new String('ab'), new Boolean(false)]],
  ['regexp', /a+b/gi],
  ['mixed nest', { users: [{ id: 1, tags: ['a', 'b'], meta: { x: { y: 1 } } }], count: 1 }],
  ['long string in object', { s: 'x'.repeat(30) + '\n' + 'y'.repeat(60) + '\nend' }],
];

test('inspect_matches_node_util_inspect', () => {
  for (const [name, value] of cases) {
    assert.equal(inspect(value), util.inspect(value), name);
  }
});

test('format_matches_node_util_format', () => {
  const argLists: unknown[][] = [
    ['plain'], ['a', 'b', 3], ['%s is %d years', 'Bob', 42], ['%i|%f|%d', '42.9px', '3.5e1', '7'], ['%j', { a: [1] }],
    ['%s', { a: 1 }], ['%s', [1, [2, [3]]]], ['%O', { a: { b: { c: { d: 1 } } } }], ['100%% sure %s', 'yes'], ['%s %s', 'only one'],
    ['%c styled', 'color: red'], [{ a: 1 }, 'then string', 5], ['%d', 10n], ['%s', -0], ['%x unknown', 1], ['%s', Symbol('q')],
    ['%s', new Foo()], ['%s', { toString: () => 'custom' }], ['end %', 1], [1, 2, 3],
  ];
  for (const args of argLists) assert.equal(format(...args), util.format(...args), JSON.stringify(args.map(String)));
  const c: Record<string, unknown> = {};
  c.c = c;
  assert.equal(format('%j', c), '[Circular]');
});

test('inspect_error_with_v8_and_quickjs_stacks', () => {
  const e = new Error('boom');
  assert.equal(inspect(e), util.inspect(e));
  const q = new Error('boom');
  q.stack = '    at inner (app.js:3)\n    at outer (app.js:7)\n';
  assert.equal(inspect(q), 'Error: boom\n    at inner (app.js:3)\n    at outer (app.js:7)');
  const nostack = new TypeError('bad');
  nostack.stack = '';
  assert.equal(inspect(nostack), '[TypeError: bad]');
  const withCode = Object.assign(new RangeError('r'), { code: 'E_R' });
  withCode.stack = 'RangeError: r\n    at f (x.js:1)';
  assert.equal(inspect(withCode), "RangeError: r\n    at f (x.js:1) {\n  code: 'E_R'\n}");
  assert.equal(inspect({ err: q }), '{\n  err: Error: boom\n      at inner (app.js:3)\n      at outer (app.js:7)\n}');
});

test('inspect_survives_patched_prototypes', () => {
  const push = Array.prototype.push;
  const join = Array.prototype.join;
  try {
    Array.prototype.push = () => { throw new Error('patched'); };
    Array.prototype.join = () => 'patched';
    assert.equal(inspect({ a: [1, 2] }), '{ a: [ 1, 2 ] }');
  } finally {
    Array.prototype.push = push;
    Array.prototype.join = join;
  }
});
