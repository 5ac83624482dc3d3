// The profiler's symbol table: addresses inside a symbol name it, zero-size labels and gaps name
// nothing; an image without a readable table gives addresses and a warning, never an exception.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageSymbols } from './image_symbols.ts';

test('lookup by address and by name', () => {
  const s = new ImageSymbols([{ address: 0x2000, size: 0x10, name: 'b' }, { address: 0x1000, size: 0x100, name: 'a' }, { address: 0x2000, size: 0, name: 'label' }]);
  assert.equal(s.nameAt(0x1000), 'a');
  assert.equal(s.nameAt(0x10ff), 'a');
  assert.equal(s.nameAt(0x1100), undefined);
  assert.equal(s.nameAt(0x200f), 'b');
  assert.equal(s.nameAt(0xfff), undefined);
  assert.equal(s.addressOf('b'), 0x2000);
  assert.equal(s.addressOf('c'), undefined);
  assert.equal(s.warning, undefined);
});

test('a corrupt or missing table: a warning, and no names', () => {
  for (const image of [new Uint8Array(0), new Uint8Array(64).fill(0x7f), Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, ...new Array(57).fill(0)])]) {
    const s = ImageSymbols.fromImage(image);
    assert.match(s.warning!, /symbol table|no symbol/);
    assert.equal(s.nameAt(0x100000), undefined);
  }
});
