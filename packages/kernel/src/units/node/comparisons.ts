// Node's deep equality, the one implementation behind util.isDeepStrictEqual and node:assert's
// deepEqual/deepStrictEqual (units/node/util.ts, assert.ts). A port of Node 20's
// lib/internal/util/comparisons.js: strict mode compares prototypes, Object.is for primitives
// (NaN equals NaN, -0 is not +0), own enumerable keys and symbols; loose mode uses == and ignores
// prototypes and symbols. Both: same built-in tag, Maps/Sets by content (object keys matched
// deeply, in any order), Dates by time, RegExps by source/flags/lastIndex, boxed primitives by
// value, typed arrays/ArrayBuffers/DataViews by bytes (loose Float arrays by element), Errors by
// name/message (and cause/errors), URLs by href, cycles. Built-in types are told apart by their
// internal slots (a brand-checking getter or valueOf), as Node's util.types does; Errors by tag
// or instanceof. KeyObject/CryptoKey are not special-cased (compared as objects).
// BigInt is reached by a string key: naming it would give every app the BigInt engine
// (packages/cli/src/bigint.ts).

import * as P from '../../lib/primordials.ts';

const kNoIterator = 0;
const kIsArray = 1;
const kIsSet = 2;
const kIsMap = 3;
type Iteration = typeof kNoIterator | typeof kIsArray | typeof kIsSet | typeof kIsMap;

type Obj = Record<PropertyKey, unknown>;
type Getter = (self: unknown) => unknown;

const getter = (proto: object, name: PropertyKey): Getter => {
  const get = P.ObjectGetOwnPropertyDescriptor(proto, name)!.get!;
  return (self) => P.ReflectApply(get, self, []);
};
const method = (fn: (...args: never[]) => unknown): Getter => (self) => P.ReflectApply(fn, self, []);

/** true when `read(v)` does not throw: the value has the internal slot that `read` checks. */
const branded = (read: Getter) => (v: unknown): boolean => {
  try {
    read(v);
    return true;
  } catch {
    return false;
  }
};

const regExpSource = getter(RegExp.prototype, 'source');
const mapSize = getter(Map.prototype, 'size');
const setSize = getter(Set.prototype, 'size');
const arrayBufferByteLength = getter(ArrayBuffer.prototype, 'byteLength');
const SharedArrayBufferCtor = Reflect.get(globalThis, 'SharedArrayBuffer') as { prototype: object } | undefined;
const sharedByteLength = SharedArrayBufferCtor === undefined ? undefined : getter(SharedArrayBufferCtor.prototype, 'byteLength');
const BigIntCtor = Reflect.get(globalThis, 'BigInt') as { prototype: { valueOf(): unknown } } | undefined;

const numberValue = method(Number.prototype.valueOf);
const stringValue = method(String.prototype.valueOf);
const booleanValue = method(Boolean.prototype.valueOf);
const symbolValue = method(Symbol.prototype.valueOf);
const bigintValue = BigIntCtor === undefined ? undefined : method(BigIntCtor.prototype.valueOf);

const isObjectLike = (v: unknown): v is object => typeof v === 'object' && v !== null;
const isDate = (v: unknown): v is Date => isObjectLike(v) && branded(P.DatePrototypeGetTime as Getter)(v);
const isRegExp = (v: unknown): v is RegExp => isObjectLike(v) && v !== RegExp.prototype && branded(regExpSource)(v);
const isMap = (v: unknown): v is Map<unknown, unknown> => isObjectLike(v) && branded(mapSize)(v);
const isSet = (v: unknown): v is Set<unknown> => isObjectLike(v) && branded(setSize)(v);
const isAnyArrayBuffer = (v: unknown): v is ArrayBuffer =>
  isObjectLike(v) && (branded(arrayBufferByteLength)(v) || (sharedByteLength !== undefined && branded(sharedByteLength)(v)));
const isNumberObject = (v: unknown): boolean => isObjectLike(v) && branded(numberValue)(v);
const isStringObject = (v: unknown): boolean => isObjectLike(v) && branded(stringValue)(v);
const isBooleanObject = (v: unknown): boolean => isObjectLike(v) && branded(booleanValue)(v);
const isSymbolObject = (v: unknown): boolean => isObjectLike(v) && branded(symbolValue)(v);
const isBigIntObject = (v: unknown): boolean => isObjectLike(v) && bigintValue !== undefined && branded(bigintValue)(v);
const isBoxedPrimitive = (v: unknown): boolean =>
  isNumberObject(v) || isStringObject(v) || isBooleanObject(v) || isSymbolObject(v) || isBigIntObject(v);
const isError = (v: unknown): v is Error => v instanceof P.ErrorCtor || (isObjectLike(v) && P.ObjectPrototypeToString(v) === '[object Error]');
/** Node's isURL: duck-typed, as Node's own (a URL's state is private, so its keys say nothing). */
const isURL = (v: unknown): boolean => {
  const u = v as { href?: unknown; protocol?: unknown; auth?: unknown; path?: unknown } | null;
  return Boolean(u?.href && u.protocol && u.auth === undefined && u.path === undefined);
};
const isEnumerable = (o: unknown, k: PropertyKey): boolean => P.ObjectPrototypePropertyIsEnumerable(o, k);
const hasOwn = (o: unknown, k: PropertyKey): boolean => P.ObjectPrototypeHasOwnProperty(o, k);

function isArrayIndex(key: string): boolean {
  if (key === '0') return true;
  if (key.length === 0 || key.length > 10 || key.charCodeAt(0) < 49 || key.charCodeAt(0) > 57) return false;
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return P.NumberCtor(key) < 4294967295;
}

/** Own enumerable keys that are not indices (of an array or typed array), and in strict mode the
 * enumerable symbols (Node's getOwnNonIndexProperties with ONLY_ENUMERABLE [| SKIP_SYMBOLS]). */
function nonIndexKeys(o: object, strict: boolean): PropertyKey[] {
  const out: PropertyKey[] = [];
  for (const k of P.ObjectKeys(o)) if (!isArrayIndex(k)) P.ArrayPrototypePush(out, k);
  if (strict) for (const s of P.ObjectGetOwnPropertySymbols(o)) if (isEnumerable(o, s)) P.ArrayPrototypePush<PropertyKey>(out, s);
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function viewBytes(v: ArrayBufferView): Uint8Array {
  return new P.Uint8ArrayCtor(v.buffer, v.byteOffset, v.byteLength);
}

function isEqualBoxedPrimitive(a: unknown, b: unknown): boolean {
  if (isNumberObject(a)) return isNumberObject(b) && P.ObjectIs(numberValue(a), numberValue(b));
  if (isStringObject(a)) return isStringObject(b) && stringValue(a) === stringValue(b);
  if (isBooleanObject(a)) return isBooleanObject(b) && booleanValue(a) === booleanValue(b);
  if (isBigIntObject(a)) return isBigIntObject(b) && bigintValue!(a) === bigintValue!(b);
  return isSymbolObject(b) && symbolValue(a) === symbolValue(b);
}

/** The cycle state of one comparison (Node's memos: the first two levels by hand, then a Set). */
interface Memos {
  set: Set<unknown> | undefined;
  a: unknown;
  b: unknown;
  c: unknown;
  d: unknown;
  deep: boolean;
  deleteFailures: boolean;
}

function innerDeepEqual(val1: unknown, val2: unknown, strict: boolean, memos: Memos | undefined): boolean {
  if (val1 === val2) return val1 !== 0 || P.ObjectIs(val1, val2) || !strict;
  if (strict) {
    if (typeof val1 === 'number') return val1 !== val1 && val2 !== val2; // eslint-disable-line no-self-compare
    if (!isObjectLike(val1) || !isObjectLike(val2) || P.ObjectGetPrototypeOf(val1) !== P.ObjectGetPrototypeOf(val2)) return false;
  } else {
    if (!isObjectLike(val1)) {
      // eslint-disable-next-line eqeqeq
      if (!isObjectLike(val2)) return val1 == val2 || (typeof val1 === 'number' && typeof val2 === 'number' && val1 !== val1 && val2 !== val2);
      return false;
    }
    if (!isObjectLike(val2)) return false;
  }
  const tag1 = P.ObjectPrototypeToString(val1);
  if (tag1 !== P.ObjectPrototypeToString(val2)) return false;

  if (P.ArrayIsArray(val1)) {
    if (!P.ArrayIsArray(val2) || val1.length !== val2.length) return false;
    const keys1 = nonIndexKeys(val1, strict);
    if (keys1.length !== nonIndexKeys(val2, strict).length) return false;
    return keyCheck(val1, val2, strict, memos, kIsArray, keys1);
  } else if (tag1 === '[object Object]') {
    return keyCheck(val1, val2, strict, memos, kNoIterator);
  } else if (isDate(val1)) {
    if (!isDate(val2) || P.DatePrototypeGetTime(val1) !== P.DatePrototypeGetTime(val2)) return false;
  } else if (isRegExp(val1)) {
    if (!isRegExp(val2) || val1.source !== val2.source || val1.flags !== val2.flags || val1.lastIndex !== val2.lastIndex) return false;
  } else if (P.ArrayBufferIsView(val1)) {
    if (P.TypedArrayPrototypeGetSymbolToStringTag(val1) !== P.TypedArrayPrototypeGetSymbolToStringTag(val2)) return false;
    const v2 = val2 as ArrayBufferView;
    if (!P.ArrayBufferIsView(v2) || val1.byteLength !== v2.byteLength) return false;
    const floats = P.TypedArrayPrototypeGetSymbolToStringTag(val1);
    if (!strict && (floats === 'Float32Array' || floats === 'Float64Array')) {
      const x = val1 as unknown as Float64Array, y = v2 as unknown as Float64Array;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    } else if (!bytesEqual(viewBytes(val1), viewBytes(v2))) {
      return false;
    }
    const keys1 = nonIndexKeys(val1, strict);
    if (keys1.length !== nonIndexKeys(v2, strict).length) return false;
    return keyCheck(val1, v2, strict, memos, kNoIterator, keys1);
  } else if (isSet(val1)) {
    if (!isSet(val2) || P.SetPrototypeGetSize(val1) !== P.SetPrototypeGetSize(val2)) return false;
    return keyCheck(val1, val2, strict, memos, kIsSet);
  } else if (isMap(val1)) {
    if (!isMap(val2) || P.MapPrototypeGetSize(val1) !== P.MapPrototypeGetSize(val2)) return false;
    return keyCheck(val1, val2, strict, memos, kIsMap);
  } else if (isAnyArrayBuffer(val1)) {
    if (!isAnyArrayBuffer(val2) || !bytesEqual(new P.Uint8ArrayCtor(val1), new P.Uint8ArrayCtor(val2))) return false;
  } else if (isError(val1)) {
    if (!isError(val2)) return false;
    const e1 = val1 as unknown as Obj, e2 = val2 as unknown as Obj;
    for (const k of ['message', 'name', 'cause', 'errors']) {
      const enumerable = isEnumerable(e1, k);
      if (enumerable !== isEnumerable(e2, k)) return false;
      if (enumerable) continue; // keyCheck compares it
      if (k === 'message' || k === 'name' ? e1[k] !== e2[k] : !innerDeepEqual(e1[k], e2[k], strict, memos)) return false;
    }
  } else if (isBoxedPrimitive(val1)) {
    if (!isEqualBoxedPrimitive(val1, val2)) return false;
  } else if (P.ArrayIsArray(val2) || P.ArrayBufferIsView(val2) || isSet(val2) || isMap(val2) || isDate(val2) ||
    isRegExp(val2) || isAnyArrayBuffer(val2) || isBoxedPrimitive(val2) || isError(val2)) {
    return false;
  } else if (isURL(val1)) {
    if (!isURL(val2) || (val1 as { href: unknown }).href !== (val2 as { href: unknown }).href) return false;
  }
  return keyCheck(val1, val2, strict, memos, kNoIterator);
}

function keyCheck(val1: object, val2: object, strict: boolean, memos: Memos | undefined, iterationType: Iteration, aKeys?: PropertyKey[]): boolean {
  const isArrayLikeObject = aKeys !== undefined;
  const keys: PropertyKey[] = aKeys ?? P.ObjectKeys(val1);
  for (const key of keys) if (!isEnumerable(val2, key)) return false;

  if (!isArrayLikeObject) {
    if (keys.length !== P.ObjectKeys(val2).length) return false;
    if (strict) {
      const symbolKeysA = P.ObjectGetOwnPropertySymbols(val1);
      if (symbolKeysA.length !== 0) {
        let count = 0;
        for (const key of symbolKeysA) {
          if (isEnumerable(val1, key)) {
            if (!isEnumerable(val2, key)) return false;
            P.ArrayPrototypePush(keys, key);
            count++;
          } else if (isEnumerable(val2, key)) {
            return false;
          }
        }
        const symbolKeysB = P.ObjectGetOwnPropertySymbols(val2);
        if (symbolKeysA.length !== symbolKeysB.length && enumerableCount(val2, symbolKeysB) !== count) return false;
      } else {
        const symbolKeysB = P.ObjectGetOwnPropertySymbols(val2);
        if (symbolKeysB.length !== 0 && enumerableCount(val2, symbolKeysB) !== 0) return false;
      }
    }
  }

  if (keys.length === 0 && (iterationType === kNoIterator || (iterationType === kIsArray && (val1 as unknown[]).length === 0) ||
    (iterationType === kIsSet && P.SetPrototypeGetSize(val1 as Set<unknown>) === 0) ||
    (iterationType === kIsMap && P.MapPrototypeGetSize(val1 as Map<unknown, unknown>) === 0))) {
    return true;
  }

  if (memos === undefined) {
    memos = { set: undefined, a: val1, b: val2, c: undefined, d: undefined, deep: false, deleteFailures: false };
    return objEquiv(val1, val2, strict, keys, memos, iterationType);
  }
  if (memos.set === undefined) {
    if (!memos.deep) {
      if (memos.a === val1 && memos.b === val2) return true;
      memos.c = val1;
      memos.d = val2;
      memos.deep = true;
      const result = objEquiv(val1, val2, strict, keys, memos, iterationType);
      memos.deep = false;
      return result;
    }
    memos.set = new Set([memos.a, memos.b, memos.c, memos.d]);
  }
  const set = memos.set;
  const originalSize = set.size;
  set.add(val1);
  set.add(val2);
  if (originalSize === set.size) return true;
  const areEq = objEquiv(val1, val2, strict, keys, memos, iterationType);
  if (areEq || memos.deleteFailures) {
    set.delete(val1);
    set.delete(val2);
  }
  return areEq;
}

function enumerableCount(o: object, keys: PropertyKey[]): number {
  let n = 0;
  for (const k of keys) if (isEnumerable(o, k)) n++;
  return n;
}

function setHasEqualElement(set: Set<unknown>, val2: unknown, strict: boolean, memo: Memos): boolean {
  const { deleteFailures } = memo;
  memo.deleteFailures = true;
  for (const val1 of set) {
    if (innerDeepEqual(val1, val2, strict, memo)) {
      set.delete(val1);
      memo.deleteFailures = deleteFailures;
      return true;
    }
  }
  memo.deleteFailures = deleteFailures;
  return false;
}

/** For a primitive missing from the other collection in loose mode: false when nothing can be
 * loosely equal to it, true when something might (compare pairwise), or the one value (null for
 * undefined, undefined for null) to look for. */
function findLooseMatchingPrimitives(prim: unknown): boolean | null | undefined {
  switch (typeof prim) {
    case 'undefined':
      return null;
    case 'object': // null
      return undefined;
    case 'symbol':
      return false;
    case 'string':
      return !P.NumberCtor.isNaN(+prim);
    case 'number':
      return prim === prim; // eslint-disable-line no-self-compare
  }
  return true;
}

function setMightHaveLoosePrim(a: Set<unknown>, b: Set<unknown>, prim: unknown): boolean {
  const altValue = findLooseMatchingPrimitives(prim);
  if (altValue != null) return altValue;
  return b.has(altValue) && !a.has(altValue);
}

function mapMightHaveLoosePrim(a: Map<unknown, unknown>, b: Map<unknown, unknown>, prim: unknown, item: unknown, memo: Memos): boolean {
  const altValue = findLooseMatchingPrimitives(prim);
  if (altValue != null) return altValue;
  const curB = b.get(altValue);
  if ((curB === undefined && !b.has(altValue)) || !innerDeepEqual(item, curB, false, memo)) return false;
  return !a.has(altValue) && innerDeepEqual(item, curB, false, memo);
}

function setEquiv(a: Set<unknown>, b: Set<unknown>, strict: boolean, memo: Memos): boolean {
  let set: Set<unknown> | null = null;
  for (const val of a) {
    if (!b.has(val)) {
      if (!isObjectLike(val) && (strict || !setMightHaveLoosePrim(a, b, val))) return false;
      if (set === null) {
        if (b.size === 1) return innerDeepEqual(val, b.values().next().value, strict, memo);
        set = new Set();
      }
      set.add(val);
    }
  }
  if (set !== null) {
    for (const val of b) {
      if (isObjectLike(val)) {
        if (!a.has(val) && !setHasEqualElement(set, val, strict, memo)) return false;
      } else if (!strict && !a.has(val) && !setHasEqualElement(set, val, strict, memo)) {
        return false;
      }
    }
    return set.size === 0;
  }
  return true;
}

function mapHasEqualEntry(set: Set<unknown>, map: Map<unknown, unknown>, key2: unknown, item2: unknown, strict: boolean, memo: Memos): boolean {
  const { deleteFailures } = memo;
  memo.deleteFailures = true;
  for (const key1 of set) {
    if (innerDeepEqual(key1, key2, strict, memo) && innerDeepEqual(map.get(key1), item2, strict, memo)) {
      set.delete(key1);
      memo.deleteFailures = deleteFailures;
      return true;
    }
  }
  memo.deleteFailures = deleteFailures;
  return false;
}

function mapEquiv(a: Map<unknown, unknown>, b: Map<unknown, unknown>, strict: boolean, memo: Memos): boolean {
  let set: Set<unknown> | null = null;
  for (const [key, item1] of a) {
    if (isObjectLike(key)) {
      if (set === null) {
        if (b.size === 1) {
          const [key2, item2] = b.entries().next().value as [unknown, unknown];
          return innerDeepEqual(key, key2, strict, memo) && innerDeepEqual(item1, item2, strict, memo);
        }
        set = new Set();
      }
      set.add(key);
    } else {
      const item2 = b.get(key);
      if ((item2 === undefined && !b.has(key)) || !innerDeepEqual(item1, item2, strict, memo)) {
        if (strict) return false;
        if (!mapMightHaveLoosePrim(a, b, key, item1, memo)) return false;
        if (set === null) set = new Set();
        set.add(key);
      }
    }
  }
  if (set !== null) {
    for (const [key, item] of b) {
      if (isObjectLike(key)) {
        if (!mapHasEqualEntry(set, a, key, item, strict, memo)) return false;
      } else if (!strict && (!a.has(key) || !innerDeepEqual(a.get(key), item, strict, memo)) &&
        !mapHasEqualEntry(set, a, key, item, strict, memo)) {
        return false;
      }
    }
    return set.size === 0;
  }
  return true;
}

function objEquiv(a: object, b: object, strict: boolean, keys: PropertyKey[], memos: Memos, iterationType: Iteration): boolean {
  const x = a as Obj, y = b as Obj;
  for (const key of keys) if (!innerDeepEqual(x[key], y[key], strict, memos)) return false;
  if (iterationType === kIsArray) {
    const arrA = a as unknown[], arrB = b as unknown[];
    for (let i = 0; i < arrA.length; i++) {
      if (hasOwn(arrA, i)) {
        if (!hasOwn(arrB, i) || !innerDeepEqual(arrA[i], arrB[i], strict, memos)) return false;
      } else if (hasOwn(arrB, i)) {
        return false;
      } else {
        // A sparse array: compare what it has, by key.
        const keysA = P.ObjectKeys(arrA);
        for (; i < keysA.length; i++) {
          const key = keysA[i]!;
          if (!hasOwn(arrB, key) || !innerDeepEqual(x[key], y[key], strict, memos)) return false;
        }
        return keysA.length === P.ObjectKeys(arrB).length;
      }
    }
  } else if (iterationType === kIsSet) {
    if (!setEquiv(a as Set<unknown>, b as Set<unknown>, strict, memos)) return false;
  } else if (iterationType === kIsMap) {
    if (!mapEquiv(a as Map<unknown, unknown>, b as Map<unknown, unknown>, strict, memos)) return false;
  }
  return true;
}

/** assert.deepEqual's rule (loose: == for primitives, prototypes ignored). */
export function isDeepEqual(a: unknown, b: unknown): boolean {
  return innerDeepEqual(a, b, false, undefined);
}

/** assert.deepStrictEqual's rule, util.isDeepStrictEqual. */
export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  return innerDeepEqual(a, b, true, undefined);
}
