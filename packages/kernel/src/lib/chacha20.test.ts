// ChaCha20 against RFC 8439 test vectors (§2.3.2 block, §2.4.2 encryption).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { chachaBlock, chacha20Xor } from './chacha20.ts';

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
