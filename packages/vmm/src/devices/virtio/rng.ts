// virtio-rng (entropy device): fills each device-writable buffer the driver offers with bytes
// from the host CSPRNG (node:crypto randomFillSync, i.e. OpenSSL's RAND_bytes). At most 64 KiB
// per request, so one notification cannot make the main thread fill gigabytes.
// Spec: virtio 1.2 §5.4 (one requestq, no features, no config).

import { randomFillSync } from 'node:crypto';
import { VIRTIO_ID_RNG } from '@kiln/common/virtio/constants.ts';
import { serveQueue, type DeviceContext, type VirtioDevice } from './device.ts';

export const RNG_QUEUE_SIZE = 256;
export const RNG_MAX_REQUEST = 64 * 1024;

export class VirtioRng implements VirtioDevice {
  readonly name = 'virtio-rng';
  readonly deviceId = VIRTIO_ID_RNG;
  readonly deviceFeatures = 0n;
  readonly queueSizes = [RNG_QUEUE_SIZE];
  bytesServed = 0;
  #ctx: DeviceContext | undefined;

  readConfig(_offset: number, data: Uint8Array): void {
    data.fill(0);
  }
  writeConfig(): void {}
  activate(ctx: DeviceContext): void {
    this.#ctx = ctx;
  }
  reset(): void {
    this.#ctx = undefined;
  }

  notify(q: number): void {
    if (!this.#ctx) return;
    serveQueue(this.#ctx, q, (vq, chain) => {
      let left = RNG_MAX_REQUEST;
      let n = 0;
      for (const view of vq.writableViews(chain)) {
        const part = view.length <= left ? view : view.subarray(0, left);
        randomFillSync(part);
        n += part.length;
        left -= part.length;
        if (left === 0) break;
      }
      this.bytesServed += n;
      return n;
    });
  }
}
