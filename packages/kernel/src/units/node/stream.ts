// `node:stream` for guests, as Workers' nodejs_compat has it: Node's streams from npm
// readable-stream 4.8 (Node 18's lib/stream as a package, pinned in packages/kernel/package.json):
// Readable, Writable, Duplex, Transform, PassThrough, pipeline, finished, addAbortSignal,
// compose, destroy, the is* helpers, promises, and the legacy Stream as the default export (with
// all of them as properties, as Node's module object has). What the package leaves as stubs is
// written here after Node's lib/internal/webstreams/adapters.js: Readable, Writable and Duplex
// .fromWeb/.toWeb over the kernel's web streams (web/readable_stream.ts, writable_stream.ts), set
// on the package's classes so Duplex.from(webStream) works too. The kernel's web streams count
// chunks (no size()), so a byte-mode Readable.toWeb queues one chunk ahead where Node queues
// highWaterMark bytes. The package's own imports resolve to Kiln's modules (build.ts: NODE_COMPAT
// for process, buffer, events, string_decoder; abort-controller → units/node/abort_controller.ts);
// the bundle gets this module through stream_cjs.ts, so `require('stream')` is the Stream itself.
// Spec: Node.js stream; docs/ARCHITECTURE.md "The CLI" (bundler conventions).

/// <reference path="./npm_readable_stream.d.ts" />
import Stream from 'readable-stream/lib/stream.js';
import errors from 'readable-stream/lib/ours/errors.js';
import { Buffer } from 'buffer'; // the npm package in the guest (build.ts NODE_COMPAT), Node's own in unit tests
import { ReadableStream, type ReadableStreamDefaultController } from '../../web/readable_stream.ts';
import { WritableStream, type WritableStreamDefaultController } from '../../web/writable_stream.ts';

export const {
  Readable, Writable, Duplex, Transform, PassThrough, pipeline, finished, addAbortSignal, compose, destroy,
  isDestroyed, isDisturbed, isErrored, isReadable, isWritable, getDefaultHighWaterMark, setDefaultHighWaterMark,
  promises, _isUint8Array, _uint8ArrayToBuffer,
} = Stream;
export { Stream };
export default Stream;

const { AbortError, codes: { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_STREAM_PREMATURE_CLOSE } } = errors;

type Readable = InstanceType<typeof Readable>;
type Writable = InstanceType<typeof Writable>;
type Duplex = InstanceType<typeof Duplex>;
type Callback = (error?: Error | null) => void;

/** What fromWeb takes: a web ReadableStream / WritableStream (the kernel's, or any with their API). */
interface WebReadable {
  getReader(): { read(): Promise<{ done: boolean; value?: unknown }>; cancel(reason?: unknown): Promise<void>; readonly closed: Promise<void> };
}
interface WebWritable {
  getWriter(): {
    write(chunk: unknown): Promise<void>; close(): Promise<void>; abort(reason?: unknown): Promise<void>;
    readonly ready: Promise<void>; readonly closed: Promise<void>;
  };
}
type Reader = ReturnType<WebReadable['getReader']>;
type Writer = ReturnType<WebWritable['getWriter']>;

interface FromWebOptions {
  highWaterMark?: number;
  encoding?: string;
  objectMode?: boolean;
  decodeStrings?: boolean;
  allowHalfOpen?: boolean;
  signal?: unknown;
}

const isWebReadable = (s: unknown): s is WebReadable => typeof (s as WebReadable | null)?.getReader === 'function';
const isWebWritable = (s: unknown): s is WebWritable => typeof (s as WebWritable | null)?.getWriter === 'function';

/** An error thrown by a stream callback inside a promise reaction escapes it, as in Node. */
const rethrow = (e: unknown): void => queueMicrotask(() => {
  throw e;
});

function isWritableEnded(w: Writable | Duplex): boolean {
  if (w.writableEnded === true) return true;
  const state = w._writableState;
  return !state?.errored && state?.ended === true;
}

function checkOptions(options: FromWebOptions): void {
  if (typeof options !== 'object' || options === null) throw new ERR_INVALID_ARG_TYPE('options', 'Object', options);
  const { encoding, objectMode = false, decodeStrings = true } = options;
  if (encoding !== undefined && !Buffer.isEncoding(encoding)) throw new ERR_INVALID_ARG_VALUE(encoding, 'options.encoding');
  if (typeof objectMode !== 'boolean') throw new ERR_INVALID_ARG_TYPE('options.objectMode', 'boolean', objectMode);
  if (typeof decodeStrings !== 'boolean') throw new ERR_INVALID_ARG_TYPE('options.decodeStrings', 'boolean', decodeStrings);
}

/** A Node read() that takes the web reader's next chunk (push(null) at its end). */
function readFrom(reader: Reader, stream: () => Readable): () => void {
  return () => {
    reader.read().then((r) => {
      stream().push(r.done ? null : r.value);
    }, (e) => destroy(stream(), e));
  };
}

/** A Node write() that writes each chunk to the web writer once it is ready; strings become
 * bytes (Buffer.from with the chunk's encoding) unless decodeStrings is false or in object mode. */
function writeTo(writer: Writer, decodeStrings: boolean, objectMode: boolean, stream: () => Writable | Duplex) {
  return (chunk: unknown, encoding: string, callback: Callback): void => {
    if (typeof chunk === 'string' && decodeStrings && !objectMode) {
      const b = Buffer.from(chunk, encoding as 'utf8'); // any encoding Buffer knows
      chunk = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    const done = (error?: Error): void => {
      try {
        callback(error);
      } catch (e) {
        destroy(stream(), e);
      }
    };
    writer.ready.then(() => writer.write(chunk).then(() => done(), done), done);
  };
}

/** Readable.fromWeb(readableStream, { highWaterMark, encoding, objectMode, signal }): a Readable
 * that reads the web stream as it is read itself; destroying it cancels the web stream, and the
 * web stream's error destroys it. */
export function readableFromWeb(readableStream: WebReadable, options: FromWebOptions = {}): Readable {
  if (!isWebReadable(readableStream)) throw new ERR_INVALID_ARG_TYPE('readableStream', 'ReadableStream', readableStream);
  checkOptions(options);
  const { highWaterMark, encoding, objectMode = false, signal } = options;
  const reader = readableStream.getReader();
  let closed = false;
  const readable: Readable = new Readable({
    objectMode, highWaterMark, encoding, signal,
    read: readFrom(reader, () => readable),
    destroy(error, callback) {
      const done = (): void => {
        try {
          callback(error);
        } catch (e) {
          rethrow(e);
        }
      };
      if (!closed) reader.cancel(error).then(done, done);
      else done();
    },
  });
  reader.closed.then(() => void (closed = true), (e) => {
    closed = true;
    destroy(readable, e);
  });
  return readable;
}

/** Readable.toWeb(readable, { strategy }): a ReadableStream that pauses the Readable while its
 * queue is full (highWaterMark: the Readable's in object mode, else one chunk, the kernel's
 * streams counting chunks); cancelling it destroys the Readable, whose error errors it. Byte
 * chunks arrive as plain Uint8Array copies, as in Node. */
export function readableToWeb(streamReadable: Readable, options: { strategy?: { highWaterMark?: number } } = {}): ReadableStream<unknown> {
  if (typeof streamReadable?._readableState !== 'object') throw new ERR_INVALID_ARG_TYPE('streamReadable', 'stream.Readable', streamReadable);
  if (isDestroyed(streamReadable) || !isReadable(streamReadable)) {
    const closed = new ReadableStream<unknown>();
    void closed.cancel();
    return closed;
  }
  const objectMode = streamReadable.readableObjectMode;
  const strategy = options?.strategy ?? { highWaterMark: objectMode ? streamReadable.readableHighWaterMark : 1 };
  let controller!: ReadableStreamDefaultController<unknown>;
  let wasCanceled = false;
  const onData = (chunk: unknown): void => {
    if (wasCanceled) return; // a chunk the Readable had in hand when it was destroyed
    if (Buffer.isBuffer(chunk) && !objectMode) chunk = new Uint8Array(chunk); // a copy, off the Buffer's pool
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 0) <= 0) streamReadable.pause();
  };
  streamReadable.pause();
  const cleanup = finished(streamReadable, (error) => {
    if ((error as { code?: string } | null | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE') error = new AbortError(undefined, { cause: error });
    cleanup();
    streamReadable.on('error', () => undefined); // a legacy stream's late second error is not uncaught
    if (error) return controller.error(error);
    if (!wasCanceled) controller.close();
  });
  streamReadable.on('data', onData);
  return new ReadableStream<unknown>({
    start: (c) => void (controller = c),
    pull: () => void streamReadable.resume(),
    cancel: (reason) => {
      wasCanceled = true;
      destroy(streamReadable, reason);
    },
  }, strategy);
}

/** Writable.fromWeb(writableStream, { highWaterMark, decodeStrings, objectMode, signal }): a
 * Writable whose chunks go to the web stream's writer; end() closes it, destroy(err) aborts it,
 * and the web stream's error (or its closing first) destroys the Writable. */
export function writableFromWeb(writableStream: WebWritable, options: FromWebOptions = {}): Writable {
  if (!isWebWritable(writableStream)) throw new ERR_INVALID_ARG_TYPE('writableStream', 'WritableStream', writableStream);
  checkOptions(options);
  const { highWaterMark, decodeStrings = true, objectMode = false, signal } = options;
  const writer = writableStream.getWriter();
  let closed = false;
  const writable: Writable = new Writable({
    highWaterMark, objectMode, decodeStrings, signal,
    write: writeTo(writer, decodeStrings, objectMode, () => writable),
    destroy(error, callback) {
      const done = (): void => {
        try {
          callback(error);
        } catch (e) {
          rethrow(e);
        }
      };
      if (closed) done();
      else if (error != null) writer.abort(error).then(done, done);
      else writer.close().then(done, done);
    },
    final(callback) {
      const done = (error?: Error): void => {
        try {
          callback(error);
        } catch (e) {
          queueMicrotask(() => destroy(writable, e));
        }
      };
      if (!closed) writer.close().then(() => done(), done);
    },
  });
  writer.closed.then(() => {
    closed = true;
    if (!isWritableEnded(writable)) destroy(writable, new ERR_STREAM_PREMATURE_CLOSE());
  }, (e) => {
    closed = true;
    destroy(writable, e);
  });
  return writable;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}
function deferred(): Deferred {
  const d = {} as Deferred;
  d.promise = new Promise<void>((resolve, reject) => Object.assign(d, { resolve, reject }));
  return d;
}

/** Writable.toWeb(writable): a WritableStream whose writes wait for 'drain' when write() says
 * the Writable is full; close() ends it (and resolves when it finishes), abort() destroys it. */
export function writableToWeb(streamWritable: Writable | Duplex): WritableStream<unknown> {
  if (typeof streamWritable?.write !== 'function' || typeof streamWritable?.on !== 'function') {
    throw new ERR_INVALID_ARG_TYPE('streamWritable', 'stream.Writable', streamWritable);
  }
  if (isDestroyed(streamWritable) || !isWritable(streamWritable)) {
    const closed = new WritableStream<unknown>();
    void closed.close();
    return closed;
  }
  let controller: WritableStreamDefaultController | undefined;
  let backpressure: Deferred | undefined;
  let closed: Deferred | undefined;
  const cleanup = finished(streamWritable, (error) => {
    if ((error as { code?: string } | null | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE') error = new AbortError(undefined, { cause: error });
    cleanup();
    streamWritable.on('error', () => undefined); // a legacy stream's late second error is not uncaught
    if (error != null) {
      backpressure?.reject(error);
      closed?.reject(error);
      closed = undefined;
      controller?.error(error);
      controller = undefined;
      return;
    }
    if (closed !== undefined) {
      closed.resolve();
      closed = undefined;
      return;
    }
    controller?.error(new AbortError());
    controller = undefined;
  });
  streamWritable.on('drain', () => backpressure?.resolve());
  return new WritableStream<unknown>({
    start: (c) => void (controller = c),
    write: (chunk) => {
      if (streamWritable.writableNeedDrain || !streamWritable.write(chunk)) {
        backpressure = deferred();
        return backpressure.promise.finally(() => void (backpressure = undefined));
      }
      return undefined;
    },
    abort: (reason) => destroy(streamWritable, reason),
    close: () => {
      if (closed === undefined && !isWritableEnded(streamWritable)) {
        closed = deferred();
        streamWritable.end();
        return closed.promise;
      }
      controller = undefined;
      return undefined;
    },
  }, { highWaterMark: streamWritable.writableHighWaterMark });
}

/** Duplex.fromWeb({ readable, writable }, options): a Duplex reading the one and writing the
 * other (allowHalfOpen by default); destroying it aborts the writer and cancels the reader. */
export function duplexFromWeb(pair: { readable: WebReadable; writable: WebWritable }, options: FromWebOptions = {}): Duplex {
  const { readable: readableStream, writable: writableStream } = pair ?? {};
  if (!isWebReadable(readableStream)) throw new ERR_INVALID_ARG_TYPE('pair.readable', 'ReadableStream', readableStream);
  if (!isWebWritable(writableStream)) throw new ERR_INVALID_ARG_TYPE('pair.writable', 'WritableStream', writableStream);
  checkOptions(options);
  const { allowHalfOpen = true, objectMode = false, encoding, decodeStrings = true, highWaterMark, signal } = options;
  const writer = writableStream.getWriter();
  const reader = readableStream.getReader();
  let writableClosed = false;
  let readableClosed = false;
  const duplex: Duplex = new Duplex({
    allowHalfOpen, highWaterMark, objectMode, encoding, decodeStrings, signal,
    write: writeTo(writer, decodeStrings, objectMode, () => duplex),
    final(callback) {
      const done = (error?: Error): void => {
        try {
          callback(error);
        } catch (e) {
          queueMicrotask(() => destroy(duplex, e));
        }
      };
      if (!writableClosed) writer.close().then(() => done(), done);
    },
    read: readFrom(reader, () => duplex),
    destroy(error, callback) {
      const done = (): void => {
        try {
          callback(error);
        } catch (e) {
          rethrow(e);
        }
      };
      if (writableClosed && readableClosed) return done();
      Promise.all([
        writableClosed ? undefined : writer.abort(error),
        readableClosed ? undefined : reader.cancel(error),
      ]).then(done, done);
    },
  });
  writer.closed.then(() => {
    writableClosed = true;
    if (!isWritableEnded(duplex)) destroy(duplex, new ERR_STREAM_PREMATURE_CLOSE());
  }, (e) => {
    writableClosed = readableClosed = true;
    destroy(duplex, e);
  });
  reader.closed.then(() => void (readableClosed = true), (e) => {
    writableClosed = readableClosed = true;
    destroy(duplex, e);
  });
  return duplex;
}

/** Duplex.toWeb(duplex): { readable, writable }, each as Readable.toWeb / Writable.toWeb make it
 * (a side the Duplex does not have comes closed). */
export function duplexToWeb(duplex: Duplex): { readable: ReadableStream<unknown>; writable: WritableStream<unknown> } {
  if (typeof duplex?._readableState !== 'object' || typeof duplex?._writableState !== 'object') throw new ERR_INVALID_ARG_TYPE('duplex', 'stream.Duplex', duplex);
  return { readable: readableToWeb(duplex), writable: writableToWeb(duplex) };
}

Readable.fromWeb = readableFromWeb;
Readable.toWeb = readableToWeb;
Writable.fromWeb = writableFromWeb;
Writable.toWeb = writableToWeb;
Duplex.fromWeb = duplexFromWeb;
Duplex.toWeb = duplexToWeb;
