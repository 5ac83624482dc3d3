// crypto.getRandomValues and crypto.randomUUID (WebCrypto §10.1.1, §10.1.2) for the guest: a ChaCha20 DRBG with fast key
// erasure (each call's output is followed by a fresh key from the same stream), seeded on first
// use from virtio-rng when the command line has one (polled synchronously, ≤ 200 ms) and from
// RDRAND when the CPU has it — both when both exist; with neither it throws. Every RESEED_BYTES
// of output an asynchronous virtio-rng read is mixed into the key. At most 65536 bytes per
// call (QuotaExceededError, as browsers); only integer typed arrays (TypeMismatchError).
// crypto.subtle is web/crypto/subtle.ts, attached here by web/crypto/install_subtle.ts only in
// apps that use it (setSubtle).

import { ops } from '../ops.ts';
import { guestPlatform } from '../drivers/platform.ts';
import { virtioDevices } from '../drivers/virtio/mmio.ts';
import { openRng, type VirtioRng } from '../drivers/virtio/rng.ts';
import { chacha20Xor } from '../lib/chacha20.ts';
import { DOMException } from '../web/dom_exception.ts';

const MAX_BYTES = 65536;
const RESEED_BYTES = 1 << 20;
const SEED_TIMEOUT_NS = 200e6;

export interface EntropySources {
  /** Synchronous seed bytes from a device, or undefined. */
  deviceSync(n: number): Uint8Array | undefined;
  /** Asynchronous reseed bytes from a device, or undefined when there is none. */
  deviceAsync(n: number): Promise<Uint8Array> | undefined;
  /** 32 bits from the CPU, or -1. */
  cpu(): number;
}

export class ChaChaDrbg {
  private readonly key = new Uint32Array(8);
  private readonly nonce = new Uint32Array(3);
  private seeded = false;
  private sinceReseed = 0;
  private reseeding = false;

  constructor(private readonly src: EntropySources) {}

  /** Mixes `bytes` into the key: key = first 32 bytes of ChaCha20(key ⊕ bytes). */
  mix(bytes: Uint8Array): void {
    const k = new Uint8Array(this.key.buffer);
    for (let i = 0; i < bytes.length; i++) k[i % 32]! ^= bytes[i]!;
    const fresh = new Uint8Array(32);
    this.nonce[0] = (this.nonce[0]! + 1) >>> 0;
    chacha20Xor(this.key, 0, this.nonce, fresh);
    k.set(fresh);
  }

  private seed(): void {
    let have = false;
    const dev = this.src.deviceSync(32);
    if (dev && dev.length > 0) { this.mix(dev); have = true; }
    const cpu = new Uint8Array(32);
    const c32 = new Uint32Array(cpu.buffer);
    let cpuOk = true;
    for (let i = 0; i < 8 && cpuOk; i++) {
      const v = this.src.cpu();
      if (v < 0) cpuOk = false;
      else c32[i] = v;
    }
    if (cpuOk) { this.mix(cpu); have = true; }
    if (!have) {
      throw new Error('kiln: crypto.getRandomValues has no entropy source: no virtio-rng device on the command line and the CPU has no RDRAND');
    }
    this.seeded = true;
  }

  fill(out: Uint8Array): void {
    if (!this.seeded) this.seed();
    out.fill(0);
    this.nonce[1] = (this.nonce[1]! + 1) >>> 0;
    chacha20Xor(this.key, 1, this.nonce, out);
    // fast key erasure: the key that produced `out` is gone before we return
    const next = new Uint8Array(32);
    chacha20Xor(this.key, 0, this.nonce, next);
    new Uint8Array(this.key.buffer).set(next);
    this.sinceReseed += out.length;
    if (this.sinceReseed >= RESEED_BYTES && !this.reseeding) {
      const p = this.src.deviceAsync(32);
      if (p) {
        this.reseeding = true;
        this.sinceReseed = 0;
        p.then((b) => { this.mix(b); this.reseeding = false; }, () => { this.reseeding = false; });
      }
    }
  }
}

const INTEGER_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

export function createGetRandomValues(drbg: ChaChaDrbg) {
  return function getRandomValues<T extends ArrayBufferView>(array: T): T {
    const tag = array !== null && typeof array === 'object' ? Object.prototype.toString.call(array).slice(8, -1) : '';
    if (!INTEGER_ARRAYS.includes(tag)) {
      throw new DOMException("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is not an integer array type.", 'TypeMismatchError');
    }
    if (array.byteLength > MAX_BYTES) {
      throw new DOMException(
        `Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_BYTES}).`,
        'QuotaExceededError');
    }
    drbg.fill(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    return array;
  };
}

function guestSources(): EntropySources {
  let rng: VirtioRng | null | undefined;
  const device = (): VirtioRng | null => {
    if (rng !== undefined) return rng;
    const line = ops.op_cmdline();
    rng = line.includes('virtio_mmio.device=') ? openRng(() => virtioDevices(guestPlatform(), line)) : null;
    return rng;
  };
  return {
    deviceSync(n) {
      const d = device();
      if (!d) return undefined;
      const until = ops.op_clock_monotonic_ns() + SEED_TIMEOUT_NS;
      return d.readSync(n, () => ops.op_clock_monotonic_ns() > until);
    },
    deviceAsync: (n) => device()?.read(n),
    cpu: () => ops.op_cpu_random(),
  };
}

/** crypto.randomUUID: a version 4 UUID from `fill` (RFC 9562 §5.4), lower-case hex. */
export function createRandomUUID(fill: (bytes: Uint8Array) => void): () => `${string}-${string}-${string}-${string}-${string}` {
  return () => {
    const b = new Uint8Array(16);
    fill(b);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    let h = '';
    for (let i = 0; i < 16; i++) h += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}

export interface GuestCrypto {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
  readonly subtle?: unknown;
}

let crypto: GuestCrypto | undefined;
let subtle: (() => unknown) | undefined;

/** Gives the crypto object its `subtle` (web/crypto/install_subtle.ts), created on first access. */
export function setSubtle(create: () => unknown): void {
  subtle = create;
}

/** The `crypto` global (created on first access: nothing runs at boot). */
export function guestCrypto(): GuestCrypto {
  if (crypto !== undefined) return crypto;
  const drbg = new ChaChaDrbg(guestSources());
  const c: GuestCrypto = { getRandomValues: createGetRandomValues(drbg), randomUUID: createRandomUUID((b) => drbg.fill(b)) };
  if (subtle !== undefined) {
    let made: unknown;
    const create = subtle;
    Object.defineProperty(c, 'subtle', { get: () => (made ??= create()), enumerable: true });
  }
  crypto = c;
  return c;
}
