// The function-names section (payload kind 5): encoding and lookup, the encoder's refusals, the
// decoder's refusals of corrupt sections (always an ImageError, never another error or a read past
// the end), canonical re-encoding, and property tests from the fixed seed (testing/property.ts).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { ImageError } from '../elf/errors.ts';
import { syntheticCore } from '../testing/synthetic_core.ts';
import { assembleImage, readImagePayload } from './assemble.ts';
import { decodeFunctionNames, encodeFunctionNames, formatFunctionName, type FunctionName, type FunctionNames } from './function_names.ts';
import { PAYLOAD_KIND_FUNCTION_NAMES } from './payload.ts';

const sample: FunctionName[] = [
  { line: 3, owner: 'HttpConnection', member: 'serve' },
  { line: 9, owner: 'TcpConn', member: 'sendRoom', accessor: 'get' },
  { line: 10, owner: 'TcpConn', member: 'sendRoom', accessor: 'set' },
  { line: 40, member: 'onFrame' },
  { line: 41, owner: 'HttpConnection', member: '#private' },
  { line: 2_000_000, member: 'ünïcode' },
];

test('function names: round trip, lookup by the line where code starts, the display form', () => {
  const bytes = encodeFunctionNames(sample);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'KFN1');
  const names = decodeFunctionNames(bytes);
  assert.deepEqual(names.entries(), sample);
  assert.equal(names.lookup(3), 'HttpConnection.serve');
  assert.equal(names.lookup(9), 'get TcpConn.sendRoom');
  assert.equal(names.lookup(10), 'set TcpConn.sendRoom');
  assert.equal(names.lookup(40), 'onFrame');
  assert.equal(names.lookup(2_000_000), 'ünïcode');
  for (const line of [0, 1, 4, 39, 42, 2_000_001]) assert.equal(names.lookup(line), undefined);
  assert.equal(decodeFunctionNames(encodeFunctionNames([])).entries().length, 0);
  // repeated names are stored once: the second class's entries cost a few bytes each
  const more = encodeFunctionNames([...sample.slice(0, 5), { line: 50, owner: 'HttpConnection', member: 'serve' }]);
  assert.ok(more.length <= encodeFunctionNames(sample.slice(0, 5)).length + 4);
  assert.equal(formatFunctionName({ member: 'x' }), 'x');
});

test('function names: the encoder refuses lines that are not strictly increasing or out of range', () => {
  assert.throws(() => encodeFunctionNames([{ line: 5, member: 'a' }, { line: 5, member: 'b' }]), RangeError);
  assert.throws(() => encodeFunctionNames([{ line: 5, member: 'a' }, { line: 4, member: 'b' }]), RangeError);
  assert.throws(() => encodeFunctionNames([{ line: 0, member: 'a' }]), RangeError);
  assert.throws(() => encodeFunctionNames([{ line: 2 ** 31, member: 'a' }]), RangeError);
  assert.throws(() => encodeFunctionNames([{ line: 1.5, member: 'a' }]), RangeError);
});

const refuses = (b: Uint8Array, what: RegExp): void => {
  assert.throws(() => decodeFunctionNames(b), (e: unknown) => e instanceof ImageError && e.code === 'EBADPAYLOAD' && what.test(e.message));
};

test('function names: corrupt sections are refused with the reason', () => {
  const good = encodeFunctionNames(sample);
  refuses(good.subarray(0, 3), /bad magic/);
  refuses(Uint8Array.from([...good.subarray(0, 4), 0xff, 0xff, 0xff, 0xff, 0x0f]), /names do not fit/);
  refuses(good.subarray(0, good.length - 1), /cut off/);
  refuses(Uint8Array.from([...good, 0]), /bytes after the last entry/);
  // one name "a", one entry: line delta 0 / owner 2 / member 3 (index 1)
  const one = (delta: number, owner: number, member: number): Uint8Array => Uint8Array.from([...good.subarray(0, 4), 1, 1, 0x61, 1, delta, owner, member]);
  assert.equal(decodeFunctionNames(one(7, 1, 1)).lookup(7), 'get a.a');
  refuses(one(0, 0, 0), /not after the previous entry/);
  refuses(one(1, 2, 0), /owner 1 is not one of the 1 names/);
  refuses(one(1, 0, 3), /member 1 is not one of the 1 names/);
  refuses(Uint8Array.from([...good.subarray(0, 4), 1, 2, 0xc3, 0x28, 0]), /not UTF-8/);
});

test('function names: an image carries the section and gives it back', () => {
  const bytes = encodeFunctionNames(sample);
  const image = assembleImage(syntheticCore({ payloadStart: 0x104000 }), new Uint8Array([1, 2, 3]), undefined, undefined, bytes);
  const section = readImagePayload(image).sections.find((s) => s.kind === PAYLOAD_KIND_FUNCTION_NAMES);
  assert.deepEqual(section?.data, bytes);
});

const names = fc.uniqueArray(fc.integer({ min: 1, max: 5_000_000 }), { maxLength: 60 }).chain((lines) => fc.tuple(
  fc.constant([...lines].sort((a, b) => a - b)),
  fc.array(fc.record({ owner: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }), member: fc.string({ maxLength: 12 }), accessor: fc.constantFrom(undefined, 'get' as const, 'set' as const) }), { minLength: lines.length, maxLength: lines.length }),
)).map(([lines, parts]) => lines.map((line, i): FunctionName => {
  const p = parts[i]!;
  return { line, ...(p.owner !== undefined ? { owner: p.owner } : {}), member: p.member, ...(p.accessor ? { accessor: p.accessor } : {}) };
}));

test('property: random sections round-trip, and lookup agrees with a linear scan', () => {
  fc.assert(fc.property(names, fc.array(fc.nat(5_000_001), { maxLength: 20 }), (entries, probes) => {
    const decoded = decodeFunctionNames(encodeFunctionNames(entries));
    assert.deepEqual(decoded.entries(), entries);
    for (const line of [...entries.flatMap((e) => [e.line - 1, e.line, e.line + 1]), ...probes]) {
      const e = entries.find((x) => x.line === line);
      assert.equal(decoded.lookup(line), e && formatFunctionName(e), `line ${line}`);
    }
  }));
});

/** Decoding must throw an ImageError or give a section that re-encodes to the same bytes. */
function decodesOrRefuses(b: Uint8Array): void {
  let decoded: FunctionNames;
  try {
    decoded = decodeFunctionNames(b);
  } catch (e) {
    assert.ok(e instanceof ImageError && e.code === 'EBADPAYLOAD', `unexpected ${String(e)}`);
    return;
  }
  // strings are interned in first-use order on encoding, so only a section in that order re-encodes byte for byte
  const again = decodeFunctionNames(encodeFunctionNames(decoded.entries()));
  assert.deepEqual(again.entries(), decoded.entries());
}

test('property: arbitrary and mutated sections throw an ImageError or decode to a valid section', () => {
  const magic = encodeFunctionNames([]).subarray(0, 4);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => decodesOrRefuses(Uint8Array.from([...magic, ...tail]))), { numRuns: 2000 });
  fc.assert(fc.property(names, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (entries, edits, cut) => {
    const b = encodeFunctionNames(entries);
    for (const [at, value] of edits) b[at % b.length] = value;
    decodesOrRefuses(b);
    decodesOrRefuses(b.subarray(0, cut % (b.length + 1)));
  }), { numRuns: 500 });
});
