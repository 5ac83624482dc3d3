// The interface between the virtio-mmio transport (mmio.ts) and a device model (rng, block,
// console): what the device offers (id, features, queue sizes, config space) and what the
// transport gives it on activation (validated queues, guest memory, a way to signal used buffers).
// Spec: virtio 1.2 §2 (device basics), §3.1 (initialization), §4.2.3 (MMIO device operation).

import type { DescChain, GuestMemoryAccess, Virtqueue } from './queue.ts';

export interface DeviceContext {
  readonly mem: GuestMemoryAccess;
  /** One validated queue per index, or undefined for a queue the driver did not enable. */
  readonly queues: readonly (Virtqueue | undefined)[];
  /** The negotiated features. */
  readonly features: bigint;
  /** Used buffers were pushed on queue `q`: the transport interrupts if the driver wants it. */
  signalUsed(q: number): void;
  /** The guest broke the device contract (bad queue, bad request): DEVICE_NEEDS_RESET. */
  fail(message: string): void;
  /** Device configuration changed (ConfigGeneration bump + config interrupt). */
  configChanged(): void;
  /** False once the driver reset the device or it failed; async work must then drop its results. */
  readonly live: boolean;
}

export interface VirtioDevice {
  readonly name: string;
  readonly deviceId: number;
  /** Device-specific feature bits (the transport adds VERSION_1, RING_EVENT_IDX, INDIRECT_DESC). */
  readonly deviceFeatures: bigint;
  /** QueueNumMax of each queue. */
  readonly queueSizes: readonly number[];
  /** Reads device config at `offset` (from VIRTIO_MMIO_CONFIG); out-of-range bytes read as 0. */
  readConfig(offset: number, data: Uint8Array): void;
  writeConfig(offset: number, data: Uint8Array): void;
  /** DRIVER_OK with valid queues. */
  activate(ctx: DeviceContext): void;
  /** The driver notified queue `q` (QueueNotify or its ioeventfd). */
  notify(q: number): void;
  /** The driver wrote 0 to Status (or the device failed): drop all activation state. */
  reset(): void;
}

/** Copies bytes of a config struct into an MMIO read, zero outside it. */
export function readConfigBytes(config: Uint8Array, offset: number, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = config[offset + i] ?? 0;
}

/**
 * Serves every chain the driver made available on queue `q`: `serve` handles one chain and
 * returns the used length. With EVENT_IDX, an empty ring re-arms the notification and looks
 * once more, so a buffer added meanwhile is not missed. A broken ring fails the device. Signals
 * used buffers once at the end.
 */
export function serveQueue(ctx: DeviceContext, q: number, serve: (vq: Virtqueue, chain: DescChain) => number): void {
  const vq = ctx.queues[q];
  if (!vq) return;
  let pushed = false;
  for (;;) {
    const r = vq.pop();
    if (r.kind === 'broken') return ctx.fail(r.message);
    if (r.kind === 'empty') {
      if (vq.enableNotification()) continue;
      break;
    }
    vq.push(r.chain.head, serve(vq, r.chain));
    pushed = true;
  }
  if (pushed) ctx.signalUsed(q);
}
