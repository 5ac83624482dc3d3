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

/** Chains one call of serveQueue handles before it yields to the event loop (and resumes). */
export const QUEUE_TURN_BUDGET = 256;

/**
 * What a device did with one chain: a number is the used length (the chain goes back now);
 * ASYNC keeps it (the device pushes it itself when its I/O completes); LATER leaves it on the
 * ring for a later turn (the device cannot take it yet, e.g. no input to give).
 */
export const ASYNC = 'async';
export const LATER = 'later';
export type Served = number | typeof ASYNC | typeof LATER;

export interface ServeOptions {
  /** Checked before each chain: false stops the loop with the ring untouched (nothing to give). */
  ready?: () => boolean;
  /** Runs when the budget ran out, on a later event-loop turn (default: the same serveQueue call). */
  resume?: () => void;
}

/** Queues with a resumption already scheduled (one per queue, however often it is notified). */
const resumeScheduled = new WeakSet<Virtqueue>();

/**
 * The one queue loop every device uses. Serves the chains the driver made available on queue
 * `q`, at most QUEUE_TURN_BUDGET per call: past it the rest waits for a later event-loop turn
 * (setImmediate), so a guest that keeps its rings full cannot starve other devices, the other
 * vCPUs or --timeout. With EVENT_IDX an empty ring re-arms the notification and looks once more,
 * so a buffer added meanwhile is not missed. A broken ring fails the device. Used buffers are
 * signalled once at the end (the return value says whether any were). How many chains may be outstanding is bounded by the ring itself
 * (Virtqueue.pop breaks a driver that publishes more than the queue size).
 */
export function serveQueue(ctx: DeviceContext, q: number, serve: (vq: Virtqueue, chain: DescChain) => Served, o: ServeOptions = {}): boolean {
  const vq = ctx.queues[q];
  if (!vq || !ctx.live) return false;
  let pushed = false;
  let budget = QUEUE_TURN_BUDGET;
  for (;;) {
    if (o.ready && !o.ready()) break;
    if (budget-- === 0) {
      scheduleResume(ctx, vq, o.resume ?? (() => serveQueue(ctx, q, serve, o)));
      break;
    }
    const r = vq.pop();
    if (r.kind === 'broken') {
      ctx.fail(r.message);
      return false;
    }
    if (r.kind === 'empty') {
      if (vq.enableNotification()) continue;
      break;
    }
    const used = serve(vq, r.chain);
    if (used === LATER) {
      vq.unpop();
      break;
    }
    if (used === ASYNC) continue;
    vq.push(r.chain.head, used);
    pushed = true;
  }
  if (pushed) ctx.signalUsed(q);
  return pushed;
}

/** Runs `resume` (serving queue `q` again) on a later event-loop turn, once however often asked. */
export function serveLater(ctx: DeviceContext, q: number, resume: () => void): void {
  const vq = ctx.queues[q];
  if (vq && ctx.live) scheduleResume(ctx, vq, resume);
}

function scheduleResume(ctx: DeviceContext, vq: Virtqueue, resume: () => void): void {
  if (resumeScheduled.has(vq)) return;
  resumeScheduled.add(vq);
  setImmediate(() => {
    resumeScheduled.delete(vq);
    if (!ctx.live) return;
    try {
      resume();
    } catch (e) {
      ctx.fail(`device model error: ${(e as Error).message}`);
    }
  });
}
