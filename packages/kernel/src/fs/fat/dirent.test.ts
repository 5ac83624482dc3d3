// Golden bytes for directory entries: a short entry with NT case bits and two LFN names as
// mtools 4.0.32 wrote them ("abc.txt", "Mixed.TXT", "a long name.text"), parsed and emitted
// back byte for byte; the LFN checksum; DOS date/time both ways.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { emitLfn, emitShort, fromDosTime, lfnChars, lfnChecksum, parseShort, toDosTime } from './dirent.ts';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/ /g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const ABC = '41 42 43 20 20 20 20 20 54 58 54 20 18 00 29 27 76 5d 76 5d 00 00 29 27 76 5d 02 00 03 00 00 00';
const MIXED_LFN = '41 4d 00 69 00 78 00 65 00 64 00 0f 00 46 2e 00 54 00 58 00 54 00 00 00 ff ff 00 00 ff ff ff ff';
const LONG_LFN_2 = '42 65 00 78 00 74 00 00 00 ff ff 0f 00 bd ff ff ff ff ff ff ff ff ff ff ff ff 00 00 ff ff ff ff';
const LONG_LFN_1 = '01 61 00 20 00 6c 00 6f 00 6e 00 0f 00 bd 67 00 20 00 6e 00 61 00 6d 00 65 00 00 00 2e 00 74 00';

test('short_entry_golden', () => {
  const e = parseShort(hex(ABC), 0);
  assert.deepEqual(e, {
    rawName: 'ABC     TXT', attr: 0x20, ntCase: 0x18, ctimeTenth: 0, ctime: 0x2729, cdate: 0x5d76, adate: 0x5d76,
    cluster: 2, mtime: 0x2729, mdate: 0x5d76, size: 3,
  });
  const out = new Uint8Array(32);
  emitShort(e, out, 0);
  assert.equal(toHex(out), toHex(hex(ABC)));
  assert.equal(fromDosTime(e.mdate, e.mtime), Date.UTC(2026, 10, 22, 4, 57, 18));
});

test('short_entry_fat32_high_cluster_word', () => {
  const out = new Uint8Array(64);
  emitShort({ ...parseShort(hex(ABC), 0), cluster: 0x0123abcd, size: 0xfffffffe }, out, 32);
  assert.equal(toHex(out.subarray(52, 54)), '2301');
  assert.equal(toHex(out.subarray(58, 60)), 'cdab');
  assert.equal(parseShort(out, 32).cluster, 0x0123abcd);
  assert.equal(parseShort(out, 32).size, 0xfffffffe);
});

test('lfn_checksum_golden', () => {
  assert.equal(lfnChecksum('MIXED   TXT'), 0x46);
  assert.equal(lfnChecksum('ALONGN~1TEX'), 0xbd);
});

test('lfn_entries_golden', () => {
  const out = new Uint8Array(32);
  emitLfn('Mixed.TXT', 1, true, 0x46, out, 0);
  assert.equal(toHex(out), toHex(hex(MIXED_LFN)));
  emitLfn('a long name.text', 2, true, 0xbd, out, 0);
  assert.equal(toHex(out), toHex(hex(LONG_LFN_2)));
  emitLfn('a long name.text', 1, false, 0xbd, out, 0);
  assert.equal(toHex(out), toHex(hex(LONG_LFN_1)));
  assert.equal(lfnChars(hex(LONG_LFN_2), 0) + '', 'ext');
  assert.equal(lfnChars(hex(LONG_LFN_1), 0), 'a long name.t');
  assert.equal(lfnChars(hex(MIXED_LFN), 0), 'Mixed.TXT');
});

test('lfn_exactly_13_units_has_no_terminator', () => {
  const out = new Uint8Array(32);
  emitLfn('abcdefghijklm', 1, true, 0, out, 0);
  assert.equal(lfnChars(out, 0), 'abcdefghijklm');
  assert.equal(toHex(out.subarray(28, 32)), '6c006d00');
});

test('dos_time_round_trip_and_clamps', () => {
  const t = Date.UTC(2024, 1, 29, 23, 59, 59, 990);
  const d = toDosTime(t);
  assert.equal(fromDosTime(d.date, d.time, d.tenth), t);
  assert.equal(fromDosTime(d.date, d.time), Date.UTC(2024, 1, 29, 23, 59, 58));
  assert.deepEqual(toDosTime(0), { date: (1 << 5) | 1, time: 0, tenth: 0 });
  assert.equal(fromDosTime(toDosTime(Date.UTC(2200, 0, 1)).date, 0), Date.UTC(2107, 11, 31));
  assert.equal(fromDosTime(0, 0), 0);
  fc.assert(fc.property(fc.integer({ min: Date.UTC(1980, 0, 1), max: Date.UTC(2107, 11, 31) }), (ms) => {
    const x = toDosTime(ms);
    const back = fromDosTime(x.date, x.time, x.tenth);
    assert.ok(back <= ms && ms - back < 10, `${ms} -> ${back}`);
  }));
});
