// ReadableStream.prototype.pipeTo (WHATWG Streams §4.9.4 ReadableStreamPipeTo): reads the
// source and writes each chunk to the destination, honouring the destination's backpressure
// (writer.ready) so a slow sink never makes the pipe buffer without bound; then closes the
// destination, or, when either side errors or the signal aborts, aborts/cancels the other side
// (unless preventAbort / preventCancel / preventClose) once the chunks already read are written.
// Structural types: this file must not import writable_stream.ts, so a ReadableStream app that
// never pipes does not carry WritableStream.

import type { AbortSignalLike } from '../lib/abort_signal_like.ts';
import type { ReadableStreamDefaultReader } from './readable_stream.ts';

export interface PipeOptions {
  preventClose?: boolean;
  preventAbort?: boolean;
  preventCancel?: boolean;
  signal?: AbortSignalLike;
}

/** What pipeTo needs of a WritableStream. */
export interface PipeDestination<W> {
  readonly locked: boolean;
  getWriter(): PipeWriter<W>;
}

interface PipeWriter<W> {
  readonly closed: Promise<void>;
  readonly ready: Promise<void>;
  write(chunk: W): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

interface PipeSource<R> {
  readonly locked: boolean;
  getReader(): ReadableStreamDefaultReader<R>;
}

const isDestination = (d: unknown): d is PipeDestination<unknown> =>
  typeof d === 'object' && d !== null && typeof (d as PipeDestination<unknown>).getWriter === 'function';

export function pipeTo<R>(source: PipeSource<R>, dest: PipeDestination<R>, options: PipeOptions = {}): Promise<void> {
  if (!isDestination(dest)) return Promise.reject(new TypeError('pipeTo: the destination must be a WritableStream'));
  if (source.locked) return Promise.reject(new TypeError('pipeTo: the ReadableStream is locked'));
  if (dest.locked) return Promise.reject(new TypeError('pipeTo: the WritableStream is locked'));
  const preventClose = Boolean(options.preventClose);
  const preventAbort = Boolean(options.preventAbort);
  const preventCancel = Boolean(options.preventCancel);
  const signal = options.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function')) {
    return Promise.reject(new TypeError('pipeTo: options.signal must be an AbortSignal'));
  }
  const reader = source.getReader();
  const writer = dest.getWriter();
  return new Promise<void>((resolve, reject) => {
    let shuttingDown = false;
    let lastWrite: Promise<void> = Promise.resolve();

    const finish = (failure?: { error: unknown }): void => {
      signal?.removeEventListener('abort', onAbort);
      writer.releaseLock();
      reader.releaseLock();
      if (failure) reject(failure.error);
      else resolve();
    };
    /** Waits for the chunks already read to be written, runs the action, then settles. */
    const shutdown = (action: (() => Promise<unknown>) | undefined, failure?: { error: unknown }): void => {
      if (shuttingDown) return;
      shuttingDown = true;
      lastWrite.catch(() => undefined)
        .then(() => action?.())
        .then(() => finish(failure), (error: unknown) => finish({ error }));
    };
    const onAbort = (): void => {
      const error = signal!.reason;
      shutdown(() => Promise.all([
        preventAbort ? undefined : writer.abort(error),
        preventCancel ? undefined : reader.cancel(error),
      ]), { error });
    };
    const onDestError = (error: unknown): void => {
      shutdown(preventCancel ? undefined : () => reader.cancel(error), { error });
    };

    reader.closed.then(undefined, (error: unknown) => {
      shutdown(preventAbort ? undefined : () => writer.abort(error), { error });
    });
    writer.closed.then(() => {
      if (shuttingDown) return;
      const error = new TypeError('pipeTo: the destination closed while the pipe was running');
      shutdown(preventCancel ? undefined : () => reader.cancel(error), { error });
    }, onDestError);

    const step = (): void => {
      if (shuttingDown) return;
      writer.ready
        .then(() => (shuttingDown ? undefined : reader.read()))
        .then((r) => {
          if (r === undefined || shuttingDown) return;
          if (r.done) {
            shutdown(preventClose ? undefined : () => writer.close());
            return;
          }
          lastWrite = writer.write(r.value);
          lastWrite.then(undefined, onDestError);
          step();
        }, () => undefined); // an errored side settles through reader.closed / writer.closed
    };

    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort);
    step();
  });
}
