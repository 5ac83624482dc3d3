// structuredClone (HTML §2.7 StructuredSerialize/Deserialize in one pass): primitives, the
// primitive wrappers, Date, RegExp, ArrayBuffer and its views (a buffer shared by several views
// stays shared), Map, Set, Error and its native subclasses (name, message, stack, cause), Arrays
// (holes and extra properties kept), plain objects (own enumerable string keys; class instances
// become plain objects). Cycles and shared references are kept. Functions, symbols, WeakMaps,
// Promises, Blobs (not yet) and the like throw DataCloneError. `transfer` of an ArrayBuffer is refused (the engine cannot detach a buffer
// from JavaScript). Installed by install_structured_clone.ts.

import { DOMException } from './dom_exception.ts';

const ERRORS: Record<string, ErrorConstructor> = {
  Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError,
};

const tagOf = (v: object): string => Object.prototype.toString.call(v).slice(8, -1);

const cannot = (what: string): DOMException => new DOMException(`${what} could not be cloned.`, 'DataCloneError');

export function structuredClone<T>(value: T, options?: { transfer?: unknown[] }): T {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'structuredClone': 1 argument required");
  if (options?.transfer !== undefined && [...options.transfer].length > 0) {
    throw new DOMException('structuredClone: transferring objects is not supported by Kiln (the value is copied without it)', 'DataCloneError');
  }
  const memory = new Map<object, unknown>();

  const clone = (v: unknown): unknown => {
    if (typeof v === 'symbol') throw cannot(String(v));
    if (typeof v === 'function') throw cannot(`${(v as { name?: string }).name ? `function ${(v as { name: string }).name}` : 'A function'}`);
    if (v === null || typeof v !== 'object') return v;
    const seen = memory.get(v);
    if (seen !== undefined) return seen;
    const remember = <U>(out: U): U => {
      memory.set(v, out);
      return out;
    };
    const tag = tagOf(v);
    switch (tag) {
      case 'Boolean': return remember(Object(Boolean.prototype.valueOf.call(v)));
      case 'Number': return remember(Object(Number.prototype.valueOf.call(v)));
      case 'String': return remember(Object(String.prototype.valueOf.call(v)));
      case 'BigInt': return remember(Object((v as { valueOf(): unknown }).valueOf()));
      case 'Date': return remember(new Date(Date.prototype.getTime.call(v)));
      case 'RegExp': {
        const r = v as RegExp;
        return remember(new RegExp(r.source, r.flags));
      }
      case 'ArrayBuffer': return remember((v as ArrayBuffer).slice(0));
      case 'DataView': {
        const d = v as DataView;
        return remember(new DataView(clone(d.buffer) as ArrayBuffer, d.byteOffset, d.byteLength));
      }
      case 'Map': {
        const out = remember(new Map());
        for (const [k, x] of v as Map<unknown, unknown>) out.set(clone(k), clone(x));
        return out;
      }
      case 'Set': {
        const out = remember(new Set());
        for (const x of v as Set<unknown>) out.add(clone(x));
        return out;
      }
      case 'Error': {
        const e = v as Error & { cause?: unknown };
        const name = String(e.name);
        const Ctor = ERRORS[name] ?? Error;
        const out = remember(Object.create(Ctor.prototype) as Error & { cause?: unknown });
        const define = (k: string, x: unknown): void => void Object.defineProperty(out, k, { value: x, writable: true, configurable: true, enumerable: false });
        if (Object.prototype.hasOwnProperty.call(e, 'message')) define('message', String(e.message));
        if (typeof e.stack === 'string') define('stack', e.stack);
        if (Object.prototype.hasOwnProperty.call(e, 'cause')) define('cause', clone(e.cause));
        return out;
      }
      case 'Array': {
        const a = v as unknown[];
        const out = remember(new Array(a.length));
        for (const k of Object.keys(a)) (out as unknown as Record<string, unknown>)[k] = clone((a as unknown as Record<string, unknown>)[k]);
        return out;
      }
      case 'Object': case 'Arguments': {
        if (typeof (v as { then?: unknown }).then === 'function' && v instanceof Promise) throw cannot('#<Promise>');
        const out = remember({} as Record<string, unknown>);
        for (const k of Object.keys(v)) out[k] = clone((v as Record<string, unknown>)[k]);
        return out;
      }
      default:
        if (ArrayBuffer.isView(v)) {
          const view = v as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number; constructor: new (b: ArrayBuffer, o: number, n: number) => object };
          const Ctor = (globalThis as unknown as Record<string, typeof view.constructor>)[tag];
          if (Ctor === undefined) throw cannot(`#<${tag}>`);
          return remember(new Ctor(clone(view.buffer) as ArrayBuffer, view.byteOffset, view.length));
        }
        throw cannot(`#<${tag}>`);
    }
  };
  return clone(value) as T;
}
