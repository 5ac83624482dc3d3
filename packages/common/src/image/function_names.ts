// The function names: payload section kind 5 (PAYLOAD_KIND_FUNCTION_NAMES), which `kiln build`
// derives from the bundle (cli/src/function_names.ts) so that the profiler can name what QuickJS
// 2021 leaves nameless in its bytecode: class methods, getters and setters, arrow functions kept
// in fields or variables (their `name` property is set at run time, the bytecode's name stays
// empty). A name is keyed by the bundle line (1-based) where the function's code starts, the line
// the profiler reads from the bytecode's line table. Only the VMM reads it, never the guest.
// Format (docs/ARCHITECTURE.md "Image payload", kind 5), varints and strings as in varint.ts:
//
//   magic "KFN1" (4 bytes), stringCount, stringCount × string,
//   entryCount, then entryCount × (lineDelta, ownerRef, memberRef)
//
// where an entry's line is the previous entry's (0 before the first) + lineDelta (≥ 1: lines are
// strictly increasing), ownerRef is 0 (no owner) or 1 + the index of the owning class's name, and
// memberRef = 3 × (the index of the member's name) + (0 plain, 1 getter, 2 setter). The decoder
// takes untrusted bytes: a corrupt section is an ImageError (EBADPAYLOAD).

import { ImageError } from '../elf/errors.ts';
import { VarintReader, VarintWriter } from './varint.ts';

export const FUNCTION_NAMES_MAGIC = 'KFN1';
/** The largest line, and the longest name in bytes, the format holds. */
export const FUNCTION_NAMES_MAX = 0x7fffffff;

export interface FunctionName {
  /** The bundle line where the function's code starts. */
  readonly line: number;
  /** The class (or object) it belongs to, if any. */
  readonly owner?: string;
  readonly member: string;
  readonly accessor?: 'get' | 'set';
}

/** How a name is shown: "get Class.member", "Class.member", "member". */
export function formatFunctionName(n: Omit<FunctionName, 'line'>): string {
  return `${n.accessor ? `${n.accessor} ` : ''}${n.owner !== undefined ? `${n.owner}.` : ''}${n.member}`;
}

const MAGIC_BYTES = Array.from(FUNCTION_NAMES_MAGIC, (c) => c.charCodeAt(0));
const ACCESSORS = [undefined, 'get', 'set'] as const;
const bad = (msg: string): ImageError => new ImageError('EBADPAYLOAD', `function names: ${msg}`);

/** Encodes a function-names section from names sorted by strictly increasing line; a RangeError otherwise. */
export function encodeFunctionNames(names: readonly FunctionName[]): Uint8Array {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const intern = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const refs = names.map((n) => [n.owner === undefined ? 0 : intern(n.owner) + 1, intern(n.member) * 3 + ACCESSORS.indexOf(n.accessor)] as const);
  const w = new VarintWriter(MAGIC_BYTES);
  w.varint(strings.length);
  for (const s of strings) w.string(s, FUNCTION_NAMES_MAX, 'function names: a name');
  w.varint(names.length);
  let line = 0;
  names.forEach((n, i) => {
    if (!Number.isInteger(n.line) || n.line <= line || n.line > FUNCTION_NAMES_MAX) throw new RangeError(`function names: entry ${i} (line ${n.line}) is not after line ${line} or is out of range`);
    w.varint(n.line - line);
    w.varint(refs[i]![0]);
    w.varint(refs[i]![1]);
    line = n.line;
  });
  return w.bytes();
}

/** A decoded function-names section: lookup by the line where a function's code starts. */
export class FunctionNames {
  readonly #lines: Int32Array;
  readonly #entries: readonly FunctionName[];

  /** `entries` sorted by strictly increasing line, `lines` their lines (the decoder builds them). */
  constructor(entries: readonly FunctionName[]) {
    this.#entries = entries;
    this.#lines = Int32Array.from(entries, (e) => e.line);
  }

  /** The entries, as encodeFunctionNames takes them. */
  entries(): readonly FunctionName[] {
    return this.#entries;
  }

  /** The name of the function whose code starts on bundle line `line`, if the section has one. */
  lookup(line: number): string | undefined {
    let lo = 0;
    let hi = this.#lines.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#lines[mid]! < line) lo = mid + 1;
      else hi = mid;
    }
    return this.#lines[lo] === line ? formatFunctionName(this.#entries[lo]!) : undefined;
  }
}

/** Decodes a function-names section (untrusted bytes); a malformed one is an ImageError (EBADPAYLOAD). */
export function decodeFunctionNames(bytes: Uint8Array): FunctionNames {
  if (bytes.length < MAGIC_BYTES.length || MAGIC_BYTES.some((b, i) => bytes[i] !== b)) throw bad(`bad magic (expected "${FUNCTION_NAMES_MAGIC}")`);
  const r = new VarintReader(bytes, MAGIC_BYTES.length, bad);
  const stringCount = r.varint('string count');
  if (stringCount > r.left) throw bad(`${stringCount} names do not fit in ${bytes.length} bytes`);
  const strings: string[] = [];
  for (let i = 0; i < stringCount; i++) strings.push(r.string(`name ${i}`));
  const count = r.varint('entry count');
  if (count > r.left / 3) throw bad(`${count} entries do not fit in ${bytes.length} bytes`);
  const entries: FunctionName[] = [];
  let line = 0;
  for (let i = 0; i < count; i++) {
    const delta = r.varint(`entry ${i} line`);
    const owner = r.varint(`entry ${i} owner`);
    const member = r.varint(`entry ${i} member`);
    line += delta;
    if (delta === 0 || line > FUNCTION_NAMES_MAX) throw bad(`entry ${i} line ${line} is not after the previous entry's or is out of range`);
    if (owner > stringCount) throw bad(`entry ${i} owner ${owner - 1} is not one of the ${stringCount} names`);
    const m = Math.floor(member / 3);
    if (m >= stringCount) throw bad(`entry ${i} member ${m} is not one of the ${stringCount} names`);
    const accessor = ACCESSORS[member % 3];
    entries.push({ line, ...(owner > 0 ? { owner: strings[owner - 1]! } : {}), member: strings[m]!, ...(accessor ? { accessor } : {}) });
  }
  if (r.left !== 0) throw bad(`${r.left} bytes after the last entry`);
  return new FunctionNames(entries);
}
