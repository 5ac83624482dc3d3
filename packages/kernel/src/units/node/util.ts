// `node:util` for guests: format and inspect are the console's own (units/inspect.ts, Node's
// defaults; inspect takes { depth }, and inspect.custom is Node's symbol but not consulted),
// promisify/callbackify (with promisify.custom), inherits, deprecate (one warning on the console),
// isDeepStrictEqual (node:assert's, comparisons.ts), types (by the values' built-in tags:
// Object.prototype.toString, so a Symbol.toStringTag can fool them where Node reads internal
// slots), TextEncoder/TextDecoder, and the old is* helpers. Spec: Node.js util (docs/ARCHITECTURE.md "The CLI", bundler conventions).

import { format, inspect as kilnInspect } from '../inspect.ts';
import { consoleWrite } from '../console_out.ts';
import { TextDecoder, TextEncoder } from '../../web/text_codec.ts';
import { isDeepStrictEqual } from './comparisons.ts';

export { format, isDeepStrictEqual, TextDecoder, TextEncoder };

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Node's util.inspect: the legacy (value, showHidden, depth) form too. */
export const inspect = Object.assign(
  (value: unknown, opts?: { depth?: number | null } | boolean, depth?: number): string => {
    const d = typeof opts === 'object' && opts !== null ? opts.depth : depth;
    return kilnInspect(value, d === undefined ? {} : { depth: d === null ? Infinity : d });
  },
  { custom: Symbol.for('nodejs.util.inspect.custom'), defaultOptions: { depth: 2 } },
);

const kCustomPromisify = Symbol.for('nodejs.util.promisify.custom');

/** fn(...args, (err, value) => …) → (...args) => Promise<value>; fn[promisify.custom] wins. */
export const promisify = Object.assign(
  <T extends Fn>(fn: T): Fn => {
    if (typeof fn !== 'function') throw new TypeError(`The "original" argument must be of type function. Received ${typeof fn}`);
    const custom = (fn as unknown as Record<symbol, unknown>)[kCustomPromisify];
    if (typeof custom === 'function') return custom as Fn;
    function promisified(this: unknown, ...args: unknown[]): Promise<unknown> {
      return new Promise((resolve, reject) => {
        fn.call(this, ...args, (err: unknown, value: unknown) => (err ? reject(err) : resolve(value)));
      });
    }
    Object.setPrototypeOf(promisified, Object.getPrototypeOf(fn));
    return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(fn));
  },
  { custom: kCustomPromisify },
);

/** (...args) => Promise → (...args, callback(err, value)). */
export function callbackify(fn: Fn): Fn {
  if (typeof fn !== 'function') throw new TypeError(`The "original" argument must be of type function. Received ${typeof fn}`);
  return function (this: unknown, ...args: unknown[]) {
    const cb = args.pop();
    if (typeof cb !== 'function') throw new TypeError('The last argument must be of type function.');
    (fn.apply(this, args) as Promise<unknown>).then(
      (v) => queueMicrotask(() => cb(null, v)),
      (e: unknown) => queueMicrotask(() => cb(e || Object.assign(new Error('Promise was rejected with a falsy value'), { reason: e }))),
    );
  };
}

export function inherits(ctor: Fn, superCtor: Fn): void {
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

export function deprecate<T extends Fn>(fn: T, msg: string, code?: string): T {
  let warned = false;
  return function (this: unknown, ...args: unknown[]) {
    if (!warned) {
      warned = true;
      consoleWrite(`(kiln) ${code ? `[${code}] ` : ''}DeprecationWarning: ${msg}\n`);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
  } as T;
}

const tag = (v: unknown): string => Object.prototype.toString.call(v).slice(8, -1);
const is = (name: string) => (v: unknown): boolean => typeof v === 'object' && v !== null && tag(v) === name;
const typedArrayTags = new Set(['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']);
const isTypedArray = (v: unknown): boolean => ArrayBuffer.isView(v) && typedArrayTags.has(tag(v));
const typed = (name: string) => (v: unknown): boolean => isTypedArray(v) && tag(v) === name;
const fnTag = (name: string) => (v: unknown): boolean => typeof v === 'function' && tag(v) === name;

export const types = {
  isPromise: is('Promise'),
  isRegExp: is('RegExp'),
  isDate: is('Date'),
  isMap: is('Map'),
  isSet: is('Set'),
  isWeakMap: is('WeakMap'),
  isWeakSet: is('WeakSet'),
  isMapIterator: is('Map Iterator'),
  isSetIterator: is('Set Iterator'),
  isArrayBuffer: is('ArrayBuffer'),
  isSharedArrayBuffer: is('SharedArrayBuffer'),
  isAnyArrayBuffer: (v: unknown): boolean => is('ArrayBuffer')(v) || is('SharedArrayBuffer')(v),
  isArrayBufferView: (v: unknown): boolean => ArrayBuffer.isView(v),
  isDataView: is('DataView'),
  isTypedArray,
  isInt8Array: typed('Int8Array'),
  isUint8Array: typed('Uint8Array'),
  isUint8ClampedArray: typed('Uint8ClampedArray'),
  isInt16Array: typed('Int16Array'),
  isUint16Array: typed('Uint16Array'),
  isInt32Array: typed('Int32Array'),
  isUint32Array: typed('Uint32Array'),
  isFloat32Array: typed('Float32Array'),
  isFloat64Array: typed('Float64Array'),
  isBigInt64Array: typed('BigInt64Array'),
  isBigUint64Array: typed('BigUint64Array'),
  isNativeError: (v: unknown): boolean => v instanceof Error || is('Error')(v),
  isAsyncFunction: (v: unknown): boolean => fnTag('AsyncFunction')(v) || fnTag('AsyncGeneratorFunction')(v),
  isGeneratorFunction: (v: unknown): boolean => fnTag('GeneratorFunction')(v) || fnTag('AsyncGeneratorFunction')(v),
  isGeneratorObject: is('Generator'),
  isBoxedPrimitive: (v: unknown): boolean => ['Number', 'String', 'Boolean', 'Symbol', 'BigInt'].some((t) => is(t)(v)),
  isNumberObject: is('Number'),
  isStringObject: is('String'),
  isBooleanObject: is('Boolean'),
  isSymbolObject: is('Symbol'),
  isBigIntObject: is('BigInt'),
};

export const isArray = Array.isArray;
export const isBoolean = (v: unknown): boolean => typeof v === 'boolean';
export const isNull = (v: unknown): boolean => v === null;
export const isNullOrUndefined = (v: unknown): boolean => v === null || v === undefined;
export const isNumber = (v: unknown): boolean => typeof v === 'number';
export const isString = (v: unknown): boolean => typeof v === 'string';
export const isSymbol = (v: unknown): boolean => typeof v === 'symbol';
export const isUndefined = (v: unknown): boolean => v === undefined;
export const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
export const isFunction = (v: unknown): boolean => typeof v === 'function';
export const isPrimitive = (v: unknown): boolean => v === null || (typeof v !== 'object' && typeof v !== 'function');
export const isRegExp = types.isRegExp;
export const isDate = types.isDate;
export const isError = types.isNativeError;

export default {
  format, inspect, promisify, callbackify, inherits, deprecate, isDeepStrictEqual, types, TextEncoder, TextDecoder,
  isArray, isBoolean, isNull, isNullOrUndefined, isNumber, isString, isSymbol, isUndefined, isObject, isFunction,
  isPrimitive, isRegExp, isDate, isError,
};
