// @ts-nocheck -- guest code for ES2024 lib types and top-level await; the root tsconfig checks ES2022 Node code
// Feature probe (built by tests/e2e/language.test.ts): ES2022–ES2024 built-ins, BigInt, error
// cause, WeakRef, symbols as weak keys, upsert and top-level await, each printed as name=value, one per line.
const out: [string, unknown][] = [];
const p = (name: string, v: unknown): void => void out.push([name, v]);
const a = [3, 1, 2];
p('String.prototype.at', 'hello'.at(-1));
p('Array.prototype.at', a.at(-1));
p('TypedArray.prototype.at', new Uint8Array([5, 6]).at(-2));
p('Object.hasOwn', `${Object.hasOwn({ x: 1 }, 'x')},${Object.hasOwn({}, 'toString')}`);
p('findLast', [1, 2, 3, 4].findLast((x) => x % 2 === 1));
p('findLastIndex', [1, 2, 3, 4].findLastIndex((x) => x > 9));
p('toSorted', `${a.toSorted()}|${a}`);
p('toReversed', `${a.toReversed()}|${a}`);
p('with', `${a.with(-1, 9)}|${a}`);
p('toSpliced', `${a.toSpliced(1, 1, 'x', 'y')}|${a}`);
p('TypedArray.toSorted', `${new Int8Array([2, -1, 0]).toSorted()}`);
p('Object.groupBy', JSON.stringify(Object.groupBy([1, 2, 3, 4], (x) => (x % 2 ? 'odd' : 'even'))));
p('Map.groupBy', [...Map.groupBy([1, 2, 3], (x) => x > 1)].map(([k, v]) => `${k}:${v}`).join(' '));
p('error cause', (new Error('outer', { cause: new TypeError('inner') }).cause as Error).message);
const target = { v: 1 };
const ref = new WeakRef(target);
p('WeakRef', ref.deref() === target);
const sym = Symbol('key');
const wm = new WeakMap<symbol, number>([[sym, 1]]);
const refused = (f: () => unknown): string => { try { f(); return 'accepted'; } catch (e) { return (e as Error).name; } };
p('symbols as weak keys', `${wm.get(sym)},${new WeakSet([Symbol.iterator]).has(Symbol.iterator)},${new WeakRef(sym).deref() === sym},${refused(() => wm.set(Symbol.for('registered'), 2))}`);
p('getOrInsert', `${new Map([['a', 1]]).getOrInsert('a', 2)},${wm.getOrInsertComputed(Symbol('fresh'), () => 7)},${wm.getOrInsert(sym, 9)}`);
p('BigInt', `${2n ** 64n + 1n} ${typeof 10n} ${BigInt.asUintN(8, 257n)} ${new BigInt64Array([-5n])[0]}`);
const { promise, resolve } = Promise.withResolvers<string>();
setTimeout(() => resolve('resolved'), 1);
p('top-level await', await promise);
p('class static block', (class { static x: number; static { this.x = 42; } }).x);
p('private in', (() => { class C { #f = 1; static has(o: object): boolean { return #f in o; } } return `${C.has(new C())},${C.has({})}`; })());
p('String.prototype.toWellFormed', 'a\uD800b'.toWellFormed().charCodeAt(1));
p('RegExp u-mode class escape \\-', `${new RegExp('^[\\w\\-.]+$', 'u').test('a-b.c')},${(() => { try { new RegExp('\\-', 'u'); return 'accepted'; } catch (e) { return (e as Error).name; } })()}`);
for (const [k, v] of out) console.log(`${k}=${v}`);
