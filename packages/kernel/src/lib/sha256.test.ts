// SHA-256 against FIPS 180-4's example and Node's crypto, for many lengths and chunkings.

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Sha256 } from './sha256.ts';

test('sha256_matches_node_for_many_lengths_and_chunkings', () => {
  assert.equal(new Sha256().update(new TextEncoder().encode('abc')).hex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 4096 + 7]) {
    const data = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
    const h = new Sha256();
    for (let o = 0; o < n; o += 13) h.update(data.subarray(o, o + 13));
    assert.equal(h.hex(), createHash('sha256').update(data).digest('hex'), `length ${n}`);
  }
});
