// TransformStream (WHATWG Streams §6): a writable side whose chunks go through transform(chunk,
// controller) (identity when absent) into a readable side, flush() at close, and backpressure
// across the pair: a write waits until the readable side has room (its high-water mark, default
// 0, means "until a reader asks"). Errors on either side error both. Also TextEncoderStream and
// TextDecoderStream (Encoding §5), the text streams, built on it. Installed as globals by
// install_streams.ts.

import { ReadableStream, type ReadableStreamDefaultController } from './readable_stream.ts';
import { TextDecoder, TextEncoder } from './text_codec.ts';
import { WritableStream } from './writable_stream.ts';

export interface Transformer<I, O> {
  start?(controller: TransformStreamDefaultController<O>): void | PromiseLike<void>;
  transform?(chunk: I, controller: TransformStreamDefaultController<O>): void | PromiseLike<void>;
  flush?(controller: TransformStreamDefaultController<O>): void | PromiseLike<void>;
  cancel?(reason?: unknown): void | PromiseLike<void>;
  readableType?: undefined;
  writableType?: undefined;
}

export class TransformStreamDefaultController<O> {
  /** @internal */
  constructor(private readonly pair: Pair<O>) {}

  get desiredSize(): number | null {
    return this.pair.readable.desiredSize;
  }

  enqueue(chunk: O): void {
    this.pair.readable.enqueue(chunk);
    this.pair.noteBackpressure();
  }

  error(reason?: unknown): void {
    this.pair.fail(reason);
  }

  terminate(): void {
    this.pair.readable.close();
    this.pair.fail(new TypeError('The TransformStream was terminated'), false);
  }
}

/** The state the two sides share. */
class Pair<O> {
  readable!: ReadableStreamDefaultController<O>;
  failWritable!: (e: unknown) => void;
  /** Resolved when the readable side wants more (no backpressure). */
  room: Promise<void> = Promise.resolve();
  private release: (() => void) | null = null;
  failed = false;

  noteBackpressure(): void {
    const size = this.readable.desiredSize;
    if (size !== null && size <= 0 && this.release === null) this.room = new Promise((r) => (this.release = r));
  }

  pulled(): void {
    this.release?.();
    this.release = null;
  }

  fail(e: unknown, readableToo = true): void {
    if (this.failed) return;
    this.failed = true;
    if (readableToo) {
      try {
        this.readable.error(e);
      } catch {
        // already closed
      }
    }
    this.failWritable(e);
    this.pulled();
  }
}

export class TransformStream<I = unknown, O = unknown> {
  readonly readable: ReadableStream<O>;
  readonly writable: WritableStream<I>;

  constructor(transformer: Transformer<I, O> = {}, writableStrategy: { highWaterMark?: number } = {}, readableStrategy: { highWaterMark?: number } = {}) {
    if (transformer.readableType !== undefined || transformer.writableType !== undefined) throw new RangeError('TransformStream: readableType and writableType must be undefined');
    const pair = new Pair<O>();
    const controller = new TransformStreamDefaultController<O>(pair);
    let startDone!: () => void;
    const started = new Promise<void>((r) => (startDone = r));
    this.readable = new ReadableStream<O>({
      start: (c) => {
        pair.readable = c;
        pair.noteBackpressure();
      },
      pull: () => pair.pulled(),
      cancel: async (reason) => {
        await transformer.cancel?.call(transformer, reason);
        pair.fail(reason, false);
      },
    }, { highWaterMark: readableStrategy.highWaterMark ?? 0 });
    this.writable = new WritableStream<I>({
      start: async (wc) => {
        pair.failWritable = (e) => wc.error(e);
        await transformer.start?.call(transformer, controller);
        startDone();
      },
      write: async (chunk) => {
        await started;
        await pair.room;
        if (pair.failed) throw new TypeError('The TransformStream was errored or terminated');
        try {
          if (transformer.transform) await transformer.transform.call(transformer, chunk, controller);
          else controller.enqueue(chunk as unknown as O);
        } catch (e) {
          pair.fail(e);
          throw e;
        }
      },
      close: async () => {
        try {
          await transformer.flush?.call(transformer, controller);
          if (!pair.failed) pair.readable.close();
        } catch (e) {
          pair.fail(e);
          throw e;
        }
      },
      abort: async (reason) => {
        await transformer.cancel?.call(transformer, reason);
        pair.fail(reason);
      },
    }, { highWaterMark: writableStrategy.highWaterMark ?? 1 });
  }

  get [Symbol.toStringTag](): string {
    return 'TransformStream';
  }
}

/** Strings in, UTF-8 bytes out (a surrogate pair split across chunks is kept together). */
export class TextEncoderStream extends TransformStream<string, Uint8Array> {
  constructor() {
    const encoder = new TextEncoder();
    let pending = '';
    super({
      transform(chunk, c) {
        let s = pending + String(chunk);
        pending = '';
        const last = s.charCodeAt(s.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pending = s.slice(-1);
          s = s.slice(0, -1);
        }
        if (s !== '') c.enqueue(encoder.encode(s));
      },
      flush(c) {
        if (pending !== '') c.enqueue(encoder.encode(pending));
      },
    });
  }

  get encoding(): string {
    return 'utf-8';
  }
}

/** Bytes in, strings out, decoding across chunk boundaries (TextDecoder with stream: true). */
export class TextDecoderStream extends TransformStream<ArrayBufferView | ArrayBuffer, string> {
  private readonly decoder: TextDecoder;

  constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const decoder = new TextDecoder(label, options);
    super({
      transform(chunk, c) {
        const s = decoder.decode(chunk, { stream: true });
        if (s !== '') c.enqueue(s);
      },
      flush(c) {
        const s = decoder.decode();
        if (s !== '') c.enqueue(s);
      },
    });
    this.decoder = decoder;
  }

  get encoding(): string {
    return this.decoder.encoding;
  }

  get fatal(): boolean {
    return this.decoder.fatal;
  }

  get ignoreBOM(): boolean {
    return this.decoder.ignoreBOM;
  }
}
