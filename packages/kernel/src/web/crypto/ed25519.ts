// Ed25519 for crypto.subtle (Secure Curves in WebCrypto, as Node and browsers ship it): generate,
// import and export (raw and spki public keys, pkcs8 private keys, jwk both), sign and verify
// (RFC 8032). noble's ed25519 (BigInt: the app gets the BigInt core). Bundled when the app names
// 'Ed25519' (subtle.ts).

import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeBase64Url, encodeBase64Url } from '../base64.ts';
import { BIT_STRING, expectTag, OCTET_STRING, OID, readOne, readPkcs8, readSpki, sameBytes, SEQUENCE, INTEGER, tlv } from './der.ts';
import { randomBytes } from './random.ts';
import { allowUsages, checkJwkUse, dataError, keyMaterial, newKey, notSupported, registerAlgorithm, syntaxError, type CryptoKey, type JsonWebKey, type KeyUsage } from './subtle.ts';

const ED25519_OID = new Uint8Array([0x2b, 0x65, 0x70]); // 1.3.101.112

interface EdKey {
  seed?: Uint8Array;
  pub: Uint8Array;
}

function publicKey(pub: Uint8Array, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  if (pub.length !== 32) throw dataError('An Ed25519 public key is 32 bytes');
  try {
    ed25519.Point.fromBytes(pub);
  } catch {
    throw dataError('The Ed25519 public key is not a point on the curve');
  }
  return newKey('public', extractable, { name: 'Ed25519' }, allowUsages(usages, ['verify'], 'public', 'Ed25519'), { pub: pub.slice() } satisfies EdKey);
}

function privateKey(seed: Uint8Array, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  if (seed.length !== 32) throw dataError('An Ed25519 private key is 32 bytes');
  return newKey('private', extractable, { name: 'Ed25519' }, allowUsages(usages, ['sign'], 'private', 'Ed25519'), { seed, pub: ed25519.getPublicKey(seed) } satisfies EdKey);
}

function checkOid(algorithm: { tag: number; value: Uint8Array }[]): void {
  if (algorithm.length !== 1 || !sameBytes(expectTag(algorithm[0], OID, 'the algorithm OID'), ED25519_OID)) throw dataError('The key is not an Ed25519 key');
}

function member(jwk: JsonWebKey, name: 'x' | 'd'): Uint8Array {
  const v = jwk[name];
  const bytes = typeof v === 'string' ? decodeBase64Url(v) : null;
  if (bytes === null || bytes.length !== 32) throw dataError(`The JWK's "${name}" is not a 32-byte base64url value`);
  return bytes;
}

registerAlgorithm('Ed25519', {
  generateKey(_params, extractable, usages) {
    for (const u of usages) if (u !== 'sign' && u !== 'verify') throw syntaxError(`Ed25519 keys are for sign and verify, not ${u}`);
    const seed = randomBytes(32);
    return {
      privateKey: privateKey(seed, extractable, usages.filter((u) => u === 'sign')),
      publicKey: publicKey(ed25519.getPublicKey(seed), true, usages.filter((u) => u === 'verify')),
    };
  },
  importKey(format, keyData, _params, extractable, usages) {
    if (format === 'raw') return publicKey(keyData as Uint8Array, extractable, usages);
    if (format === 'spki') {
      const { algorithm, key } = readSpki(keyData as Uint8Array);
      checkOid(algorithm);
      return publicKey(key, extractable, usages);
    }
    if (format === 'pkcs8') {
      const { algorithm, key } = readPkcs8(keyData as Uint8Array);
      checkOid(algorithm);
      return privateKey(readOne(key, OCTET_STRING, 'the CurvePrivateKey').value.slice(), extractable, usages);
    }
    const jwk = keyData as JsonWebKey;
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw dataError('An Ed25519 JWK has "kty": "OKP" and "crv": "Ed25519"');
    if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') throw dataError(`The JWK's "alg" ${String(jwk.alg)} is not EdDSA`);
    checkJwkUse(jwk, usages, 'sig');
    const pub = member(jwk, 'x');
    if (jwk.d === undefined) return publicKey(pub, extractable, usages);
    const key = privateKey(member(jwk, 'd'), extractable, usages);
    if (!sameBytes(keyMaterial<EdKey>(key).pub, pub)) throw dataError('The JWK\'s "d" does not match its "x"');
    return key;
  },
  exportKey(format, key) {
    const { seed, pub } = keyMaterial<EdKey>(key);
    if (format === 'jwk') {
      // Members in Node's order.
      return seed === undefined
        ? { key_ops: key.usages, ext: true, crv: 'Ed25519', x: encodeBase64Url(pub), kty: 'OKP', alg: 'Ed25519' }
        : { key_ops: key.usages, ext: true, crv: 'Ed25519', d: encodeBase64Url(seed), x: encodeBase64Url(pub), kty: 'OKP', alg: 'Ed25519' };
    }
    const algorithm = tlv(SEQUENCE, tlv(OID, ED25519_OID));
    if (key.type === 'public') {
      if (format === 'raw') return pub.slice();
      if (format === 'spki') return tlv(SEQUENCE, algorithm, tlv(BIT_STRING, [0], pub));
      throw dataError(`An Ed25519 public key exports as raw, spki or jwk, not ${format}`);
    }
    if (format !== 'pkcs8') throw notSupported(`An Ed25519 private key exports as pkcs8 or jwk, not ${format}`);
    return tlv(SEQUENCE, tlv(INTEGER, [0]), algorithm, tlv(OCTET_STRING, tlv(OCTET_STRING, seed!)));
  },
  sign(_params, key, data) {
    if (key.type !== 'private') throw dataError('Ed25519 signs with a private key');
    return ed25519.sign(data, keyMaterial<EdKey>(key).seed!);
  },
  verify(_params, key, signature, data) {
    if (key.type !== 'public') throw dataError('Ed25519 verifies with a public key');
    if (signature.length !== 64) return false;
    try {
      return ed25519.verify(signature, data, keyMaterial<EdKey>(key).pub, { zip215: false });
    } catch {
      return false;
    }
  },
});
