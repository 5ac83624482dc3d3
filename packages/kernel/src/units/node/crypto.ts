// `node:crypto` for guests, Workers' nodejs_compat subset: randomBytes, randomUUID,
// getRandomValues, createHash and createHmac (md5, sha1, sha256, sha384, sha512: noble's
// hashes, the ones crypto.subtle uses; update(data, encoding), digest(encoding) → Buffer or
// string), timingSafeEqual, and webcrypto (the guest's `crypto` object: its subtle is there when
// the app names subtle). Randomness is the guest's DRBG (units/crypto.ts). sha384/sha512 make
// noble use BigInt, so an app importing node:crypto gets the BigInt core. Anything else Node's
// module has is absent (undefined), not faked.

import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { Buffer } from 'buffer'; // the npm package in the guest (build.ts NODE_COMPAT), Node's own in unit tests
import { guestCrypto } from '../crypto.ts';
import { bufferSourceBytes } from '../../lib/buffer_source.ts';

type BinaryLike = string | ArrayBufferView | ArrayBuffer;
type Encoding = 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary' | 'utf8' | 'utf-8';

interface NobleHash {
  (data: Uint8Array): Uint8Array;
  create(): { update(d: Uint8Array): unknown; digest(): Uint8Array };
}

const HASHES: Record<string, NobleHash> = {
  md5: md5 as unknown as NobleHash, sha1: sha1 as unknown as NobleHash, sha256: sha256 as unknown as NobleHash,
  sha384: sha384 as unknown as NobleHash, sha512: sha512 as unknown as NobleHash,
};

function hashNamed(algorithm: string): NobleHash {
  const h = HASHES[String(algorithm).toLowerCase().replace(/^sha-/, 'sha')];
  if (h === undefined) throw new Error(`Digest method not supported: ${algorithm} (Kiln's node:crypto has ${Object.keys(HASHES).join(', ')})`);
  return h;
}

function bytesOf(data: BinaryLike, encoding?: Encoding): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  const bytes = bufferSourceBytes(data);
  if (bytes !== undefined) return bytes;
  throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
}

function output(bytes: Uint8Array, encoding?: Encoding): Buffer | string {
  const b = Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  return encoding === undefined ? b : b.toString(encoding);
}

/** The shape of Node's Hash and Hmac: update() until digest(), once. */
class Digest {
  private done = false;

  constructor(private readonly state: { update(d: Uint8Array): unknown; digest(): Uint8Array }) {}

  update(data: BinaryLike, encoding?: Encoding): this {
    if (this.done) throw new Error('Digest already called');
    this.state.update(bytesOf(data, encoding));
    return this;
  }

  digest(): Buffer;
  digest(encoding: Encoding): string;
  digest(encoding?: Encoding): Buffer | string {
    if (this.done) throw new Error('Digest already called');
    this.done = true;
    return output(this.state.digest(), encoding);
  }
}

export function createHash(algorithm: string): Digest {
  return new Digest(hashNamed(algorithm).create());
}

export function createHmac(algorithm: string, key: BinaryLike): Digest {
  return new Digest(hmac.create(hashNamed(algorithm) as never, bytesOf(key)));
}

export function randomBytes(size: number): Buffer;
export function randomBytes(size: number, callback: (err: Error | null, buf: Buffer) => void): void;
export function randomBytes(size: number, callback?: (err: Error | null, buf: Buffer) => void): Buffer | void {
  if (!Number.isInteger(size) || size < 0 || size > 2 ** 31 - 1) throw new RangeError(`The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${String(size)}`);
  const b = Buffer.alloc(size);
  for (let at = 0; at < size; at += 65536) guestCrypto().getRandomValues(b.subarray(at, Math.min(size, at + 65536)));
  if (callback === undefined) return b;
  queueMicrotask(() => callback(null, b));
}

export const randomUUID = (): string => guestCrypto().randomUUID();

export function getRandomValues<T extends ArrayBufferView>(array: T): T {
  return guestCrypto().getRandomValues(array);
}

export function timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) throw new RangeError('Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

export const webcrypto = guestCrypto();

export default { createHash, createHmac, randomBytes, randomUUID, getRandomValues, timingSafeEqual, webcrypto };
