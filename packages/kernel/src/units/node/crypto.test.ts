// node:crypto's subset (crypto.ts) against Node's own: createHash and createHmac for every
// algorithm, random data split into random update() calls and every output encoding;
// timingSafeEqual's answers and its length error; the Digest-already-called rule.

import { strict as assert } from 'node:assert';
import * as nodeCrypto from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { createHash, createHmac, timingSafeEqual } from './crypto.ts';

test('createHash and createHmac give Node\'s digests', () => {
  const alg = fc.constantFrom('md5', 'sha1', 'sha256', 'sha384', 'sha512', 'SHA256');
  const enc = fc.constantFrom(undefined, 'hex', 'base64', 'base64url', 'latin1');
  fc.assert(fc.property(alg, fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }), fc.uint8Array({ maxLength: 70 }), enc, (a, parts, key, e) => {
    const ours = createHash(a);
    const node = nodeCrypto.createHash(a);
    const oursMac = createHmac(a, key);
    const nodeMac = nodeCrypto.createHmac(a, key);
    for (const p of parts) {
      ours.update(p);
      node.update(p);
      oursMac.update(p);
      nodeMac.update(p);
    }
    const show = (v: unknown): string => (typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('hex'));
    assert.equal(show(e ? ours.digest(e) : ours.digest()), show(e ? node.digest(e as nodeCrypto.BinaryToTextEncoding) : node.digest()));
    assert.equal(show(e ? oursMac.digest(e) : oursMac.digest()), show(e ? nodeMac.digest(e as nodeCrypto.BinaryToTextEncoding) : nodeMac.digest()));
  }));
  const h = createHash('sha256');
  h.digest();
  assert.throws(() => h.digest(), /Digest already called/);
  assert.throws(() => createHash('whirlpool'), /Digest method not supported: whirlpool/);
});

test('timingSafeEqual as Node', () => {
  assert.equal(timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')), true);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.throws(() => timingSafeEqual(new Uint8Array(1), new Uint8Array(2)), RangeError);
});
