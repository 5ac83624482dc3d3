// ChaCha20 against RFC 8439 test vectors (§2.3.2 block, §2.4.2 encryption); SHA-256 against
// FIPS 180-4 examples; the DRBG's getRandomValues rules (quota, integer arrays, entropy needed).

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { chachaBlock, chacha20Xor } from './chacha20.ts';
import { ChaChaDrbg, createGetRandomValues } from './crypto.ts';
import { Sha256 } from './sha256.ts';

const words = (hex: string): Uint32Array => {
  const b = Buffer.from(hex.replace(/[^0-9a-f]/g, ''), 'hex');
  return new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const KEY = words('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

test('chacha20_block_rfc8439_2_3_2', () => {
  const out = new Uint32Array(16);
  chachaBlock(KEY, 1, words('000000090000004a00000000'), out);
  assert.equal(Buffer.from(out.buffer).toString('hex'),
    '10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e' +
    'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e');
});

test('chacha20_encryption_rfc8439_2_4_2', () => {
  const text = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
  const data = new Uint8Array(Buffer.from(text));
  chacha20Xor(KEY, 1, words('000000000000004a00000000'), data);
  assert.equal(Buffer.from(data).toString('hex'),
    '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d');
});

test('sha256_matches_node_for_many_lengths_and_chunkings', () => {
  assert.equal(new Sha256().update(new TextEncoder().encode('abc')).hex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 4096 + 7]) {
    const data = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
    const h = new Sha256();
    for (let o = 0; o < n; o += 13) h.update(data.subarray(o, o + 13));
    assert.equal(h.hex(), createHash('sha256').update(data).digest('hex'), `length ${n}`);
  }
});

test('getRandomValues_quota_types_and_entropy', () => {
  const drbg = new ChaChaDrbg({ deviceSync: () => new Uint8Array(32).fill(7), deviceAsync: () => undefined, cpu: () => -1 });
  const grv = createGetRandomValues(drbg);
  const a = grv(new Uint8Array(64));
  const b = grv(new Uint8Array(64));
  assert.notDeepEqual(a, b);
  assert.equal(grv(new Uint32Array(16384)).length, 16384);
  assert.throws(() => grv(new Uint8Array(65537)), { name: 'QuotaExceededError' });
  assert.throws(() => grv(new Float64Array(4) as unknown as Uint8Array), { name: 'TypeMismatchError' });
  const none = createGetRandomValues(new ChaChaDrbg({ deviceSync: () => undefined, deviceAsync: () => undefined, cpu: () => -1 }));
  assert.throws(() => none(new Uint8Array(4)), /no entropy source/);
});
