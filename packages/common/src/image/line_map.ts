// The line map: payload section kind 4 (PAYLOAD_KIND_LINE_MAP), which `kiln build` derives from
// esbuild's source map so that the guest can print stack frames in the app's TypeScript lines
// (QuickJS 2021 reports only the bundle's line of a frame, no column). It maps a bundle line
// (1-based, as QuickJS counts) to a source file and line through sorted runs: a run covers
// `count` consecutive bundle lines that map to consecutive lines of one file. It is in every
// image, so it is packed (a typical run is 2 bytes: it follows the previous run in the bundle and
// its file, a few lines on). Format (docs/ARCHITECTURE.md "Image payload", kind 4):
//
//   magic "KLM1" (4 bytes), then unsigned LEB128 varints (varint.ts: little-endian base-128
//   groups, low first, in their shortest form, at most 5 bytes):
//   fileCount, then fileCount × (name length in bytes, UTF-8 name)
//   runCount, then runCount × run:
//     head = (count − 1) × 4 + 2 × (gap ≠ 0) + (file ≠ previous run's file)
//     gap − 1           only when gap ≠ 0
//     fileIndex         only when the file changes (the file before the first run is file 0)
//     zigzag(sourceDelta)
//
// where a run's bundle line is the previous run's end (its bundle line + count; 1 before the
// first run) + gap, and its source line is the end of the previous run of the same file (1 before
// the first) + sourceDelta (zigzag: 0, -1, 1, -2 ... as 0, 1, 2, 3 ...). Runs are therefore sorted
// and disjoint by construction, and each map has one encoding. The decoder takes untrusted bytes:
// every varint, length, index and line is checked once, and a corrupt section is an ImageError
// (EBADPAYLOAD), never an out-of-bounds read or a long loop. Pure TS without BigInt or
// TextEncoder: the guest imports it.

import { ImageError } from '../elf/errors.ts';
import { VarintReader, VarintWriter } from './varint.ts';

export const LINE_MAP_MAGIC = 'KLM1';
/** The largest bundle or source line the format holds. */
export const LINE_MAP_MAX = 0x7fffffff;

/** `count` bundle lines from `bundleLine` map to lines from `sourceLine` of `files[fileIndex]`. */
export interface LineRun {
  readonly bundleLine: number;
  readonly count: number;
  readonly sourceLine: number;
  readonly fileIndex: number;
}

/** What the encoder takes: file names and runs sorted by bundle line, disjoint. */
export interface LineMapData {
  readonly files: readonly string[];
  readonly runs: readonly LineRun[];
}

/** Where a bundle line comes from. */
export interface SourceLine {
  readonly file: string;
  readonly line: number;
}

const MAGIC_BYTES = Array.from(LINE_MAP_MAGIC, (c) => c.charCodeAt(0));
const bad = (msg: string): ImageError => new ImageError('EBADPAYLOAD', `line map: ${msg}`);
const isLine = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= LINE_MAP_MAX;

/** Encodes a line map section; throws a RangeError for runs that are unsorted, overlapping or out of range. */
export function encodeLineMap(map: LineMapData): Uint8Array {
  const w = new VarintWriter(MAGIC_BYTES);
  const varint = (n: number): void => w.varint(n);
  varint(map.files.length);
  for (const name of map.files) w.string(name, LINE_MAP_MAX, 'line map: file name');
  varint(map.runs.length);
  let end = 1;
  let file = 0;
  const sourceEnd = new Array<number>(map.files.length).fill(1);
  for (const [i, r] of map.runs.entries()) {
    const last = r.bundleLine + r.count - 1;
    const sourceLast = r.sourceLine + r.count - 1;
    if (!isLine(r.bundleLine) || !isLine(r.count) || !isLine(last) || !isLine(r.sourceLine) || !isLine(sourceLast)) {
      throw new RangeError(`line map: run ${i} has a line or count outside 1..${LINE_MAP_MAX}`);
    }
    if (!Number.isInteger(r.fileIndex) || r.fileIndex < 0 || r.fileIndex >= map.files.length) {
      throw new RangeError(`line map: run ${i} names file ${r.fileIndex} of ${map.files.length}`);
    }
    if (r.bundleLine < end) throw new RangeError(`line map: run ${i} (bundle line ${r.bundleLine}) is not after the previous run`);
    const gap = r.bundleLine - end;
    const delta = r.sourceLine - sourceEnd[r.fileIndex]!;
    varint((r.count - 1) * 4 + (gap !== 0 ? 2 : 0) + (r.fileIndex !== file ? 1 : 0));
    if (gap !== 0) varint(gap - 1);
    if (r.fileIndex !== file) varint(r.fileIndex);
    varint(delta >= 0 ? delta * 2 : -delta * 2 - 1);
    end = last + 1;
    file = r.fileIndex;
    sourceEnd[r.fileIndex] = sourceLast + 1;
  }
  return w.bytes();
}

/** A decoded line map: its files, its runs, and lookup by bundle line. */
export class LineMap {
  readonly files: readonly string[];
  // One entry per run, sorted by bundle line (the decoder builds them).
  readonly #starts: Int32Array;
  readonly #counts: Int32Array;
  readonly #sources: Int32Array;
  readonly #fileIndex: Int32Array;

  constructor(files: readonly string[], starts: Int32Array, counts: Int32Array, sources: Int32Array, fileIndex: Int32Array) {
    this.files = files;
    this.#starts = starts;
    this.#counts = counts;
    this.#sources = sources;
    this.#fileIndex = fileIndex;
  }

  get runCount(): number {
    return this.#starts.length;
  }

  /** The runs, as encodeLineMap takes them. */
  runs(): LineRun[] {
    const out: LineRun[] = [];
    for (let i = 0; i < this.#starts.length; i++) {
      out.push({ bundleLine: this.#starts[i]!, count: this.#counts[i]!, sourceLine: this.#sources[i]!, fileIndex: this.#fileIndex[i]! });
    }
    return out;
  }

  /** The source file and line of bundle line `bundleLine` (1-based), or undefined when no run covers it. */
  lookup(bundleLine: number): SourceLine | undefined {
    // The last run starting at or before the line (binary search), if it reaches the line.
    let lo = 0;
    let hi = this.#starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#starts[mid]! <= bundleLine) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0) return undefined;
    const offset = bundleLine - this.#starts[i]!;
    if (!(offset < this.#counts[i]!)) return undefined;
    return { file: this.files[this.#fileIndex[i]!]!, line: this.#sources[i]! + offset };
  }
}

/** Decodes a line map section (untrusted bytes); a malformed one is an ImageError (EBADPAYLOAD). */
export function decodeLineMap(bytes: Uint8Array): LineMap {
  if (bytes.length < MAGIC_BYTES.length || MAGIC_BYTES.some((b, i) => bytes[i] !== b)) {
    throw bad(`bad magic (expected "${LINE_MAP_MAGIC}")`);
  }
  const r = new VarintReader(bytes, MAGIC_BYTES.length, bad);
  const varint = (what: string): number => r.varint(what);

  const fileCount = varint('file count');
  // Each name takes at least its length byte: a count beyond the bytes left is corrupt.
  if (fileCount > r.left) throw bad(`${fileCount} file names do not fit in ${bytes.length} bytes`);
  const files: string[] = [];
  for (let i = 0; i < fileCount; i++) files.push(r.string(`file ${i} name`));

  const runCount = varint('run count');
  // Each run takes at least 2 bytes.
  if (runCount > r.left / 2) throw bad(`${runCount} runs do not fit in ${bytes.length} bytes`);
  const starts = new Int32Array(runCount);
  const counts = new Int32Array(runCount);
  const sources = new Int32Array(runCount);
  const fileIndex = new Int32Array(runCount);
  const sourceEnd = new Array<number>(fileCount).fill(1);
  let end = 1;
  let file = 0;
  for (let i = 0; i < runCount; i++) {
    const head = varint(`run ${i} head`);
    const flags = head % 4;
    const count = (head - flags) / 4 + 1;
    const start = end + (flags & 2 ? varint(`run ${i} gap`) + 1 : 0);
    if (flags & 1) {
      const next = varint(`run ${i} file`);
      if (next === file) throw bad(`run ${i} changes to the file it already has`);
      file = next;
    }
    const zig = varint(`run ${i} source delta`);
    if (file >= fileCount) throw bad(`run ${i} names file ${file} of ${fileCount}`);
    const source = sourceEnd[file]! + (zig % 2 === 0 ? zig / 2 : -(zig + 1) / 2);
    if (!isLine(start) || !isLine(start + count - 1)) throw bad(`run ${i} bundle lines are outside 1..${LINE_MAP_MAX}`);
    if (!isLine(source) || !isLine(source + count - 1)) throw bad(`run ${i} source lines are outside 1..${LINE_MAP_MAX}`);
    starts[i] = start;
    counts[i] = count;
    sources[i] = source;
    fileIndex[i] = file;
    end = start + count;
    sourceEnd[file] = source + count;
  }
  if (r.left !== 0) throw bad(`${r.left} bytes after the last run`);
  return new LineMap(files, starts, counts, sources, fileIndex);
}
