// HMAC for crypto.subtle (WebCrypto §29): generate, import (raw, jwk), export, sign, verify
// (constant time), over any registered hash; the key length defaults to the hash's block size.
// noble's hmac. Bundled when the app names 'HMAC' (subtle.ts).

import { hmac } from '@noble/hashes/hmac.js';
import { decodeBase64Url, encodeBase64Url } from '../base64.ts';
import { randomBytes } from './random.ts';
import {
  allowUsages, checkJwkUse, dataError, hashOf, keyMaterial, newKey, notSupported, registerAlgorithm, secretKeyBytes,
  type CryptoKey, type JsonWebKey, type KeyUsage, type Params,
} from './subtle.ts';

const USES: KeyUsage[] = ['sign', 'verify'];
const JWK_ALG: Record<string, string> = { 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' };

function hashName(params: Params): string {
  if (params.hash === undefined) throw new TypeError('HMAC needs a hash');
  return (params.hash as { name: string }).name;
}

function keyLength(params: Params): number {
  if (params.length === undefined) return hashOf(hashName(params)).fn.blockLen * 8;
  const n = Number(params.length);
  if (!Number.isInteger(n) || n <= 0) throw new TypeError('HMAC length must be a positive integer');
  return n;
}

function makeKey(bytes: Uint8Array, hash: string, length: number, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  if (bytes.length === 0) throw dataError('An HMAC key cannot be empty');
  if (length > bytes.length * 8 || length <= (bytes.length - 1) * 8) throw dataError(`HMAC length ${length} does not match a ${bytes.length}-byte key`);
  return newKey('secret', extractable, { name: 'HMAC', hash: { name: hash }, length }, allowUsages(usages, USES, 'secret', 'HMAC'), bytes);
}

function mac(key: CryptoKey, data: Uint8Array): Uint8Array {
  const hash = hashOf((key.algorithm.hash as { name: string }).name);
  return hmac(hash.fn as never, keyMaterial<Uint8Array>(key), data);
}

registerAlgorithm('HMAC', {
  generateKey(params, extractable, usages) {
    const length = keyLength(params);
    return makeKey(randomBytes(Math.ceil(length / 8)), hashName(params), length, extractable, usages);
  },
  importKey(format, keyData, params, extractable, usages) {
    const hash = hashName(params);
    const bytes = secretKeyBytes(format, keyData, 'HMAC', decodeBase64Url);
    if (format === 'jwk') {
      const jwk = keyData as JsonWebKey;
      if (jwk.alg !== undefined && jwk.alg !== JWK_ALG[hash]) throw dataError(`The JWK's "alg" ${String(jwk.alg)} does not match HMAC with ${hash}`);
      checkJwkUse(jwk, usages, 'sig');
    }
    return makeKey(bytes, hash, params.length === undefined ? bytes.length * 8 : keyLength(params), extractable, usages);
  },
  exportKey(format, key) {
    const bytes = keyMaterial<Uint8Array>(key);
    if (format === 'raw') return bytes.slice();
    if (format !== 'jwk') throw notSupported(`HMAC keys export as raw or jwk, not ${format}`);
    const hash = (key.algorithm.hash as { name: string }).name;
    return { key_ops: key.usages, ext: true, kty: 'oct', k: encodeBase64Url(bytes), alg: JWK_ALG[hash] };
  },
  sign: (_params, key, data) => mac(key, data),
  verify(_params, key, signature, data) {
    const want = mac(key, data);
    if (signature.length !== want.length) return false;
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff |= want[i]! ^ signature[i]!;
    return diff === 0;
  },
  keyLength,
});
