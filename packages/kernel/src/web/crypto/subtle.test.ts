// crypto.subtle against Node's WebCrypto (OpenSSL) as the peer: random inputs give the same
// digests, HMACs, PBKDF2 and HKDF bits; AES-GCM ciphertexts decrypt on the other side; keys
// exported by one (raw, jwk, spki, pkcs8) import into the other and sign or verify there
// (ECDSA P-256, Ed25519, HMAC); and bad input (wrong usages, bad key data, tampered ciphertext,
// unknown or unbundled algorithms, malformed DER) rejects with the spec's DOMException names.

import { strict as assert } from 'node:assert';
import type { webcrypto } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import './sha1.ts';
import './sha256.ts';
import './sha512.ts';
import './hmac.ts';
import './pbkdf2.ts';
import './hkdf.ts';
import './aes_gcm.ts';
import './ecdsa.ts';
import './ed25519.ts';
import { subtle as kilnSubtle, type CryptoKey as KilnKey } from './subtle.ts';

/** Both implementations, called alike (the tests pass each the other's keys' data, not keys). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Subtle = { [K in keyof webcrypto.SubtleCrypto]: (...args: any[]) => Promise<any> };
const ours = kilnSubtle() as unknown as Subtle;
const node = globalThis.crypto.subtle as unknown as Subtle;
const HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const bytes = (max = 200) => fc.uint8Array({ maxLength: max });
const hex = (b: ArrayBuffer): string => Buffer.from(b).toString('hex');

test('digest, HMAC, PBKDF2 and HKDF give Node\'s bytes', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(...HASHES), bytes(), bytes(80), bytes(40), fc.integer({ min: 1, max: 40 }), async (hash, data, key, salt, n) => {
    assert.equal(hex(await ours.digest(hash, data)), hex(await node.digest(hash, data)), `digest ${hash}`);
    if (key.length > 0) {
      const alg = { name: 'HMAC', hash };
      const [k1, k2] = await Promise.all([ours.importKey('raw', key, alg, true, ['sign']), node.importKey('raw', key, alg, true, ['sign'])]);
      assert.equal(hex(await ours.sign('HMAC', k1, data)), hex(await node.sign('HMAC', k2, data)), `HMAC ${hash}`);
      assert.deepEqual(await ours.exportKey('jwk', k1), await node.exportKey('jwk', k2));
    }
    const pbkdf2 = { name: 'PBKDF2', hash, salt, iterations: n };
    const [p1, p2] = await Promise.all([ours.importKey('raw', key, 'PBKDF2', false, ['deriveBits']), node.importKey('raw', key, 'PBKDF2', false, ['deriveBits'])]);
    assert.equal(hex(await ours.deriveBits(pbkdf2, p1, n * 8)), hex(await node.deriveBits(pbkdf2, p2, n * 8)), `PBKDF2 ${hash}`);
    const hkdf = { name: 'HKDF', hash, salt, info: data.subarray(0, 20) };
    const [h1, h2] = await Promise.all([ours.importKey('raw', key, 'HKDF', false, ['deriveBits']), node.importKey('raw', key, 'HKDF', false, ['deriveBits'])]);
    assert.equal(hex(await ours.deriveBits(hkdf, h1, n * 8)), hex(await node.deriveBits(hkdf, h2, n * 8)), `HKDF ${hash}`);
  }), { numRuns: 40 });
});

test('AES-GCM ciphertexts decrypt on the other side; tampering fails', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(128, 192, 256), bytes(300), fc.uint8Array({ minLength: 12, maxLength: 24 }) /* Node 20 refuses IVs under 12 bytes */, fc.option(bytes(30), { nil: undefined }), async (length, data, iv, additionalData) => {
    const raw = crypto.getRandomValues(new Uint8Array(length / 8));
    const [k1, k2] = await Promise.all([ours.importKey('raw', raw, 'AES-GCM', true, ['encrypt', 'decrypt']), node.importKey('raw', raw, 'AES-GCM', true, ['encrypt', 'decrypt'])]);
    const alg = { name: 'AES-GCM', iv, ...(additionalData ? { additionalData } : {}) };
    const c1 = await ours.encrypt(alg, k1, data);
    assert.equal(hex(c1), hex(await node.encrypt(alg, k2, data)));
    assert.equal(hex(await node.decrypt(alg, k2, c1)), hex(data.buffer.slice(0)));
    const bad = new Uint8Array(c1);
    bad[bad.length - 1]! ^= 1;
    await assert.rejects(ours.decrypt(alg, k1, bad), { name: 'OperationError' });
    assert.deepEqual(await ours.exportKey('jwk', k1), await node.exportKey('jwk', k2));
  }), { numRuns: 30 });
});

for (const [name, alg, signAlg] of [
  ['ECDSA P-256', { name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  ['ECDSA P-256 with SHA-384', { name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-384' }],
  ['Ed25519', { name: 'Ed25519' }, { name: 'Ed25519' }],
] as const) {
  test(`${name}: keys and signatures cross between Kiln and Node in every format`, async () => {
    const msg = new TextEncoder().encode('kiln signs this');
    for (const [maker, other] of [[ours, node], [node, ours]] as const) {
      const pair = await maker.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
      for (const format of ['spki', 'raw', 'jwk'] as const) {
        const exported = await maker.exportKey(format, pair.publicKey);
        const pub = await other.importKey(format as 'raw', exported as ArrayBuffer, alg, true, ['verify']);
        const sig = await maker.sign(signAlg, pair.privateKey, msg);
        assert.equal(await other.verify(signAlg, pub, sig, msg), true, `${format} public key from ${maker === ours ? 'Kiln' : 'Node'}`);
        assert.equal(await other.verify(signAlg, pub, sig, new Uint8Array([1, ...msg])), false);
        assert.deepEqual(Buffer.from(await other.exportKey('spki', pub) as ArrayBuffer), Buffer.from(await maker.exportKey('spki', pair.publicKey) as ArrayBuffer));
        // The same JWK, members in the same order (apps compare JSON.stringify output).
        assert.equal(JSON.stringify(await other.exportKey('jwk', pub)), JSON.stringify({ ...(await maker.exportKey('jwk', pair.publicKey) as object), key_ops: ['verify'] }));
      }
      for (const format of ['pkcs8', 'jwk'] as const) {
        const exported = await maker.exportKey(format, pair.privateKey);
        const priv = await other.importKey(format as 'pkcs8', exported as ArrayBuffer, alg, true, ['sign']);
        const sig = await other.sign(signAlg, priv, msg);
        assert.equal(await maker.verify(signAlg, pair.publicKey, sig, msg), true, `${format} private key from ${maker === ours ? 'Kiln' : 'Node'}`);
      }
    }
  });
}

test('bad input rejects with the spec\'s errors', async () => {
  const hmac = await ours.importKey('raw', new Uint8Array(16), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  await assert.rejects(ours.verify('HMAC', hmac, new Uint8Array(32), new Uint8Array(1)), { name: 'InvalidAccessError' });
  await assert.rejects(ours.exportKey('raw', hmac), { name: 'InvalidAccessError' });
  await assert.rejects(ours.importKey('raw', new Uint8Array(16), { name: 'HMAC', hash: 'SHA-256' }, false, ['encrypt']), { name: 'SyntaxError' });
  await assert.rejects(ours.importKey('raw', new Uint8Array(15), 'AES-GCM', false, ['encrypt']), { name: 'DataError' });
  await assert.rejects(ours.digest('MD5', new Uint8Array(1)), (e: Error) => e.name === 'NotSupportedError' && /kiln build bundles/.test(e.message));
  await assert.rejects(ours.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign']), { name: 'NotSupportedError' });
  await assert.rejects(ours.digest('SHA-256', 'text' as unknown as Uint8Array), TypeError);
  const aes = await ours.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) as webcrypto.CryptoKey;
  await assert.rejects(ours.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12), tagLength: 96 }, aes, new Uint8Array(1)), { name: 'NotSupportedError' });
  await assert.rejects(ours.decrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, aes, new Uint8Array(8)), { name: 'OperationError' });
  await assert.rejects(ours.encrypt({ name: 'AES-GCM', iv: new Uint8Array(4) }, aes, new Uint8Array(1)), { name: 'NotSupportedError' });
  await assert.rejects(ours.sign('HMAC', aes, new Uint8Array(1)), { name: 'InvalidAccessError' });
  await assert.rejects(ours.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: new Uint8Array(1), iterations: 0 }, await ours.importKey('raw', new Uint8Array(1), 'PBKDF2', false, ['deriveBits']), 8), { name: 'OperationError' });
  await assert.rejects(ours.importKey('jwk', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']), { name: 'DataError' });
  await assert.rejects(ours.importKey('raw', new Uint8Array(65).fill(4), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']), { name: 'DataError' });
  // Random bytes as SPKI or PKCS #8: a DataError (or NotSupportedError), never a crash or another error.
  await fc.assert(fc.asyncProperty(fc.constantFrom('spki', 'pkcs8'), fc.constantFrom<webcrypto.AlgorithmIdentifier | webcrypto.EcKeyImportParams>({ name: 'ECDSA', namedCurve: 'P-256' }, 'Ed25519'), fc.uint8Array({ maxLength: 100 }), async (format, alg, junk) => {
    const der = new Uint8Array([0x30, junk.length, ...junk]);
    await ours.importKey(format as 'spki', der, alg, true, format === 'spki' ? ['verify'] : ['sign']).then(
      () => undefined,
      (e: Error) => assert.ok(['DataError', 'NotSupportedError'].includes(e.name), `${e.name}: ${e.message}`),
    );
  }));
  const key = (await ours.generateKey({ name: 'HMAC', hash: 'SHA-1' }, true, ['sign'])) as unknown as KilnKey;
  assert.deepEqual([key.type, key.extractable, key.algorithm, key.usages, Object.prototype.toString.call(key)], ['secret', true, { name: 'HMAC', hash: { name: 'SHA-1' }, length: 512 }, ['sign'], '[object CryptoKey]']);
  const derived = await ours.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: new Uint8Array() }, await ours.importKey('raw', new Uint8Array(8), 'HKDF', false, ['deriveKey']), { name: 'AES-GCM', length: 128 }, true, ['encrypt']);
  assert.equal((await ours.exportKey('raw', derived) as ArrayBuffer).byteLength, 16);
});
