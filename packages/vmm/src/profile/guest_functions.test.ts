// The resolver of JavaScript functions over guest RAM: a well-formed fake engine (descriptor,
// atom table, strings, a bytecode object) gives the function's name, file and line; RAM a guest
// scribbled over gives placeholders or bounded names, never an exception or a read outside RAM
// (fast-check, seeded by @kiln/common/testing/property.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { GuestRam } from '../boot/guest_ram.ts';
import { GuestFunctions } from './guest_functions.ts';
import { DESC, KILN_PROFILE_MAGIC, KILN_PROFILE_VERSION } from './layout.ts';

const SIZE = 64 * 1024;
const ramOf = (bytes: Uint8Array): GuestRam => new GuestRam(bytes, [{ guestPhysAddr: 0x1000, hostOffset: 0, size: SIZE }]);

function fakeEngine(): { ram: GuestRam; bytes: Uint8Array } {
  const bytes = new Uint8Array(SIZE);
  const v = new DataView(bytes.buffer);
  const at = (gpa: number): number => gpa - 0x1000;
  const d = 0x1000;
  v.setUint32(at(d + DESC.magic), KILN_PROFILE_MAGIC, true);
  v.setUint32(at(d + DESC.version), KILN_PROFILE_VERSION, true);
  v.setBigUint64(at(d + DESC.frame_head), 0x1800n, true);
  v.setBigUint64(at(d + DESC.atom_array), 0x2000n, true); // the word holding the array's address
  v.setBigUint64(at(d + DESC.atom_size), 0x2008n, true);
  v.setUint32(at(d + DESC.atom_tag_int), 0x80000000, true);
  v.setUint16(at(d + DESC.b_func_name), 4, true);
  v.setUint16(at(d + DESC.b_debug_flags), 8, true);
  v.setUint16(at(d + DESC.b_filename), 12, true);
  v.setUint16(at(d + DESC.b_line_num), 16, true);
  v.setUint16(at(d + DESC.str_bits), 4, true);
  v.setUint16(at(d + DESC.str_data), 16, true);
  v.setUint32(at(d + DESC.str_len_mask), 0x7fffffff, true);
  v.setUint32(at(d + DESC.str_wide_mask), 0x80000000, true);
  v.setUint8(at(d + DESC.has_debug_mask), 0x20);
  v.setBigUint64(at(0x2000), 0x3000n, true); // atom_array
  v.setInt32(at(0x2008), 3, true); // atom_size
  const strings = ['', 'handleRequest', 'main.js'];
  strings.forEach((text, i) => {
    const str = 0x4000 + i * 0x100;
    v.setBigUint64(at(0x3000 + 8 * i), BigInt(str), true);
    v.setUint32(at(str + 4), text.length, true);
    for (let j = 0; j < text.length; j++) bytes[at(str + 16 + j)] = text.charCodeAt(j);
  });
  const b = 0x5000;
  v.setUint32(at(b + 4), 1, true);
  bytes[at(b + 8)] = 0x20;
  v.setUint32(at(b + 12), 2, true);
  v.setInt32(at(b + 16), 42, true);
  v.setUint32(at(0x6000 + 4), 0x80000007, true); // a function named by an integer atom, no debug info
  return { ram: ramOf(bytes), bytes };
}

test('a function of a well-formed engine: name, file and first line; integer atoms; unknown addresses', () => {
  const { ram } = fakeEngine();
  const f = new GuestFunctions(ram, 0x1000);
  assert.deepEqual(f.resolve(0x5000), { name: 'handleRequest', file: 'main.js', line: 42 });
  assert.deepEqual(f.resolve(0x6000), { name: '7' });
  assert.match(f.resolve(0x900000).name, /^\[js 0x900000\]$/);
});

test('before the engine is up nothing is cached; garbage never throws', () => {
  const { ram, bytes } = fakeEngine();
  new DataView(bytes.buffer).setBigUint64(DESC.frame_head, 0n, true);
  const f = new GuestFunctions(ram, 0x1000);
  assert.deepEqual(f.resolve(0x5000), { name: '[js]' });
  new DataView(bytes.buffer).setBigUint64(DESC.frame_head, 0x1800n, true);
  assert.equal(f.resolve(0x5000).name, 'handleRequest');
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4096, maxLength: 4096 }), fc.nat(SIZE), fc.array(fc.nat(SIZE + 0x2000), { maxLength: 8 }), (junk, where, ptrs) => {
      const { ram: r, bytes: b } = fakeEngine();
      b.set(junk, Math.min(where, SIZE - junk.length));
      const g = new GuestFunctions(r, 0x1000);
      for (const p of ptrs) {
        const info = g.resolve(p + 0x1000);
        assert.ok(info.name.length <= 220 && (info.file ?? '').length <= 200);
      }
    }),
  );
});

test('the stack of a stopped guest: C and bytecode frames, each bytecode frame at the line of its call; a looping or cut list ends', () => {
  const { ram, bytes } = fakeEngine();
  const v = new DataView(bytes.buffer);
  const at = (gpa: number): number => gpa - 0x1000;
  const d = 0x1000;
  const set16 = (f: keyof typeof DESC, n: number): void => v.setUint16(at(d + DESC[f]), n, true);
  set16('sf_prev', 0);
  set16('sf_cur_func', 8);
  set16('value_tag', 8);
  set16('sf_cur_pc', 24);
  v.setInt32(at(d + DESC.tag_object), -1, true);
  set16('obj_class_id', 6);
  set16('obj_bytecode', 48);
  set16('obj_cfunc', 56);
  v.setBigUint64(at(d + DESC.bytecode_classes), 1n << 13n, true);
  v.setUint32(at(d + DESC.cfunction_class), 12, true);
  set16('b_byte_code_buf', 24);
  set16('b_pc2line_len', 32);
  set16('b_pc2line_buf', 40);
  v.setInt8(at(d + DESC.pc2line_base), -1);
  v.setUint8(at(d + DESC.pc2line_range), 5);
  v.setUint8(at(d + DESC.pc2line_op_first), 1);
  // bytecode 0x5000 (handleRequest, line 42): code at 0x5800; line table: pc 10 → line 45 (long
  // form), then pc 12 → line 46 (a short op: 1 + 2 × 5 + (1 − −1))
  v.setBigUint64(at(0x5000 + 24), 0x5800n, true);
  v.setInt32(at(0x5000 + 32), 4, true);
  v.setBigUint64(at(0x5000 + 40), 0x5900n, true);
  bytes.set([0, 10, 6, 13], at(0x5900));
  const frame = (sf: number, prev: number, func: number, curPc: number): void => {
    v.setBigUint64(at(sf), BigInt(prev), true);
    v.setBigUint64(at(sf + 8), BigInt(func), true);
    v.setInt32(at(sf + 16), -1, true); // JS_TAG_OBJECT
    v.setBigUint64(at(sf + 24), BigInt(curPc), true);
  };
  const object = (obj: number, cls: number, ptr: number, field: number): void => {
    v.setUint16(at(obj + 6), cls, true);
    v.setBigUint64(at(obj + field), BigInt(ptr), true);
  };
  object(0x7400, 12, 0x123456, 56); // a C function
  object(0x7500, 13, 0x5000, 48); // a bytecode function
  v.setBigUint64(at(0x1800), 0x7000n, true); // rt->current_stack_frame
  frame(0x7000, 0x7100, 0x7400, 0);
  frame(0x7100, 0x7200, 0x7500, 0x5800 + 11); // called from pc 10: line 45
  frame(0x7200, 0, 0x7500, 0x5800 + 13); // called from pc 12: line 46
  const f = new GuestFunctions(ram, 0x1000);
  assert.deepEqual(f.stack(), [
    { kind: 'native', address: 0x123456 },
    { kind: 'bytecode', fn: { name: 'handleRequest', file: 'main.js', line: 45 }, callLine: 45 },
    { kind: 'bytecode', fn: { name: 'handleRequest', file: 'main.js', line: 45 }, callLine: 46 },
  ]);
  frame(0x7200, 0x7000, 0x7500, 0x5800 + 5); // a loop back to the first frame; pc 4: line 42
  const looped = new GuestFunctions(ram, 0x1000).stack()!;
  assert.equal(looped.length, 64, 'bounded');
  assert.deepEqual(looped[2], { kind: 'bytecode', fn: { name: 'handleRequest', file: 'main.js', line: 45 }, callLine: 42 });
  frame(0x7100, 0x900000, 0x7500, 0x5800 + 11); // the next frame is outside RAM
  assert.equal(new GuestFunctions(ram, 0x1000).stack()!.length, 2);
});
