// virtio-rng (virtio 1.2 §5.4): one request queue; each request is one device-writable
// buffer the device fills with entropy. No features, no config. A pending read holds a ref,
// so `await rng.read(n)` keeps the program alive until the device answers.

import { VIRTIO_ID_RNG } from '@kiln/common/virtio/constants.ts';
import { VIRTIO_RNG_REQUESTQ } from '@kiln/common/virtio/devices.ts';
import { ref, unref } from '../../lib/handles.ts';
import type { Platform } from '../platform.ts';
import type { VirtioMmioDevice } from './mmio.ts';
import type { Virtqueue } from './virtqueue.ts';

export class VirtioRng {
  private readonly q: Virtqueue;

  constructor(private readonly dev: VirtioMmioDevice) {
    if (dev.deviceId !== VIRTIO_ID_RNG) throw new TypeError(`virtio-rng: device id ${dev.deviceId} is not an entropy device`);
    dev.negotiate(0);
    this.q = dev.setupQueue(VIRTIO_RNG_REQUESTQ, 16);
    dev.driverOk();
  }

  /**
   * Up to `n` random bytes, synchronously: the request is queued, then the used ring is polled
   * (the device answers from its own thread, no interrupt needed) until `deadline()` says stop.
   * Returns undefined on timeout (the late answer is dropped when it arrives).
   */
  readSync(n: number, expired: () => boolean): Uint8Array | undefined {
    const p: Platform = this.dev.p;
    const addr = p.dmaAlloc(n, 16);
    let out: Uint8Array | undefined;
    let done = false;
    if (!this.q.add([{ addr, len: n, write: true }], (len) => {
      out = p.bytes(addr, Math.min(len, n)).slice();
      p.dmaFree(addr);
      done = true;
    })) {
      p.dmaFree(addr);
      return undefined;
    }
    this.q.kick();
    while (!done && !expired()) this.q.processUsed();
    return done ? out : undefined;
  }

  /** Up to `n` random bytes (the device may return fewer; callers loop). */
  read(n: number): Promise<Uint8Array> {
    const p: Platform = this.dev.p;
    return new Promise((resolve, reject) => {
      const addr = p.dmaAlloc(n, 16);
      const ok = this.q.add([{ addr, len: n, write: true }], (len) => {
        unref();
        const out = p.bytes(addr, Math.min(len, n)).slice();
        p.dmaFree(addr);
        resolve(out);
      });
      if (!ok) {
        p.dmaFree(addr);
        reject(new Error('virtio-rng: request queue full'));
        return;
      }
      ref();
      this.q.kick();
    });
  }
}

let rng: VirtioRng | null | undefined;

/** The first virtio-rng device, initialized on first use; null when there is none. */
export function openRng(devices: () => VirtioMmioDevice[]): VirtioRng | null {
  if (rng !== undefined) return rng;
  const d = devices().find((x) => x.deviceId === VIRTIO_ID_RNG);
  rng = d ? new VirtioRng(d) : null;
  return rng;
}
