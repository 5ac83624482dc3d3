// Tests of the bootfs format: golden bytes of a small tree, round trips of random trees, and
// property tests that parsing arbitrary or mutated sections throws nothing but BootfsError
// and that a section that parses can be walked without any access going out of bounds;
// assembleImage carries it as payload section kind 3.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { syntheticCore } from '../testing/synthetic_core.ts';
import { assembleImage, readImagePayload } from './assemble.ts';
import { PAYLOAD_KIND_BOOTFS, PAYLOAD_KIND_BYTECODE, PAYLOAD_KIND_SYMBOLS } from './payload.ts';
import { BootfsError, BootfsImage, encodeBootfs, type BootfsDir, type BootfsEntry } from './bootfs.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const dir = (entries: Record<string, BootfsEntry>, mtimeMs = 0): BootfsDir => ({ type: 'dir', entries: new Map(Object.entries(entries)), mtimeMs });
const file = (text: string, mtimeMs = 0): BootfsEntry => ({ type: 'file', data: new TextEncoder().encode(text), mtimeMs });

test('encodeBootfs_golden_bytes', () => {
  const img = encodeBootfs(dir({ 'b.txt': file('hi', 0x1_0000_0002), a: dir({}, 5) }, 7), '/');
  assert.equal(
    hex(img),
    '4b494c4e42465331' + '01000000' + '03000000' + // magic, v1, 3 nodes
      '88000000' + '07000000' + // names at 136, 7 bytes ("/", "a", "b.txt")
      '90000000' + '08000000' + // data at 144, 8 bytes
      '00000000' + '01000000' + // mount point "/" at name 0, 1 byte
      '02000000' + '00000000' + '00000000' + '00000000' + '01000000' + '02000000' + '07000000' + '00000000' + // root: dir, entries 1+2, mtime 7
      '02000000' + '00000000' + '01000000' + '01000000' + '00000000' + '00000000' + '05000000' + '00000000' + // "a": empty dir, mtime 5
      '01000000' + '00000000' + '02000000' + '05000000' + '00000000' + '02000000' + '02000000' + '01000000' + // "b.txt": file at 0, 2 bytes, mtime 2^32+2
      '2f' + '61' + '622e747874' + '00' + // names, padding to 144
      '6869000000000000',
  );
  const p = BootfsImage.parse(img);
  assert.equal(p.mountPoint, '/');
  assert.deepEqual(p.children(0).map((i) => p.node(i).name), ['a', 'b.txt']);
  assert.deepEqual(p.node(2), { index: 2, type: 'file', name: 'b.txt', parent: 0, size: 2, mtimeMs: 0x1_0000_0002 });
  assert.equal(new TextDecoder().decode(p.data(2)), 'hi');
  assert.equal(p.childNamed(0, new TextEncoder().encode('b.txt')), 2);
  assert.equal(p.childNamed(0, new TextEncoder().encode('c')), -1);
});

test('encodeBootfs_refuses_bad_names_and_mount_points', () => {
  for (const name of ['', '.', '..', 'a/b', 'nul\0', 'x'.repeat(256)]) {
    assert.throws(() => encodeBootfs(dir({ [name]: file('') })), BootfsError, JSON.stringify(name));
  }
  for (const m of ['', 'rel', '/a/', '/a//b', '/a/../b']) assert.throws(() => encodeBootfs(dir({}), m), BootfsError, m);
  assert.equal(BootfsImage.parse(encodeBootfs(dir({}), '/srv/www')).mountPoint, '/srv/www');
});

// Random trees: names from a small alphabet (collisions exercise the sorting), unicode too.
const nameArb = fc.oneof(fc.stringMatching(/^[a-c]{1,3}$/), fc.constantFrom('é', 'Ω', '日本', 'a.b', ' x'));
const treeArb: fc.Arbitrary<BootfsDir> = fc.letrec<{ dir: BootfsDir; entry: BootfsEntry }>((tie) => ({
  dir: fc.record({
    type: fc.constant('dir' as const),
    entries: fc.array(fc.tuple(nameArb, tie('entry')), { maxLength: 4 }).map((es) => new Map(es)),
    mtimeMs: fc.nat(),
  }),
  entry: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.record({ type: fc.constant('file' as const), data: fc.uint8Array({ maxLength: 20 }), mtimeMs: fc.nat() }), tie('dir')),
})).dir;

function walk(img: BootfsImage, index: number): unknown {
  const n = img.node(index);
  if (n.type === 'file') return { file: Array.from(img.data(index)), mtimeMs: n.mtimeMs };
  return { dir: img.children(index).map((c) => [img.node(c).name, walk(img, c)]), mtimeMs: n.mtimeMs };
}
function expected(e: BootfsEntry): unknown {
  if (e.type === 'file') return { file: Array.from(e.data), mtimeMs: e.mtimeMs };
  const sorted = [...e.entries].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return { dir: sorted.map(([n, c]) => [n, expected(c)]), mtimeMs: e.mtimeMs };
}

test('bootfs_round_trip_and_lookup', () => {
  fc.assert(fc.property(treeArb, (tree) => {
    const img = encodeBootfs(tree);
    assert.equal(img.length % 8, 0);
    const p = BootfsImage.parse(img);
    assert.deepEqual(walk(p, 0), expected(tree));
    const unaligned = new Uint8Array(img.length + 1).subarray(1); // the DataView path of the reader
    unaligned.set(img);
    assert.deepEqual(walk(BootfsImage.parse(unaligned), 0), expected(tree));
    for (let i = 1; i < p.nodeCount; i++) {
      const n = p.node(i);
      assert.equal(p.childNamed(n.parent, new TextEncoder().encode(n.name)), i);
      if (n.type === 'file') assert.equal((p.data(i).byteOffset - img.byteOffset) % 8, 0);
    }
  }));
});

test('parse_arbitrary_or_mutated_bytes_only_throws_BootfsError', () => {
  const check = (b: Uint8Array): void => {
    let p: BootfsImage;
    try {
      p = BootfsImage.parse(b);
    } catch (e) {
      if (!(e instanceof BootfsError)) throw e;
      return;
    }
    // What parses can be walked: every access stays inside the section.
    walk(p, 0);
    for (let i = 0; i < p.nodeCount; i++) {
      const d = p.data(i);
      assert.ok(d.byteOffset + d.length <= b.byteOffset + b.length);
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check));
  const good = encodeBootfs(dir({ x: dir({ y: file('12345678901'), z: dir({}) }), w: file('abc') }), '/assets');
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(good.length), (muts, cut) => {
    const b = good.slice(0, cut);
    for (const [i, v] of muts) if (i < b.length) b[i] = v;
    check(b);
  }), { numRuns: 5000 });
});

test('parse_names_the_problem', () => {
  const good = encodeBootfs(dir({ a: file('x'), b: file('y') }));
  const bad = (mutate: (v: DataView) => void): string => {
    const b = good.slice();
    mutate(new DataView(b.buffer));
    try {
      BootfsImage.parse(b);
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(bad(() => {}), 'ok');
  assert.equal(bad((v) => v.setUint8(0, 0)), 'bootfs: bad magic (expected "KILNBFS1")');
  assert.equal(bad((v) => v.setUint32(8, 2, true)), 'bootfs: version 2, expected 1');
  assert.equal(bad((v) => v.setUint32(12, 1000, true)), 'bootfs: 1000 nodes do not fit in 160 bytes');
  // Swap the two names: "b" then "a" is not sorted.
  assert.equal(bad((v) => { v.setUint32(40 + 32 + 8, 2, true); v.setUint32(40 + 64 + 8, 1, true); }), 'bootfs: node 2: names of directory 0 are not sorted and unique');
  assert.equal(bad((v) => v.setUint32(40 + 64 + 20, 100, true)), 'bootfs: node 2: data 8+100 is past the data area (16 bytes)');
  assert.equal(bad((v) => v.setUint32(40 + 64 + 4, 1, true)), 'bootfs: node 2: not among the entries of its parent 1');
});

test('assembleImage_adds_the_bootfs_section_8_byte_aligned', () => {
  const bootfs = encodeBootfs(dir({ 'index.html': file('<h1>hi</h1>') }));
  const { sections } = readImagePayload(assembleImage(syntheticCore({ payloadStart: 0x104000 }), new Uint8Array(3), bootfs));
  assert.deepEqual(sections.map((s) => s.kind), [PAYLOAD_KIND_BYTECODE, PAYLOAD_KIND_SYMBOLS, PAYLOAD_KIND_BOOTFS]);
  assert.equal(sections[2]!.data.byteOffset % 8, 0);
  const p = BootfsImage.parse(sections[2]!.data);
  assert.equal(new TextDecoder().decode(p.data(p.childNamed(0, new TextEncoder().encode('index.html')))), '<h1>hi</h1>');
});
