// The readable/writable pair behind CompressionStream and DecompressionStream: bytes written go
// through a zlib engine (pako's z_stream, zlib ported line by line) and come out of the
// readable. The readable pulls (high-water mark 0): each read runs the engine once into a fresh
// 16 KiB buffer, and a write resolves only when the engine has taken all of its chunk, so a
// reader that stops reading stops the writer — a small compressed chunk that expands to
// gigabytes (a zip bomb) never builds up in memory. An engine error errors both sides with a
// TypeError, as the Compression Streams spec asks.

import type { ZStream } from 'pako';
import { ReadableStream, type ReadableStreamDefaultController } from './readable_stream.ts';
import { WritableStream } from './writable_stream.ts';
import { bufferSourceBytes } from '../lib/buffer_source.ts';

/** One run of deflate or inflate over `strm` (its input and output already set). */
export interface ZlibEngine {
  readonly strm: ZStream;
  /** Runs the engine; `finish` once all input has been written. Returns whether the stream's
   * end was reached (deflate wrote its trailer / inflate read it); throws a TypeError on bad data. */
  run(finish: boolean): boolean;
  /** Input written after the end (inflate: trailing data is an error). */
  afterEnd(bytes: Uint8Array): void;
}

export type CompressionFormat = 'gzip' | 'deflate' | 'deflate-raw';

/** What a chunk may be (Web IDL's BufferSource). */
export type BufferSource = ArrayBuffer | ArrayBufferView;

/** zlib's windowBits for each format: 15 with the zlib wrapper, -15 raw, 15 + 16 gzip. */
export function windowBits(format: unknown, what: string): number {
  switch (format) {
    case 'deflate': return 15;
    case 'deflate-raw': return -15;
    case 'gzip': return 31;
    default: throw new TypeError(`${what}: unsupported format "${String(format)}" (expected "gzip", "deflate" or "deflate-raw")`);
  }
}

const OUTPUT_BYTES = 16 * 1024;

function toBytes(chunk: unknown, what: string): Uint8Array {
  const bytes = bufferSourceBytes(chunk);
  if (bytes === undefined) throw new TypeError(`${what}: a chunk must be an ArrayBuffer or an ArrayBufferView, not ${chunk === null ? 'null' : typeof chunk}`);
  return bytes;
}

interface Pending {
  resolve(): void;
  reject(e: unknown): void;
}

export function zlibPair(engine: ZlibEngine, what: string): { readable: ReadableStream<Uint8Array>; writable: WritableStream<BufferSource> } {
  const strm = engine.strm;
  strm.avail_in = 0;
  let ended = false;
  let closing = false;
  let outputFull = false;
  let failure: { error: unknown } | undefined;
  let write: Pending | undefined;
  let close: Pending | undefined;
  let wake: (() => void) | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const wakeReader = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (error: unknown): void => {
    if (failure) return;
    failure = { error };
    write?.reject(error);
    close?.reject(error);
    write = close = undefined;
    wakeReader();
  };

  const pull = async (c: ReadableStreamDefaultController<Uint8Array>): Promise<void> => {
    for (;;) {
      if (failure) throw failure.error;
      if (ended && strm.avail_in === 0 && !outputFull) {
        write?.resolve();
        write = undefined;
        if (closing) {
          c.close();
          close?.resolve();
          close = undefined;
          return;
        }
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      if (strm.avail_in === 0 && !outputFull && !closing) {
        write?.resolve(); // the engine took the whole chunk: the writer may send the next
        write = undefined;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const output = new Uint8Array(OUTPUT_BYTES);
      strm.output = output;
      strm.next_out = 0;
      strm.avail_out = OUTPUT_BYTES;
      try {
        if (engine.run(closing && strm.avail_in === 0)) ended = true;
      } catch (e) {
        fail(e);
        throw e;
      }
      const produced = strm.next_out;
      outputFull = strm.avail_out === 0;
      if (closing && !ended && strm.avail_in === 0 && !outputFull && produced === 0) {
        const e = new TypeError(`${what}: the compressed data ended before the end of the stream (truncated input)`);
        fail(e);
        throw e;
      }
      if (produced > 0) {
        c.enqueue(produced === OUTPUT_BYTES ? output : output.slice(0, produced));
        return;
      }
    }
  };

  const readable = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    pull,
    cancel: (reason) => fail(reason),
  }, { highWaterMark: 0 });

  const writable = new WritableStream<BufferSource>({
    write(chunk) {
      if (failure) throw failure.error;
      let bytes: Uint8Array;
      try {
        bytes = toBytes(chunk, what);
        if (ended && bytes.byteLength > 0) engine.afterEnd(bytes);
      } catch (e) {
        controller.error(e);
        fail(e);
        throw e;
      }
      if (bytes.byteLength === 0 || ended) return undefined;
      strm.input = bytes;
      strm.next_in = 0;
      strm.avail_in = bytes.byteLength;
      return new Promise<void>((resolve, reject) => {
        write = { resolve, reject };
        wakeReader();
      });
    },
    close() {
      if (failure) throw failure.error;
      closing = true;
      return new Promise<void>((resolve, reject) => {
        close = { resolve, reject };
        wakeReader();
      });
    },
    abort(reason) {
      controller.error(reason);
      fail(reason);
    },
  });
  return { readable, writable };
}

/** The readable/writable pair as CompressionStream and DecompressionStream expose it (Web IDL's
 * GenericTransformStream): the two getters, one source for both classes. */
export class ZlibTransform {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writable: WritableStream<BufferSource>;

  protected constructor(pair: { readable: ReadableStream<Uint8Array>; writable: WritableStream<BufferSource> }) {
    this.#readable = pair.readable;
    this.#writable = pair.writable;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable;
  }

  get writable(): WritableStream<BufferSource> {
    return this.#writable;
  }
}
