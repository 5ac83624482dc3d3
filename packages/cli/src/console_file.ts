// QEMU's console through a regular file, so that nothing the guest prints is lost. QEMU's fd
// chardev makes its output non-blocking, and its 16550 model, when a write would block, keeps the
// byte for a retry while the guest's next THR write overwrites it (hw/char/serial.c serial_xmit;
// Kiln's core writes whole buffers with `rep outsb`, never polling LSR): behind a full pipe (a slow
// reader, or kiln itself a few ms late) output vanishes. A regular file never blocks, so QEMU
// writes to an unlinked temporary file and kiln copies what it appends to stdout at the pace
// stdout takes it (a slow reader costs temporary-file space, never bytes).

import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Takes console bytes; a returned promise means "wait before sending more" (backpressure). */
export type ConsoleWriter = (chunk: Uint8Array) => void | Promise<void>;

/** The most one read hands to the writer. */
const CHUNK_MAX = 1 << 20;
/** Polling interval bounds while the file has no new bytes (ms): the added console latency. */
const POLL_MIN_MS = 1;
const POLL_MAX_MS = 10;

/** Whether `fd` is a regular file (then QEMU may write to it directly: it never blocks). */
export function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** A read-write descriptor of a new, already unlinked file (it disappears with its last descriptor). */
export function openUnlinkedFile(prefix = 'kiln-console-'): number {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'console');
  const fd = openSync(path, 'w+', 0o600);
  unlinkSync(path);
  rmdirSync(dir);
  return fd;
}

/**
 * Copies the bytes another process appends to the file `fd` (from offset 0) to `write` until
 * `finish()` is called and everything appended before it is copied. Reads are positional, so
 * the writer's file offset (shared with `fd` when `fd` was handed to it) is not disturbed.
 */
export class FileTail {
  private finished = false;
  private wake: (() => void) | undefined;
  readonly done: Promise<void>;
  /** Bytes copied so far. */
  copied = 0;

  constructor(private readonly fd: number, private readonly write: ConsoleWriter) {
    this.done = this.run();
  }

  /** The writer is gone: copy the rest, then `done` resolves. */
  finish(): void {
    this.finished = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    let idleMs = POLL_MIN_MS;
    for (;;) {
      const last = this.finished; // read before the size: all bytes written before finish() are then in it
      const avail = fstatSync(this.fd).size - this.copied;
      if (avail > 0) {
        const buf = Buffer.allocUnsafe(Math.min(avail, CHUNK_MAX)); // a new buffer each time: the writer may keep it
        const n = readSync(this.fd, buf, 0, buf.length, this.copied);
        this.copied += n;
        const wait = this.write(n === buf.length ? buf : buf.subarray(0, n));
        if (wait) await wait;
        idleMs = POLL_MIN_MS;
        continue;
      }
      if (last) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, idleMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
      idleMs = Math.min(idleMs * 2, POLL_MAX_MS);
    }
  }
}

/** Closes `fd`, ignoring errors (cleanup paths). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
