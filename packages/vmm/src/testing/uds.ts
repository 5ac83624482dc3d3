// Host-side Unix-socket helpers for the vsock tests: the device's protocol tests
// (devices/virtio/vsock.test.ts) and the guest driver's against the device
// (packages/kernel/src/drivers/virtio/vsock.test.ts).

import { connect as netConnect, type Socket } from 'node:net';

/** Resolves after `ms` milliseconds (a macrotask turn at 0). */
export const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 2 ms; throws naming `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(2);
  }
}

/** A host-side connection to the Unix socket at `path` (half-open allowed). */
export function hostConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ path, allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Records what `s` receives and whether it ended or closed (errors ignored). */
export function collect(s: Socket): { data: () => Buffer; ended: () => boolean; closed: () => boolean } {
  const parts: Buffer[] = [];
  let ended = false;
  let closed = false;
  s.on('data', (d: Buffer) => parts.push(d));
  s.on('end', () => (ended = true));
  s.on('close', () => (closed = true));
  s.on('error', () => {});
  return { data: () => Buffer.concat(parts), ended: () => ended, closed: () => closed };
}
