// FUSE codecs: struct sizes against fuse.h, golden bytes, round trips, u64 edge cases, names,
// directory records, and properties: decoders never throw on any bytes (names within 1..255),
// directory records round-trip.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import { decodeUtf8, encodeUtf8 } from '../text/utf8.ts';
import {
  ATTR, ATTR_OUT, BATCH_FORGET_IN, CREATE_IN, DIRENT_HEAD, DT_DIR, DT_REG, ENTRY_OUT, FLUSH_IN, FORGET_IN, FORGET_ONE, FSYNC_IN, FUSE_INIT,
  FUSE_LOOKUP, GETATTR_IN, IN_HEADER, INIT_IN, INIT_OUT, MKDIR_IN, OPEN_IN, OPEN_OUT, OUT_HEADER, READ_IN, RELEASE_IN, RENAME2_IN, RENAME_IN,
  SETATTR_IN, STATFS_OUT, U64_UNSAFE, WRITE_IN, WRITE_OUT, badComponent, direntSize, encodeDirent, errnoName, getU64, parseDirents,
  readCString, setU64, type FuseAttr,
} from './fuse.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('struct_sizes_match_fuse_h', () => {
  const sizes: [string, number, number][] = [
    ['fuse_in_header', IN_HEADER.size, 40], ['fuse_out_header', OUT_HEADER.size, 16], ['fuse_attr', ATTR.size, 88],
    ['fuse_entry_out', ENTRY_OUT.size, 128], ['fuse_attr_out', ATTR_OUT.size, 104], ['fuse_init_in', INIT_IN.size, 64],
    ['fuse_init_out', INIT_OUT.size, 64], ['fuse_forget_in', FORGET_IN.size, 8], ['fuse_forget_one', FORGET_ONE.size, 16],
    ['fuse_batch_forget_in', BATCH_FORGET_IN.size, 8], ['fuse_getattr_in', GETATTR_IN.size, 16], ['fuse_setattr_in', SETATTR_IN.size, 88],
    ['fuse_mkdir_in', MKDIR_IN.size, 8], ['fuse_rename_in', RENAME_IN.size, 8], ['fuse_rename2_in', RENAME2_IN.size, 16],
    ['fuse_open_in', OPEN_IN.size, 8], ['fuse_create_in', CREATE_IN.size, 16], ['fuse_open_out', OPEN_OUT.size, 16],
    ['fuse_release_in', RELEASE_IN.size, 24], ['fuse_flush_in', FLUSH_IN.size, 24], ['fuse_read_in', READ_IN.size, 40],
    ['fuse_write_in', WRITE_IN.size, 40], ['fuse_write_out', WRITE_OUT.size, 8], ['fuse_statfs_out', STATFS_OUT.size, 80],
    ['fuse_fsync_in', FSYNC_IN.size, 16], ['fuse_dirent', DIRENT_HEAD.size, 24],
  ];
  for (const [name, got, want] of sizes) assert.equal(got, want, name);
});

test('in_header_golden_bytes', () => {
  const b = new Uint8Array(40);
  IN_HEADER.encode({ len: 0x35, opcode: FUSE_LOOKUP, unique: 0x0102030405, nodeid: 1, uid: 1000, gid: 100, pid: 7, totalExtlen: 0 }, b);
  assert.equal(hex(b), '35000000' + '01000000' + '0504030201000000' + '0100000000000000' + 'e8030000' + '64000000' + '07000000' + '0000' + '0000');
  assert.deepEqual(IN_HEADER.decode(b), { len: 0x35, opcode: 1, unique: 0x0102030405, nodeid: 1, uid: 1000, gid: 100, pid: 7, totalExtlen: 0 });
});

test('out_header_golden_bytes_negative_errno', () => {
  const b = new Uint8Array(16);
  OUT_HEADER.encode({ len: 16, error: -2, unique: 9 }, b);
  assert.equal(hex(b), '10000000' + 'feffffff' + '0900000000000000');
  assert.equal(OUT_HEADER.decode(b)!.error, -2);
});

test('init_out_golden_bytes', () => {
  const b = new Uint8Array(64).fill(0xaa);
  INIT_OUT.encode({ major: 7, minor: 38, maxReadahead: 0x100000, flags: FUSE_INIT, maxBackground: 16, congestionThreshold: 12, maxWrite: 0x100000, timeGran: 1, maxPages: 256, mapAlignment: 0, flags2: 0 }, b);
  assert.equal(hex(b.subarray(0, 36)), '07000000' + '26000000' + '00001000' + '1a000000' + '1000' + '0c00' + '00001000' + '01000000' + '0001' + '0000' + '00000000');
  assert.ok(b.subarray(36).every((x) => x === 0), 'unused words are zeroed');
});

const attr = (ino: number): FuseAttr => ({
  ino, size: 5_000_000_000, blocks: 8, atime: 1_700_000_000, mtime: 1_700_000_001, ctime: 1_700_000_002, atimensec: 1, mtimensec: 2,
  ctimensec: 3, mode: 0o100644, nlink: 1, uid: 0, gid: 0, rdev: 0, blksize: 4096, flags: 0,
});

test('entry_out_round_trip_and_attr_offsets', () => {
  const b = new Uint8Array(128);
  const e = { nodeid: 42, generation: 0, entryValid: 1, attrValid: 1, entryValidNsec: 0, attrValidNsec: 500, attr: attr(77) };
  ENTRY_OUT.encode(e, b);
  assert.deepEqual(ENTRY_OUT.decode(b), e);
  const v = new DataView(b.buffer);
  assert.equal(v.getUint32(40, true), 77, 'attr.ino at 40');
  assert.equal(v.getUint32(48, true), 5_000_000_000 % 2 ** 32, 'attr.size low word at 48');
  assert.equal(v.getUint32(52, true), 1, 'attr.size high word');
  assert.equal(v.getUint32(40 + 60, true), 0o100644, 'attr.mode at 60 in fuse_attr');
  assert.equal(ATTR_OUT.decode(new Uint8Array(103)), null);
});

test('u64_beyond_2_53_decodes_to_unsafe_and_encodes_as_all_ones', () => {
  const v = new DataView(new ArrayBuffer(8));
  v.setUint32(0, 0, true);
  v.setUint32(4, 0x20_0000, true);
  assert.equal(getU64(v, 0), U64_UNSAFE);
  v.setUint32(4, 0x1f_ffff, true);
  v.setUint32(0, 0xffff_ffff, true);
  assert.equal(getU64(v, 0), Number.MAX_SAFE_INTEGER);
  setU64(v, 0, U64_UNSAFE);
  assert.equal(hex(new Uint8Array(v.buffer)), 'ffffffffffffffff');
  setU64(v, 0, -5);
  assert.equal(hex(new Uint8Array(v.buffer)), '0000000000000000', 'negative times clamp to 0');
});

test('decoders_return_null_when_short', () => {
  assert.equal(IN_HEADER.decode(new Uint8Array(39)), null);
  assert.equal(READ_IN.decode(new Uint8Array(48), 9), null);
  assert.equal(READ_IN.decode(new Uint8Array(48), -1), null);
  assert.notEqual(READ_IN.decode(new Uint8Array(48), 8), null);
});

test('names_and_components', () => {
  const b = new Uint8Array([0x61, 0x62, 0, 0x63]);
  assert.deepEqual(readCString(b, 0), { name: new Uint8Array([0x61, 0x62]), next: 3 });
  assert.equal(readCString(b, 3), null, 'no NUL before the end');
  assert.equal(readCString(b, 0, 2), null, 'NUL past end');
  const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
  assert.equal(badComponent(enc('a.txt')), undefined);
  assert.equal(badComponent(enc('...')), undefined);
  assert.equal(badComponent(enc('.hidden')), undefined);
  for (const bad of ['', '.', '..', 'a/b', '/', '/etc', 'a\0b']) assert.equal(badComponent(enc(bad)), 'EINVAL', JSON.stringify(bad));
  assert.equal(badComponent(new Uint8Array(256).fill(0x61)), 'ENAMETOOLONG');
  assert.equal(badComponent(new Uint8Array(255).fill(0x61)), undefined);
});

test('dirents_golden_and_round_trip', () => {
  const out = new Uint8Array(200);
  const end = encodeDirent({ ino: 5, off: 1, type: DT_REG, name: encodeUtf8('hello') }, out, 0);
  assert.equal(end, 32);
  assert.equal(hex(out.subarray(0, 32)), '0500000000000000' + '0100000000000000' + '05000000' + '08000000' + '68656c6c6f000000');
  const end2 = encodeDirent({ ino: 6, off: 2, type: DT_DIR, name: encodeUtf8('sub') }, out, end);
  assert.equal(encodeDirent({ ino: 7, off: 3, type: DT_REG, name: encodeUtf8('x') }, out, end2, end2 + 31), -1, 'does not fit');
  const { entries, malformed } = parseDirents(out.subarray(0, end2), false);
  assert.equal(malformed, false);
  assert.deepEqual(entries.map((e) => [e.ino, e.off, e.type, decodeUtf8(e.name)]), [[5, 1, DT_REG, 'hello'], [6, 2, DT_DIR, 'sub']]);
  const plus = new Uint8Array(400);
  const entry = { nodeid: 9, generation: 0, entryValid: 1, attrValid: 1, entryValidNsec: 0, attrValidNsec: 0, attr: attr(6) };
  const pend = encodeDirent({ ino: 6, off: 1, type: DT_DIR, name: encodeUtf8('sub'), entry }, plus, 0);
  assert.equal(pend, direntSize(3, true));
  assert.equal(pend, 128 + 32);
  const p = parseDirents(plus.subarray(0, pend), true);
  assert.deepEqual(p.entries[0]!.entry, entry);
  assert.equal(parseDirents(out.subarray(0, 20), false).malformed, true);
});

test('errno_names', () => {
  assert.equal(errnoName(2), 'ENOENT');
  assert.equal(errnoName(30), 'EROFS');
  assert.equal(errnoName(9999), undefined);
});

test('property_decoders_never_throw_on_any_bytes', () => {
  const codecs = [IN_HEADER, OUT_HEADER, ATTR, ENTRY_OUT, ATTR_OUT, INIT_IN, INIT_OUT, SETATTR_IN, READ_IN, WRITE_IN, STATFS_OUT, DIRENT_HEAD];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -4, max: 310 }), fc.boolean(), (b, at, plus) => {
      for (const c of codecs) c.decode(b, at);
      parseDirents(b, plus);
      readCString(b, at, b.length);
      badComponent(b);
      const p = parseDirents(b, plus);
      for (const e of p.entries) assert.ok(e.name.length >= 1 && e.name.length <= 255);
      assert.ok(p.entries.length * direntSize(1, plus) <= b.length);
    }),
    { numRuns: runs(2000) },
  );
});

test('property_dirents_round_trip', () => {
  const dirent = fc.record({
    ino: fc.maxSafeNat(), off: fc.maxSafeNat(), type: fc.integer({ min: 0, max: 15 }), name: fc.uint8Array({ minLength: 1, maxLength: 255 }),
  });
  fc.assert(
    fc.property(fc.array(dirent, { maxLength: 6 }), fc.boolean(), (ds, plus) => {
      const entry = { nodeid: 9, generation: 1, entryValid: 2, attrValid: 3, entryValidNsec: 4, attrValidNsec: 5, attr: attr(7) };
      const all = ds.map((d) => (plus ? { ...d, entry } : { ...d }));
      const out = new Uint8Array(all.reduce((n, d) => n + direntSize(d.name.length, plus), 0));
      let at = 0;
      for (const d of all) at = encodeDirent(d, out, at);
      assert.equal(at, out.length);
      assert.deepEqual(parseDirents(out, plus), { entries: all, malformed: false });
      // A cut before the end of the last record's name is malformed and keeps the records before
      // it; a cut in its alignment padding only still yields it (the name is all there).
      const last = all.at(-1);
      if (last) {
        const nameEnd = out.length - direntSize(last.name.length, plus) + (plus ? ENTRY_OUT.size : 0) + DIRENT_HEAD.size + last.name.length;
        const cut = parseDirents(out.subarray(0, nameEnd - 1), plus);
        assert.deepEqual(cut, { entries: all.slice(0, -1), malformed: true });
        assert.deepEqual(parseDirents(out.subarray(0, nameEnd), plus), { entries: all, malformed: false });
      }
    }),
  );
});

test('property_struct_round_trip', () => {
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const u64 = fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constant(U64_UNSAFE));
  fc.assert(
    fc.property(u64, u64, u32, u32, u64, u32, (fh, offset, size, readFlags, lockOwner, flags) => {
      const r = { fh, offset, size, readFlags, lockOwner, flags };
      const b = new Uint8Array(READ_IN.size);
      READ_IN.encode(r, b);
      assert.deepEqual(READ_IN.decode(b), r);
    }),
  );
});
