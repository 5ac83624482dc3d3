// AES-GCM for crypto.subtle (WebCrypto §27): generate (128/192/256 bits), import and export (raw,
// jwk), encrypt and decrypt with an IV, additional data and a 128-bit tag (the default and what
// every user asks for; shorter tags, and IVs under 8 bytes, are refused: NotSupportedError). noble's gcm, which uses
// BigInt for the length block (the app gets the BigInt core). Bundled when the app names
// 'AES-GCM' (subtle.ts).

import { gcm } from '@noble/ciphers/aes.js';
import { decodeBase64Url, encodeBase64Url } from '../base64.ts';
import { DOMException } from '../dom_exception.ts';
import { randomBytes } from './random.ts';
import {
  allowUsages, bufferSource, checkJwkUse, dataError, keyMaterial, newKey, notSupported, operationError, registerAlgorithm, secretKeyBytes,
  type CryptoKey, type JsonWebKey, type KeyUsage, type Params,
} from './subtle.ts';

const USES: KeyUsage[] = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];

function checkLength(bits: number): number {
  if (bits !== 128 && bits !== 192 && bits !== 256) throw operationError('AES key length must be 128, 192 or 256 bits');
  return bits;
}

function makeKey(bytes: Uint8Array, extractable: boolean, usages: KeyUsage[]): CryptoKey {
  if (bytes.length !== 16 && bytes.length !== 24 && bytes.length !== 32) throw dataError(`An AES key is 16, 24 or 32 bytes, not ${bytes.length}`);
  return newKey('secret', extractable, { name: 'AES-GCM', length: bytes.length * 8 }, allowUsages(usages, USES, 'secret', 'AES-GCM'), bytes);
}

function cipher(params: Params, key: CryptoKey) {
  const iv = bufferSource(params.iv, 'iv');
  // noble (like SP 800-38D's option to narrow IV lengths) takes 8 bytes or more; OpenSSL also takes shorter ones.
  if (iv.length === 0) throw operationError('AES-GCM needs a non-empty iv');
  if (iv.length < 8) throw notSupported(`AES-GCM with a ${iv.length}-byte iv is not supported by Kiln (use 12 bytes, or at least 8)`);
  if (params.tagLength !== undefined && Number(params.tagLength) !== 128) {
    throw notSupported(`AES-GCM tagLength ${String(params.tagLength)} is not supported by Kiln (use the default, 128)`);
  }
  const aad = params.additionalData === undefined ? undefined : bufferSource(params.additionalData, 'additionalData');
  return gcm(keyMaterial<Uint8Array>(key), iv, aad);
}

registerAlgorithm('AES-GCM', {
  generateKey(params, extractable, usages) {
    return makeKey(randomBytes(checkLength(Number(params.length)) / 8), extractable, usages);
  },
  importKey(format, keyData, _params, extractable, usages) {
    const bytes = secretKeyBytes(format, keyData, 'AES-GCM', decodeBase64Url);
    if (format === 'jwk') {
      const jwk = keyData as JsonWebKey;
      if (jwk.alg !== undefined && jwk.alg !== `A${bytes.length * 8}GCM`) throw dataError(`The JWK's "alg" ${String(jwk.alg)} does not match a ${bytes.length * 8}-bit AES-GCM key`);
      checkJwkUse(jwk, usages, 'enc');
    }
    return makeKey(bytes, extractable, usages);
  },
  exportKey(format, key) {
    const bytes = keyMaterial<Uint8Array>(key);
    if (format === 'raw') return bytes.slice();
    if (format !== 'jwk') throw notSupported(`AES-GCM keys export as raw or jwk, not ${format}`);
    return { key_ops: key.usages, ext: true, kty: 'oct', k: encodeBase64Url(bytes), alg: `A${bytes.length * 8}GCM` };
  },
  encrypt: (params, key, data) => cipher(params, key).encrypt(data),
  decrypt(params, key, data) {
    if (data.length < 16) throw operationError('The AES-GCM ciphertext is shorter than its tag');
    try {
      return cipher(params, key).decrypt(data);
    } catch (e) {
      if (e instanceof DOMException) throw e;
      throw operationError('AES-GCM decryption failed: the data, key, iv or additional data do not match');
    }
  },
  keyLength: (params) => checkLength(Number(params.length)),
});
