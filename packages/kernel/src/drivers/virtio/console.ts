// virtio-console output (virtio 1.2 §5.3): the guest console on the transmitq of port 0, no
// optional features, no receiveq. Text is buffered in JS and goes out once per event-loop turn
// (the kernel's tick calls flush()): each flush UTF-8-encodes the buffered text into DMA buffers
// and kicks once, so a turn that logs 1000 lines costs one notification instead of one trap per
// byte on the serial port. Interrupts stay off while output flows (completed buffers are reaped
// from the used ring at the next flush); busy() turns them on only when the program would
// otherwise end with output still in flight, and drainSync() spins before op_exit.

import { encodeUtf8Into } from '@kiln/common/text/utf8.ts';
import { VIRTIO_ID_CONSOLE } from '@kiln/common/virtio/constants.ts';
import { VIRTIO_CONSOLE_TRANSMITQ } from '@kiln/common/virtio/devices.ts';
import type { Platform } from '../platform.ts';
import type { VirtioMmioDevice } from './mmio.ts';
import type { Virtqueue } from './virtqueue.ts';

/** Bytes per DMA buffer (one descriptor each). */
export const CONSOLE_BUF_SIZE = 16 * 1024;
/** Transmit queue size, and so the most buffers in flight. */
export const CONSOLE_QUEUE_SIZE = 32;
/** Buffered text (UTF-16 units) that triggers a flush before the end of the turn. */
export const CONSOLE_FLUSH_AT = 64 * 1024;

interface Buf {
  addr: number;
  bytes: Uint8Array;
}

export class VirtioConsoleOut {
  private readonly q: Virtqueue;
  private readonly p: Platform;
  private readonly free: Buf[] = [];
  private pending: string[] = [];
  private pendingLen = 0;
  /** Buffers handed to the device and not yet returned. */
  private outstanding = 0;
  /** Bytes written to the device (for tests and benchmarks). */
  bytesOut = 0;

  constructor(private readonly dev: VirtioMmioDevice, private readonly now: () => number) {
    if (dev.deviceId !== VIRTIO_ID_CONSOLE) throw new TypeError(`virtio-console: device id ${dev.deviceId} is not a console`);
    this.p = dev.p;
    dev.negotiate(0);
    this.q = dev.setupQueue(VIRTIO_CONSOLE_TRANSMITQ, CONSOLE_QUEUE_SIZE);
    this.q.interrupts = false;
    dev.driverOk();
  }

  /** Notifications sent to the device. */
  get notifications(): number {
    return this.q.notifications;
  }

  /** Buffers text; it goes out at the next flush() (the end of this loop turn). */
  write(text: string): void {
    if (text.length === 0) return;
    this.pending.push(text);
    this.pendingLen += text.length;
    if (this.pendingLen >= CONSOLE_FLUSH_AT) this.flush();
  }

  /** Encodes the buffered text into DMA buffers and kicks once. Waits (spins) only when every buffer is in flight. */
  flush(): void {
    if (this.q.interrupts) this.q.interrupts = false; // busy() turned them on to sleep; polling again
    this.q.processUsed();
    if (this.pendingLen === 0) return;
    const parts = this.pending;
    this.pending = [];
    this.pendingLen = 0;
    let buf: Buf | undefined;
    let used = 0;
    for (let k = 0; k < parts.length; k++) {
      const s = parts[k]!;
      let i = 0;
      while (i < s.length) {
        if (!buf) {
          buf = this.takeBuffer();
          used = 0;
        }
        const r = encodeUtf8Into(s, i, buf.bytes, used);
        i = r[0];
        used = r[1];
        if (i < s.length) {
          this.submit(buf, used);
          buf = undefined;
        }
      }
    }
    if (buf) this.submit(buf, used);
    this.q.kick();
  }

  private submit(buf: Buf, len: number): void {
    if (len === 0) {
      this.free.push(buf);
      return;
    }
    this.q.add([{ addr: buf.addr, len, write: false }], () => {
      this.outstanding--;
      this.free.push(buf);
    });
    this.outstanding++;
    this.bytesOut += len;
  }

  /** A free buffer: a reaped one, a new one while the queue has room, else wait for the device. */
  private takeBuffer(): Buf {
    for (;;) {
      const b = this.free.pop();
      if (b) return b;
      if (this.outstanding + this.free.length < CONSOLE_QUEUE_SIZE) {
        const addr = this.p.dmaAlloc(CONSOLE_BUF_SIZE, 16);
        return { addr, bytes: this.p.bytes(addr, CONSOLE_BUF_SIZE) };
      }
      // Every buffer is with the device: publish what was added and wait for it (back-pressure,
      // as a full UART would give). The device runs on another host thread.
      this.q.kick();
      this.q.processUsed();
    }
  }

  /**
   * Whether output is still with the device after a flush. If so, interrupts are turned on so
   * the core can halt until the device returns the buffers (the kernel's tick returns Infinity).
   */
  busy(): boolean {
    this.flush();
    if (this.outstanding === 0) return false;
    this.q.interrupts = true;
    this.q.processUsed(); // entries that landed before used_event was written
    if (this.outstanding === 0) {
      this.q.interrupts = false;
      return false;
    }
    return true;
  }

  /** Flushes and waits (polling the used ring) until the device has taken every byte, or `timeoutNs` passed. */
  drainSync(timeoutNs: number): boolean {
    this.flush();
    const deadline = this.now() + timeoutNs;
    while (this.outstanding > 0) {
      this.q.processUsed();
      if (this.outstanding > 0 && this.now() > deadline) return false;
    }
    return true;
  }
}
