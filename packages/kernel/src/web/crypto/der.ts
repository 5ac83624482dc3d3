// The DER (X.690) that SPKI (RFC 5280 §4.1) and PKCS #8 (RFC 5208) key containers need for P-256
// (RFC 5480, RFC 5915 ECPrivateKey) and Ed25519 (RFC 8410): a bounded TLV reader that checks
// every length against its container, and the fixed encodings Kiln writes. Malformed input is a
// DataError, never an out-of-bounds read.

import { dataError } from './subtle.ts';

export interface Tlv {
  tag: number;
  /** The value's bytes. */
  value: Uint8Array;
}

/** The TLVs that fill `bytes` exactly (DataError on any malformed or trailing byte). */
export function readAll(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    const tag = bytes[at++]!;
    if ((tag & 0x1f) === 0x1f) throw dataError('DER: multi-byte tags are not used by key formats');
    if (at >= bytes.length) throw dataError('DER: truncated length');
    let len = bytes[at++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 3 || at + n > bytes.length) throw dataError('DER: bad length');
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | bytes[at++]!;
    }
    if (at + len > bytes.length) throw dataError('DER: a value runs past its container');
    out.push({ tag, value: bytes.subarray(at, at + len) });
    at += len;
  }
  return out;
}

/** The one TLV `bytes` holds, with tag `tag`. */
export function readOne(bytes: Uint8Array, tag: number, what: string): Tlv {
  const all = readAll(bytes);
  if (all.length !== 1 || all[0]!.tag !== tag) throw dataError(`DER: expected one ${what}`);
  return all[0]!;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Uint8Array {
  if (t === undefined || t.tag !== tag) throw dataError(`DER: expected ${what}`);
  return t.value;
}

export const SEQUENCE = 0x30;
export const INTEGER = 0x02;
export const BIT_STRING = 0x03;
export const OCTET_STRING = 0x04;
export const OID = 0x06;

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function length(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

/** One TLV from a tag and its parts. */
export function tlv(tag: number, ...parts: (Uint8Array | number[])[]): Uint8Array {
  const body = parts.flatMap((p) => [...p]);
  return new Uint8Array([tag, ...length(body.length), ...body]);
}

/** SubjectPublicKeyInfo: the algorithm identifier's parts and the public key's bytes. */
export function readSpki(bytes: Uint8Array): { algorithm: Tlv[]; key: Uint8Array } {
  const [alg, key, ...rest] = readAll(readOne(bytes, SEQUENCE, 'SubjectPublicKeyInfo').value);
  if (rest.length > 0) throw dataError('SPKI: trailing fields');
  const bits = expectTag(key, BIT_STRING, 'the public key BIT STRING');
  if (bits[0] !== 0) throw dataError('SPKI: the public key has unused bits');
  return { algorithm: readAll(expectTag(alg, SEQUENCE, 'the AlgorithmIdentifier')), key: bits.subarray(1) };
}

/** PrivateKeyInfo (PKCS #8 v1, or v2 with a public key, which is ignored): algorithm parts and the private key's bytes. */
export function readPkcs8(bytes: Uint8Array): { algorithm: Tlv[]; key: Uint8Array } {
  const [version, alg, key] = readAll(readOne(bytes, SEQUENCE, 'PrivateKeyInfo').value);
  const v = expectTag(version, INTEGER, 'the PKCS #8 version');
  if (v.length !== 1 || v[0]! > 1) throw dataError('PKCS #8: unknown version');
  return { algorithm: readAll(expectTag(alg, SEQUENCE, 'the AlgorithmIdentifier')), key: expectTag(key, OCTET_STRING, 'the private key OCTET STRING') };
}
