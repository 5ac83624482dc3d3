// crypto.subtle (W3C Web Cryptography API §14): SubtleCrypto and CryptoKey over a registry of
// algorithms. Each algorithm is its own module (sha1.ts … ed25519.ts) built on the noble
// libraries, and registers itself here when imported; kiln build bundles one only when the app's
// bundle names it ('SHA-256', 'AES-GCM', …: packages/cli/src/build.ts OPTIONAL_GLOBALS), so an app
// that only hashes carries no elliptic curves — and no BigInt, which SHA-384/512, AES-GCM, ECDSA and
// Ed25519 need (noble uses it; those apps get the BigInt core). This file does what the spec does
// for every algorithm: normalise the algorithm argument (names match case-insensitively), copy
// BufferSources, check key usages, algorithms and extractability, and reject with DOMExceptions
// (NotSupportedError names the algorithm and how to get it bundled).

import { DOMException } from '../dom_exception.ts';

export type KeyUsage = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'deriveKey' | 'deriveBits' | 'wrapKey' | 'unwrapKey';
export type KeyFormat = 'raw' | 'jwk' | 'spki' | 'pkcs8';
export type KeyType = 'secret' | 'public' | 'private';

export interface JsonWebKey {
  kty?: string; crv?: string; alg?: string; use?: string; key_ops?: string[]; ext?: boolean;
  k?: string; x?: string; y?: string; d?: string;
  [member: string]: unknown;
}

/** An algorithm argument after normalisation: `name` canonical, other members as given. */
export interface Params {
  name: string;
  [member: string]: unknown;
}

const USAGES: KeyUsage[] = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];
const MATERIAL = Symbol('kiln.cryptokey.material');

export class CryptoKey {
  /** @internal */
  readonly [MATERIAL]: unknown;
  private readonly _type: KeyType;
  private readonly _extractable: boolean;
  private readonly _algorithm: Readonly<Record<string, unknown>>;
  private readonly _usages: KeyUsage[];

  /** @internal Keys are made by SubtleCrypto (newKey), not by apps. */
  constructor(token: symbol, type: KeyType, extractable: boolean, algorithm: Record<string, unknown>, usages: KeyUsage[], material: unknown) {
    if (token !== MATERIAL) throw new TypeError('Illegal constructor');
    this._type = type;
    this._extractable = extractable;
    this._algorithm = Object.freeze({ ...algorithm });
    this._usages = usages;
    this[MATERIAL] = material;
  }

  get type(): KeyType {
    return this._type;
  }

  get extractable(): boolean {
    return this._extractable;
  }

  get algorithm(): Readonly<Record<string, unknown>> {
    return this._algorithm;
  }

  get usages(): KeyUsage[] {
    return [...this._usages];
  }

  get [Symbol.toStringTag](): string {
    return 'CryptoKey';
  }
}

export interface CryptoKeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

/** A new key (algorithm modules only). */
export function newKey(type: KeyType, extractable: boolean, algorithm: Record<string, unknown>, usages: KeyUsage[], material: unknown): CryptoKey {
  return new CryptoKey(MATERIAL, type, extractable, algorithm, usages, material);
}

export function keyMaterial<T>(key: CryptoKey): T {
  return key[MATERIAL] as T;
}

/** What an algorithm module implements (each operation synchronous; SubtleCrypto makes it a promise). */
export interface Algorithm {
  digest?(params: Params, data: Uint8Array): Uint8Array;
  generateKey?(params: Params, extractable: boolean, usages: KeyUsage[]): CryptoKey | CryptoKeyPair;
  importKey?(format: KeyFormat, keyData: Uint8Array | JsonWebKey, params: Params, extractable: boolean, usages: KeyUsage[]): CryptoKey;
  exportKey?(format: KeyFormat, key: CryptoKey): Uint8Array | JsonWebKey;
  sign?(params: Params, key: CryptoKey, data: Uint8Array): Uint8Array;
  verify?(params: Params, key: CryptoKey, signature: Uint8Array, data: Uint8Array): boolean;
  encrypt?(params: Params, key: CryptoKey, data: Uint8Array): Uint8Array;
  decrypt?(params: Params, key: CryptoKey, data: Uint8Array): Uint8Array;
  deriveBits?(params: Params, key: CryptoKey, length: number | null): Uint8Array;
  /** The length in bits of a key imported with `params` (deriveKey's "get key length"). */
  keyLength?(params: Params): number;
}

/** A hash function as the noble libraries take it. */
export interface HashFunction {
  (data: Uint8Array): Uint8Array;
  outputLen: number;
  blockLen: number;
  create(): { update(data: Uint8Array): unknown; digest(): Uint8Array };
}

const algorithms = new Map<string, { name: string; impl: Algorithm }>();
const hashes = new Map<string, { name: string; fn: HashFunction }>();

export function registerAlgorithm(name: string, impl: Algorithm): void {
  algorithms.set(name.toUpperCase(), { name, impl });
}

/** Registers a hash: digest() takes it, and HMAC, ECDSA, PBKDF2 and HKDF can use it. */
export function registerHash(name: string, fn: HashFunction): void {
  hashes.set(name.toUpperCase(), { name, fn });
  registerAlgorithm(name, { digest: (_p, data) => fn(data) });
}

export const notSupported = (what: string): DOMException => new DOMException(what, 'NotSupportedError');
export const dataError = (what: string): DOMException => new DOMException(what, 'DataError');
export const syntaxError = (what: string): DOMException => new DOMException(what, 'SyntaxError');
export const invalidAccess = (what: string): DOMException => new DOMException(what, 'InvalidAccessError');
export const operationError = (what: string): DOMException => new DOMException(what, 'OperationError');

const missing = (name: string, kind: string): DOMException => notSupported(
  `${kind} "${name}" is not in this image: kiln build bundles a WebCrypto algorithm when the app's source names it as a string ('${name}'); ` +
  'Kiln supports SHA-1, SHA-256, SHA-384, SHA-512, HMAC, PBKDF2, HKDF, AES-GCM, ECDSA (P-256) and Ed25519',
);

function algorithmName(alg: unknown): string {
  if (typeof alg === 'string') return alg;
  if (alg !== null && typeof alg === 'object' && 'name' in alg) return String((alg as { name: unknown }).name);
  throw new TypeError('An algorithm is a name or an object with a name');
}

/** Normalises an algorithm argument: the canonical name, and a `hash` member normalised to { name }. */
export function normalize(alg: unknown): { params: Params; impl: Algorithm } {
  const name = algorithmName(alg);
  const found = algorithms.get(name.toUpperCase());
  if (found === undefined) throw missing(name, 'Algorithm');
  const params: Params = { ...(typeof alg === 'object' ? (alg as object) : {}), name: found.name };
  if (params.hash !== undefined) params.hash = { name: hashOf(params.hash).name };
  return { params, impl: found.impl };
}

/** A hash argument (a name or { name }) → the registered hash. */
export function hashOf(alg: unknown): { name: string; fn: HashFunction } {
  const name = algorithmName(alg);
  const found = hashes.get(name.toUpperCase());
  if (found === undefined) throw missing(name, 'Hash');
  return found;
}

/** A BufferSource, copied (the spec copies before any await: later changes by the app do not count). */
export function bufferSource(data: unknown, what: string): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  throw new TypeError(`${what} must be an ArrayBuffer or an ArrayBufferView`);
}

function checkUsages(usages: unknown): KeyUsage[] {
  if (usages === null || typeof usages !== 'object' || typeof (usages as Iterable<unknown>)[Symbol.iterator] !== 'function') throw new TypeError('keyUsages must be a sequence');
  const out: KeyUsage[] = [];
  for (const u of usages as Iterable<unknown>) {
    if (!USAGES.includes(u as KeyUsage)) throw new TypeError(`"${String(u)}" is not a valid key usage`);
    if (!out.includes(u as KeyUsage)) out.push(u as KeyUsage);
  }
  return out;
}

/** Usages an algorithm allows for a key type: a usage outside them is a SyntaxError; none at all for a secret or private key too. */
export function allowUsages(usages: KeyUsage[], allowed: KeyUsage[], type: KeyType, alg: string): KeyUsage[] {
  for (const u of usages) if (!allowed.includes(u)) throw syntaxError(`Cannot create a ${alg} ${type} key with usage "${u}"`);
  if (usages.length === 0 && type !== 'public') throw syntaxError(`A ${alg} ${type} key needs at least one usage`);
  return usages;
}

function needKey(key: unknown, params: Params, usage: KeyUsage): CryptoKey {
  if (!(key instanceof CryptoKey)) throw new TypeError('key must be a CryptoKey');
  if (String(key.algorithm.name) !== params.name) throw invalidAccess(`The key is a ${String(key.algorithm.name)} key, not ${params.name}`);
  if (!key.usages.includes(usage)) throw invalidAccess(`The key's usages do not include "${usage}"`);
  return key;
}

function op<K extends keyof Algorithm>(impl: Algorithm, name: K, params: Params): NonNullable<Algorithm[K]> {
  const f = impl[name];
  if (f === undefined) throw notSupported(`${params.name} does not support ${name}`);
  return f.bind(impl) as NonNullable<Algorithm[K]>;
}

const toBuffer = (b: Uint8Array): ArrayBuffer => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer as ArrayBuffer : b.slice().buffer as ArrayBuffer);

/** Runs `f` as the spec's "in parallel" steps: a promise, rejected with whatever it throws. */
function later<T>(f: () => T): Promise<T> {
  return new Promise((resolve) => resolve(f()));
}

export class SubtleCrypto {
  /** @internal */
  constructor(token?: symbol) {
    if (token !== MATERIAL) throw new TypeError('Illegal constructor');
  }

  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      return toBuffer(op(impl, 'digest', params)(params, bufferSource(data, 'data')));
    });
  }

  generateKey(algorithm: unknown, extractable: boolean, keyUsages: Iterable<KeyUsage>): Promise<CryptoKey | CryptoKeyPair> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      return op(impl, 'generateKey', params)(params, Boolean(extractable), checkUsages(keyUsages));
    });
  }

  importKey(format: KeyFormat, keyData: unknown, algorithm: unknown, extractable: boolean, keyUsages: Iterable<KeyUsage>): Promise<CryptoKey> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      if (!['raw', 'jwk', 'spki', 'pkcs8'].includes(format)) throw new TypeError(`"${String(format)}" is not a key format`);
      let data: Uint8Array | JsonWebKey;
      if (format === 'jwk') {
        if (keyData === null || typeof keyData !== 'object' || ArrayBuffer.isView(keyData) || keyData instanceof ArrayBuffer) throw new TypeError('A jwk key must be a JsonWebKey object');
        data = keyData as JsonWebKey;
        if (data.ext === false && extractable) throw dataError('The JWK is not extractable ("ext": false)');
      } else data = bufferSource(keyData, 'keyData');
      return op(impl, 'importKey', params)(format, data, params, Boolean(extractable), checkUsages(keyUsages));
    });
  }

  exportKey(format: KeyFormat, key: CryptoKey): Promise<ArrayBuffer | JsonWebKey> {
    return later(() => {
      if (!(key instanceof CryptoKey)) throw new TypeError('key must be a CryptoKey');
      const { params, impl } = normalize(key.algorithm.name);
      if (!key.extractable) throw invalidAccess('The key is not extractable');
      const out = op(impl, 'exportKey', params)(format, key);
      return out instanceof Uint8Array ? toBuffer(out) : out;
    });
  }

  sign(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      const bytes = bufferSource(data, 'data');
      return toBuffer(op(impl, 'sign', params)(params, needKey(key, params, 'sign'), bytes));
    });
  }

  verify(algorithm: unknown, key: CryptoKey, signature: unknown, data: unknown): Promise<boolean> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      const sig = bufferSource(signature, 'signature');
      const bytes = bufferSource(data, 'data');
      return op(impl, 'verify', params)(params, needKey(key, params, 'verify'), sig, bytes);
    });
  }

  encrypt(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      const bytes = bufferSource(data, 'data');
      return toBuffer(op(impl, 'encrypt', params)(params, needKey(key, params, 'encrypt'), bytes));
    });
  }

  decrypt(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      const bytes = bufferSource(data, 'data');
      return toBuffer(op(impl, 'decrypt', params)(params, needKey(key, params, 'decrypt'), bytes));
    });
  }

  deriveBits(algorithm: unknown, baseKey: CryptoKey, length?: number | null): Promise<ArrayBuffer> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      const n = length === undefined || length === null ? null : Number(length);
      return toBuffer(op(impl, 'deriveBits', params)(params, needKey(baseKey, params, 'deriveBits'), n));
    });
  }

  deriveKey(algorithm: unknown, baseKey: CryptoKey, derivedKeyType: unknown, extractable: boolean, keyUsages: Iterable<KeyUsage>): Promise<CryptoKey> {
    return later(() => {
      const { params, impl } = normalize(algorithm);
      const derived = normalize(derivedKeyType);
      const length = op(derived.impl, 'keyLength', derived.params)(derived.params);
      const bits = op(impl, 'deriveBits', params)(params, needKey(baseKey, params, 'deriveKey'), length);
      return op(derived.impl, 'importKey', derived.params)('raw', bits, derived.params, Boolean(extractable), checkUsages(keyUsages));
    });
  }

  wrapKey(): Promise<never> {
    return Promise.reject(notSupported('wrapKey is not supported by Kiln (export the key and encrypt it)'));
  }

  unwrapKey(): Promise<never> {
    return Promise.reject(notSupported('unwrapKey is not supported by Kiln (decrypt the key and import it)'));
  }

  get [Symbol.toStringTag](): string {
    return 'SubtleCrypto';
  }
}

export const subtle = (): SubtleCrypto => new SubtleCrypto(MATERIAL);

/** A secret key's bytes from raw or an "oct" JWK (HMAC, AES). */
export function secretKeyBytes(format: KeyFormat, keyData: Uint8Array | JsonWebKey, alg: string, decodeJwk: (k: string) => Uint8Array | null): Uint8Array {
  if (format === 'raw') return keyData as Uint8Array;
  if (format !== 'jwk') throw notSupported(`${alg} keys import as raw or jwk, not ${format}`);
  const jwk = keyData as JsonWebKey;
  if (jwk.kty !== 'oct') throw dataError(`A ${alg} JWK has "kty": "oct"`);
  if (typeof jwk.k !== 'string') throw dataError(`A ${alg} JWK needs its key in "k"`);
  const bytes = decodeJwk(jwk.k);
  if (bytes === null) throw dataError('The JWK\'s "k" is not base64url');
  return bytes;
}

/** The JWK checks every import does: "use" and "key_ops" against the requested usages. */
export function checkJwkUse(jwk: JsonWebKey, usages: KeyUsage[], use: 'sig' | 'enc'): void {
  if (usages.length > 0 && jwk.use !== undefined && jwk.use !== use) throw dataError(`The JWK's "use" is "${String(jwk.use)}", not "${use}"`);
  if (Array.isArray(jwk.key_ops)) for (const u of usages) if (!jwk.key_ops.includes(u)) throw dataError(`The JWK's "key_ops" do not include "${u}"`);
}
