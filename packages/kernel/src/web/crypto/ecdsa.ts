// ECDSA on P-256 for crypto.subtle (WebCrypto §23): generate, import and export (raw and spki
// public keys, pkcs8 private keys, jwk both), sign and verify with any registered hash; signatures
// are r‖s (IEEE P1363, 64 bytes) as WebCrypto specifies, hedged with fresh randomness, high-S
// accepted on verify (OpenSSL and Node make them). noble's p256 (BigInt: the app gets the BigInt
// core). Bundled when the app names 'ECDSA' (subtle.ts). P-384 and P-521 are NotSupportedError.

import { p256 } from '@noble/curves/nist.js';
import { decodeBase64Url, encodeBase64Url } from '../base64.ts';
import { BIT_STRING, expectTag, INTEGER, OCTET_STRING, OID, readAll, readOne, readPkcs8, readSpki, sameBytes, SEQUENCE, tlv } from './der.ts';
import { randomBytes } from './random.ts';
import {
  allowUsages, checkJwkUse, dataError, hashOf, keyMaterial, newKey, notSupported, registerAlgorithm, syntaxError,
  type CryptoKey, type JsonWebKey, type KeyUsage, type Params,
} from './subtle.ts';

const EC_PUBLIC_KEY = new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]); // 1.2.840.10045.2.1
const PRIME256V1 = new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]); // 1.2.840.10045.3.1.7

interface EcKey {
  /** The private scalar (32 bytes), for private keys. */
  d?: Uint8Array;
  /** The uncompressed public point (65 bytes). */
  pub: Uint8Array;
}

function checkCurve(params: Params): void {
  if (params.namedCurve === undefined) throw new TypeError('ECDSA needs a namedCurve');
  if (params.namedCurve !== 'P-256') throw notSupported(`ECDSA on ${String(params.namedCurve)} is not supported by Kiln (P-256 is)`);
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };

function publicKey(pub: Uint8Array, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  let point: Uint8Array;
  try {
    point = p256.Point.fromBytes(pub).toBytes(false);
  } catch {
    throw dataError('The ECDSA public key is not a point on P-256');
  }
  return newKey('public', extractable, ALGORITHM, allowUsages(usages, ['verify'], 'public', 'ECDSA'), { pub: point } satisfies EcKey);
}

function privateKey(d: Uint8Array, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  if (d.length !== 32 || !p256.utils.isValidSecretKey(d)) throw dataError('The ECDSA private key is not a P-256 scalar');
  return newKey('private', extractable, ALGORITHM, allowUsages(usages, ['sign'], 'private', 'ECDSA'), { d, pub: p256.getPublicKey(d, false) } satisfies EcKey);
}

function curveOf(algorithm: ReturnType<typeof readAll>): void {
  if (!sameBytes(expectTag(algorithm[0], OID, 'the algorithm OID'), EC_PUBLIC_KEY)) throw dataError('The key is not an EC key');
  if (!sameBytes(expectTag(algorithm[1], OID, 'the named curve'), PRIME256V1)) throw notSupported('Only P-256 EC keys are supported by Kiln');
}

/** Fixed-width big-endian coordinate from a JWK member. */
function coordinate(jwk: JsonWebKey, member: 'x' | 'y' | 'd'): Uint8Array {
  const v = jwk[member];
  const bytes = typeof v === 'string' ? decodeBase64Url(v) : null;
  if (bytes === null || bytes.length !== 32) throw dataError(`The JWK's "${member}" is not a 32-byte base64url value`);
  return bytes;
}

function digestFor(params: Params, data: Uint8Array): Uint8Array {
  if (params.hash === undefined) throw new TypeError('ECDSA sign and verify need a hash');
  return hashOf(params.hash).fn(data);
}

registerAlgorithm('ECDSA', {
  generateKey(params, extractable, usages) {
    checkCurve(params);
    for (const u of usages) if (u !== 'sign' && u !== 'verify') throw syntaxError(`ECDSA keys are for sign and verify, not ${u}`);
    const d = p256.utils.randomSecretKey(randomBytes(48));
    return {
      privateKey: privateKey(d, extractable, usages.filter((u) => u === 'sign')),
      publicKey: publicKey(p256.getPublicKey(d, false), true, usages.filter((u) => u === 'verify')),
    };
  },
  importKey(format, keyData, params, extractable, usages) {
    checkCurve(params);
    if (format === 'raw') return publicKey(keyData as Uint8Array, extractable, usages);
    if (format === 'spki') {
      const { algorithm, key } = readSpki(keyData as Uint8Array);
      curveOf(algorithm);
      return publicKey(key, extractable, usages);
    }
    if (format === 'pkcs8') {
      const { algorithm, key } = readPkcs8(keyData as Uint8Array);
      curveOf(algorithm);
      const [version, d] = readAll(readOne(key, SEQUENCE, 'ECPrivateKey').value);
      if (expectTag(version, INTEGER, 'the ECPrivateKey version')[0] !== 1) throw dataError('ECPrivateKey: unknown version');
      return privateKey(expectTag(d, OCTET_STRING, 'the private key'), extractable, usages);
    }
    const jwk = keyData as JsonWebKey;
    if (jwk.kty !== 'EC') throw dataError('An ECDSA JWK has "kty": "EC"');
    if (jwk.crv !== 'P-256') throw dataError(`The JWK's curve ${String(jwk.crv)} is not P-256`);
    if (jwk.alg !== undefined && jwk.alg !== 'ES256') throw dataError(`The JWK's "alg" ${String(jwk.alg)} is not ES256`);
    checkJwkUse(jwk, usages, 'sig');
    const pub = new Uint8Array([4, ...coordinate(jwk, 'x'), ...coordinate(jwk, 'y')]);
    if (jwk.d === undefined) return publicKey(pub, extractable, usages);
    const key = privateKey(coordinate(jwk, 'd'), extractable, usages);
    if (!sameBytes(keyMaterial<EcKey>(key).pub, pub)) throw dataError('The JWK\'s "d" does not match its "x" and "y"');
    return key;
  },
  exportKey(format, key) {
    const { d, pub } = keyMaterial<EcKey>(key);
    const algorithm = tlv(SEQUENCE, tlv(OID, EC_PUBLIC_KEY), tlv(OID, PRIME256V1));
    if (format === 'jwk') {
      // Members in Node's order.
      const jwk: JsonWebKey = { key_ops: key.usages, ext: true, kty: 'EC', x: encodeBase64Url(pub.subarray(1, 33)), y: encodeBase64Url(pub.subarray(33)), crv: 'P-256' };
      if (d !== undefined) jwk.d = encodeBase64Url(d);
      return jwk;
    }
    if (key.type === 'public') {
      if (format === 'raw') return pub.slice();
      if (format === 'spki') return tlv(SEQUENCE, algorithm, tlv(BIT_STRING, [0], pub));
      throw dataError(`An ECDSA public key exports as raw, spki or jwk, not ${format}`);
    }
    if (format !== 'pkcs8') throw notSupported(`An ECDSA private key exports as pkcs8 or jwk, not ${format}`);
    const ecPrivateKey = tlv(SEQUENCE, tlv(INTEGER, [1]), tlv(OCTET_STRING, d!), tlv(0xa1, tlv(BIT_STRING, [0], pub)));
    return tlv(SEQUENCE, tlv(INTEGER, [0]), algorithm, tlv(OCTET_STRING, ecPrivateKey));
  },
  sign(params, key, data) {
    if (key.type !== 'private') throw dataError('ECDSA signs with a private key');
    return p256.sign(digestFor(params, data), keyMaterial<EcKey>(key).d!, { prehash: false, lowS: false, extraEntropy: randomBytes(32) });
  },
  verify(params, key, signature, data) {
    if (key.type !== 'public') throw dataError('ECDSA verifies with a public key');
    if (signature.length !== 64) return false;
    try {
      return p256.verify(signature, digestFor(params, data), keyMaterial<EcKey>(key).pub, { prehash: false, lowS: false });
    } catch {
      return false;
    }
  },
});
