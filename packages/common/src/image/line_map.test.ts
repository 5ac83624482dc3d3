// Tests of the line map section (line_map.ts): golden bytes of a small map, lookups at the edges
// of runs, the encoder's refusals, the decoder's refusals of corrupt sections, and property tests:
// random maps round-trip and agree with a linear lookup; arbitrary and mutated bytes either throw
// an ImageError or decode to a map whose runs are sorted, disjoint and in range; assembleImage
// carries it as payload section kind 4.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { ImageError } from '../elf/errors.ts';
import { syntheticCore } from '../testing/synthetic_core.ts';
import { assembleImage, readImagePayload } from './assemble.ts';
import { PAYLOAD_KIND_BYTECODE, PAYLOAD_KIND_LINE_MAP, PAYLOAD_KIND_SYMBOLS } from './payload.ts';
import { LINE_MAP_MAX, decodeLineMap, encodeLineMap, type LineMap, type LineMapData, type LineRun } from './line_map.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** `n` as an unsigned LEB128 varint, in hex. */
function leb(n: number): string {
  let out = '';
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out += ((n % 0x80) | 0x80).toString(16).padStart(2, '0');
  return out + n.toString(16).padStart(2, '0');
}
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

const SMALL: LineMapData = {
  files: ['main.ts', 'kiln:units/console.ts'],
  runs: [
    { bundleLine: 3, count: 2, sourceLine: 10, fileIndex: 1 },
    { bundleLine: 5, count: 1, sourceLine: 4, fileIndex: 0 },
    { bundleLine: 9, count: 3, sourceLine: 2, fileIndex: 0 },
    { bundleLine: 200, count: 1, sourceLine: 300, fileIndex: 1 },
  ],
};

test('encodeLineMap_golden_bytes', () => {
  assert.equal(
    hex(encodeLineMap(SMALL)),
    '4b4c4d31' + // "KLM1"
      '02' + '07' + hex(Buffer.from('main.ts')) + '15' + hex(Buffer.from('kiln:units/console.ts')) +
      '04' + // 4 runs: head = (count - 1) * 4 + 2 (gap) + 1 (file), [gap - 1], [file], zigzag(source delta)
      '07' + '01' + '01' + '12' + // 2 lines at 1 + 2 = 3, file 1, source 1 + 9 (zigzag 18)
      '01' + '00' + '06' + // 1 line at 5 (no gap), file 0, source 1 + 3
      '0a' + '02' + '05' + // 3 lines at 6 + 3 = 9, file 0 still, source 5 - 3 (zigzag 5)
      '03' + 'bb01' + '01' + 'c004', // 1 line at 12 + 188 = 200, file 1, source 12 + 288 (zigzag 576)
  );
});

test('decodeLineMap_round_trips_and_looks_up_each_run_edge', () => {
  const map = decodeLineMap(encodeLineMap(SMALL));
  assert.deepEqual(map.files, SMALL.files);
  assert.deepEqual(map.runs(), SMALL.runs);
  assert.equal(map.runCount, 4);
  const cases: [number, string | undefined, number?][] = [
    [0, undefined], [1, undefined], [2, undefined],
    [3, 'kiln:units/console.ts', 10], [4, 'kiln:units/console.ts', 11],
    [5, 'main.ts', 4], [6, undefined], [8, undefined],
    [9, 'main.ts', 2], [11, 'main.ts', 4], [12, undefined],
    [199, undefined], [200, 'kiln:units/console.ts', 300], [201, undefined], [LINE_MAP_MAX, undefined],
  ];
  for (const [line, file, source] of cases) {
    assert.deepEqual(map.lookup(line), file === undefined ? undefined : { file, line: source }, `bundle line ${line}`);
  }
});

test('an empty map encodes to 6 bytes and maps nothing', () => {
  const empty = encodeLineMap({ files: [], runs: [] });
  assert.equal(hex(empty), '4b4c4d31' + '00' + '00');
  assert.equal(decodeLineMap(empty).lookup(1), undefined);
});

test('lines at the limit encode and decode', () => {
  const data: LineMapData = { files: ['a.ts'], runs: [{ bundleLine: LINE_MAP_MAX, count: 1, sourceLine: LINE_MAP_MAX, fileIndex: 0 }] };
  const map = decodeLineMap(encodeLineMap(data));
  assert.deepEqual(map.lookup(LINE_MAP_MAX), { file: 'a.ts', line: LINE_MAP_MAX });
  const down: LineMapData = { files: ['a.ts'], runs: [{ bundleLine: 1, count: LINE_MAP_MAX, sourceLine: 1, fileIndex: 0 }] };
  assert.deepEqual(decodeLineMap(encodeLineMap(down)).lookup(LINE_MAP_MAX), { file: 'a.ts', line: LINE_MAP_MAX });
});

test('encodeLineMap refuses unsorted, overlapping, empty and out-of-range runs', () => {
  const run = (r: Partial<LineRun>): LineRun => ({ bundleLine: 1, count: 1, sourceLine: 1, fileIndex: 0, ...r });
  const refused: [string, LineRun[]][] = [
    ['unsorted', [run({ bundleLine: 5 }), run({ bundleLine: 2 })]],
    ['overlapping', [run({ bundleLine: 2, count: 3 }), run({ bundleLine: 4 })]],
    ['the same line twice', [run({ bundleLine: 2 }), run({ bundleLine: 2 })]],
    ['count 0', [run({ count: 0 })]],
    ['bundle line 0', [run({ bundleLine: 0 })]],
    ['source line 0', [run({ sourceLine: 0 })]],
    ['a fraction', [run({ sourceLine: 1.5 })]],
    ['past the last line', [run({ bundleLine: LINE_MAP_MAX, count: 2 })]],
    ['source past the last line', [run({ sourceLine: LINE_MAP_MAX, count: 2 })]],
    ['a file that is not there', [run({ fileIndex: 1 })]],
    ['a negative file', [run({ fileIndex: -1 })]],
  ];
  for (const [what, runs] of refused) {
    assert.throws(() => encodeLineMap({ files: ['a.ts'], runs }), RangeError, what);
  }
});

test('decodeLineMap refuses corrupt sections with an ImageError', () => {
  const valid = hex(encodeLineMap(SMALL));
  const oneFile = '4b4c4d31' + '01' + '01' + '61'; // magic, 1 file: "a"; then the run count and runs
  const corrupt: [string, string][] = [
    ['empty', ''],
    ['bad magic', '4b4c4d32' + '0000'],
    ['no file count', '4b4c4d31'],
    ['no run count', '4b4c4d31' + '00'],
    ['a varint longer than 5 bytes', '4b4c4d31' + '808080808000' + '00'],
    ['a varint cut off', '4b4c4d31' + '80'],
    ['a varint not in its shortest form', '4b4c4d31' + '8000' + '00'],
    ['more files than bytes', '4b4c4d31' + 'ff7f' + '00'],
    ['a name past the end', '4b4c4d31' + '01' + '05' + '6162'],
    ['a name that is not UTF-8', '4b4c4d31' + '01' + '01' + 'ff' + '00'],
    ['more runs than bytes', '4b4c4d31' + '00' + '05' + '00000000'],
    ['no runs without files', '4b4c4d31' + '00' + '01' + '00' + '00'],
    ['a run of a file that is not there', `${oneFile}01` + '01' + '01' + '00'],
    ['a file change to the same file', `${oneFile}01` + '01' + '00' + '00'],
    ['a run cut off', `${oneFile}01` + '00'],
    ['a gap cut off', `${oneFile}01` + '02'],
    ['a source line below 1', `${oneFile}01` + '00' + '01'],
    ['a bundle line past the limit', `${oneFile}01` + '02' + leb(LINE_MAP_MAX) + '00'],
    ['a run past the limit', `${oneFile}01` + leb(2 * 4 + 2) + leb(LINE_MAP_MAX - 3) + '00'],
    ['a count past the limit', `${oneFile}01` + leb(LINE_MAP_MAX * 4) + '00'],
    ['a source line past the limit', `${oneFile}01` + '00' + leb(2 * LINE_MAP_MAX)],
    ['a source run past the limit', `${oneFile}01` + leb(4) + leb(2 * (LINE_MAP_MAX - 1))],
    ['trailing bytes', valid + '00'],
    ['truncated', valid.slice(0, -2)],
  ];
  for (const [what, h] of corrupt) {
    assert.throws(() => decodeLineMap(bytes(h)), (e: unknown) => e instanceof ImageError && e.code === 'EBADPAYLOAD' && /^line map: /.test(e.message), what);
  }
});

test('assembleImage carries the line map as payload section kind 4, after the others', () => {
  const section = encodeLineMap(SMALL);
  const { sections } = readImagePayload(assembleImage(syntheticCore({ payloadStart: 0x104000 }), new Uint8Array([1, 2, 3]), undefined, section));
  assert.deepEqual(sections.map((s) => s.kind), [PAYLOAD_KIND_BYTECODE, PAYLOAD_KIND_SYMBOLS, PAYLOAD_KIND_LINE_MAP]);
  assert.deepEqual(decodeLineMap(sections[2]!.data).runs(), SMALL.runs);
});

/** Random valid maps: up to 6 files, runs with random gaps, lengths, files and source lines. */
const lineMaps: fc.Arbitrary<LineMapData> = fc
  .record({
    files: fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { minLength: 1, maxLength: 6 }),
    steps: fc.array(fc.record({
      gap: fc.oneof(fc.constant(0), fc.nat(5), fc.nat(100_000)),
      count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5000 })),
      file: fc.nat(),
      sourceLine: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 1_000_000 })),
    }), { maxLength: 60 }),
  })
  .map(({ files, steps }) => {
    const runs: LineRun[] = [];
    let next = 1;
    for (const s of steps) {
      const bundleLine = next + s.gap;
      runs.push({ bundleLine, count: s.count, sourceLine: s.sourceLine, fileIndex: s.file % files.length });
      next = bundleLine + s.count;
    }
    return { files, runs };
  });

/** What lookup must answer: the run covering the line, found by a linear scan. */
function linearLookup(data: LineMapData, line: number): { file: string; line: number } | undefined {
  const r = data.runs.find((x) => line >= x.bundleLine && line < x.bundleLine + x.count);
  return r === undefined ? undefined : { file: data.files[r.fileIndex]!, line: r.sourceLine + line - r.bundleLine };
}

test('property: random maps round-trip, and lookup agrees with a linear scan', () => {
  fc.assert(fc.property(lineMaps, fc.array(fc.nat(2_000_000), { maxLength: 20 }), (data, probes) => {
    const map = decodeLineMap(encodeLineMap(data));
    assert.deepEqual(map.files, data.files);
    assert.deepEqual(map.runs(), data.runs);
    const edges = data.runs.flatMap((r) => [r.bundleLine - 1, r.bundleLine, r.bundleLine + r.count - 1, r.bundleLine + r.count]);
    for (const line of [...edges, ...probes]) assert.deepEqual(map.lookup(line), linearLookup(data, line), `bundle line ${line}`);
  }));
});

/** A decoded map's invariants: runs sorted and disjoint, lines in range, files present; lookup consistent. */
function checkValid(map: LineMap): void {
  let end = 1;
  for (const r of map.runs()) {
    assert.ok(r.bundleLine >= end && r.count >= 1 && r.bundleLine + r.count - 1 <= LINE_MAP_MAX);
    assert.ok(r.sourceLine >= 1 && r.sourceLine + r.count - 1 <= LINE_MAP_MAX);
    assert.ok(r.fileIndex >= 0 && r.fileIndex < map.files.length);
    assert.deepEqual(map.lookup(r.bundleLine), { file: map.files[r.fileIndex], line: r.sourceLine });
    end = r.bundleLine + r.count;
  }
}

/** Decoding must throw an ImageError or give a valid map: never another error, never a hang. */
function decodesOrRefuses(b: Uint8Array): void {
  let map: LineMap;
  try {
    map = decodeLineMap(b);
  } catch (e) {
    assert.ok(e instanceof ImageError && e.code === 'EBADPAYLOAD', `unexpected ${String(e)}`);
    return;
  }
  checkValid(map);
  assert.deepEqual(encodeLineMap({ files: map.files, runs: map.runs() }), b); // a map that decodes is canonical
}

test('property: arbitrary bytes after the magic throw an ImageError or decode to a valid map', () => {
  const magic = encodeLineMap({ files: [], runs: [] }).subarray(0, 4);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (tail, withMagic) => {
    decodesOrRefuses(withMagic ? Uint8Array.from([...magic, ...tail]) : tail);
  }), { numRuns: 2000 });
});

test('property: mutated valid sections throw an ImageError or decode to a valid map', () => {
  fc.assert(fc.property(lineMaps, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (data, edits, cut) => {
    const b = encodeLineMap(data);
    for (const [at, value] of edits) b[at % b.length] = value;
    decodesOrRefuses(b);
    decodesOrRefuses(b.subarray(0, cut % (b.length + 1)));
  }), { numRuns: 500 });
});
