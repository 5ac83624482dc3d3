// Headers (WHATWG Fetch §5.2): a list of (name, value) pairs, names lower-cased, values
// normalized (leading/trailing HTTP whitespace removed) and checked (no NUL, CR, LF; ByteString).
// The list is one flat array [name0, value0, name1, value1, ...]: the HTTP parser hands over its
// already-checked list without copying (headersFromList) and the serializer reads it back
// (headerListOf). Not covered: guards ("immutable", "request", forbidden header names).

import { HTTP_TOKEN } from './http_syntax.ts';

const BAD_VALUE = /[\0\r\n]|[^\x00-\xff]/;
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

export type HeadersInit = Headers | Iterable<readonly [string, string]> | Iterable<Iterable<string>> | Record<string, string>;

function checkName(name: unknown): string {
  const n = String(name);
  if (!HTTP_TOKEN.test(n)) throw new TypeError(`Invalid header name: "${n}"`);
  return n.toLowerCase();
}

function normalizeValue(value: unknown): string {
  let v = String(value);
  const first = v.charCodeAt(0);
  const last = v.charCodeAt(v.length - 1);
  if (first === 32 || first === 9 || first === 10 || first === 13 || last === 32 || last === 9 || last === 10 || last === 13) {
    v = v.replace(EDGE_WHITESPACE, '');
  }
  if (BAD_VALUE.test(v)) throw new TypeError(`Invalid header value: "${v}"`);
  return v;
}

export class Headers implements Iterable<[string, string]> {
  /** [name, value, name, value, ...]; names lower-case, in insertion order. */
  private list: string[];

  constructor(init?: HeadersInit) {
    this.list = [];
    if (init === undefined) return;
    if (init instanceof Headers) {
      this.list = init.list.slice();
      return;
    }
    if (typeof init !== 'object') throw new TypeError('Headers init must be an object');
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<Iterable<string>>) {
        const p = Array.from(pair);
        if (p.length !== 2) throw new TypeError('Each header pair must have exactly two items [name, value]');
        this.append(p[0]!, p[1]!);
      }
      return;
    }
    for (const key of Object.keys(init)) this.append(key, (init as Record<string, string>)[key]!);
  }

  append(name: string, value: string): void {
    this.list.push(checkName(name), normalizeValue(value));
  }

  delete(name: string): void {
    const n = checkName(name);
    const l = this.list;
    let w = 0;
    for (let r = 0; r < l.length; r += 2) {
      if (l[r] === n) continue;
      l[w] = l[r]!;
      l[w + 1] = l[r + 1]!;
      w += 2;
    }
    l.length = w;
  }

  get(name: string): string | null {
    const n = checkName(name);
    const l = this.list;
    let out: string | null = null;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] === n) out = out === null ? l[i + 1]! : `${out}, ${l[i + 1]!}`;
    }
    return out;
  }

  getSetCookie(): string[] {
    const out: string[] = [];
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (l[i] === 'set-cookie') out.push(l[i + 1]!);
    return out;
  }

  has(name: string): boolean {
    const n = checkName(name);
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (l[i] === n) return true;
    return false;
  }

  set(name: string, value: string): void {
    const n = checkName(name);
    const v = normalizeValue(value);
    const l = this.list;
    let i = 0;
    for (; i < l.length; i += 2) if (l[i] === n) break;
    if (i === l.length) {
      l.push(n, v);
      return;
    }
    l[i + 1] = v;
    let w = i + 2;
    for (let r = i + 2; r < l.length; r += 2) {
      if (l[r] === n) continue;
      l[w] = l[r]!;
      l[w + 1] = l[r + 1]!;
      w += 2;
    }
    l.length = w;
  }

  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.sortedAndCombined()) callback.call(thisArg, value, name, this);
  }

  /** Fetch's "sort and combine": by name, values of one name joined with ", " (set-cookie kept apart). */
  private sortedAndCombined(): [string, string][] {
    const names: string[] = [];
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (names.indexOf(l[i]!) < 0) names.push(l[i]!);
    names.sort();
    const out: [string, string][] = [];
    for (const n of names) {
      if (n === 'set-cookie') {
        for (const v of this.getSetCookie()) out.push([n, v]);
      } else out.push([n, this.get(n)!]);
    }
    return out;
  }

  entries(): IterableIterator<[string, string]> {
    return this.sortedAndCombined()[Symbol.iterator]();
  }

  keys(): IterableIterator<string> {
    return this.sortedAndCombined().map((e) => e[0])[Symbol.iterator]();
  }

  values(): IterableIterator<string> {
    return this.sortedAndCombined().map((e) => e[1])[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

/** Internal: wraps a list the HTTP parser already checked (names lower-case). No copy. */
export function headersFromList(list: string[]): Headers {
  const h = new Headers();
  (h as unknown as { list: string[] }).list = list;
  return h;
}

/** Internal: the flat [name, value, ...] list (the serializer reads it; do not modify). */
export function headerListOf(h: Headers): string[] {
  return (h as unknown as { list: string[] }).list;
}

/** Internal: appends a pair the caller knows is valid (lower-case name, clean value), unchecked. */
export function appendTrusted(h: Headers, name: string, value: string): void {
  (h as unknown as { list: string[] }).list.push(name, value);
}
