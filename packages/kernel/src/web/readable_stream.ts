// A small ReadableStream (WHATWG Streams §4) for streaming bodies: the constructor with an
// underlying source (start/pull/cancel, a count high-water mark), the default controller
// (enqueue, close, error, desiredSize), getReader() → a default reader (read, releaseLock,
// cancel, closed), cancel(), locked, async iteration (values({ preventCancel })), tee(),
// pipeTo/pipeThrough (pipe_to.ts) and ReadableStream.from(iterable | async iterable).
// WritableStream and TransformStream are writable_stream.ts and transform_stream.ts.
// Not covered: byte streams (type: "bytes", BYOB readers), size() in queuing strategies, the
// strategy classes.

import { type PipeDestination, type PipeOptions, pipeTo } from './pipe_to.ts';

export interface UnderlyingSource<R> {
  start?(controller: ReadableStreamDefaultController<R>): void | PromiseLike<void>;
  pull?(controller: ReadableStreamDefaultController<R>): void | PromiseLike<void>;
  cancel?(reason?: unknown): void | PromiseLike<void>;
  type?: undefined;
}

export type ReadableStreamReadResult<R> = { done: false; value: R } | { done: true; value: undefined };

interface ReadRequest<R> {
  resolve(r: ReadableStreamReadResult<R>): void;
  reject(e: unknown): void;
}

type StreamState = 'readable' | 'closed' | 'errored';

export class ReadableStreamDefaultController<R> {
  /** @internal */
  constructor(private readonly stream: ReadableStream<R>) {}

  get desiredSize(): number | null {
    return internals(this.stream).desiredSize();
  }
  enqueue(chunk: R): void {
    internals(this.stream).enqueue(chunk);
  }
  close(): void {
    internals(this.stream).requestClose();
  }
  error(e?: unknown): void {
    internals(this.stream).error(e);
  }
}

/** The stream's state machine, kept off the public object. */
class StreamCore<R> {
  state: StreamState = 'readable';
  storedError: unknown;
  readonly queue: R[] = [];
  readonly reads: ReadRequest<R>[] = [];
  closeRequested = false;
  started = false;
  pulling = false;
  pullAgain = false;
  disturbed = false;
  reader: ReadableStreamDefaultReader<R> | undefined;
  controller!: ReadableStreamDefaultController<R>;
  closedWaiters: { resolve(): void; reject(e: unknown): void }[] = [];

  constructor(
    private readonly source: UnderlyingSource<R>,
    private readonly highWaterMark: number,
  ) {}

  desiredSize(): number | null {
    if (this.state === 'errored') return null;
    if (this.state === 'closed') return 0;
    return this.highWaterMark - this.queue.length;
  }

  enqueue(chunk: R): void {
    if (this.closeRequested || this.state !== 'readable') throw new TypeError('Cannot enqueue to a closed or errored stream');
    const r = this.reads.shift();
    if (r) r.resolve({ value: chunk, done: false });
    else this.queue.push(chunk);
    this.pullIfNeeded();
  }

  requestClose(): void {
    if (this.closeRequested || this.state !== 'readable') throw new TypeError('The stream is already closed or errored');
    this.closeRequested = true;
    if (this.queue.length === 0) this.finishClose();
  }

  finishClose(): void {
    this.state = 'closed';
    for (const r of this.reads.splice(0)) r.resolve({ value: undefined, done: true });
    for (const w of this.closedWaiters.splice(0)) w.resolve();
  }

  error(e: unknown): void {
    if (this.state !== 'readable') return;
    this.state = 'errored';
    this.storedError = e;
    this.queue.length = 0;
    for (const r of this.reads.splice(0)) r.reject(e);
    for (const w of this.closedWaiters.splice(0)) w.reject(e);
  }

  start(): void {
    let result: void | PromiseLike<void>;
    try {
      result = this.source.start?.(this.controller);
    } catch (e) {
      this.error(e);
      return;
    }
    Promise.resolve(result).then(
      () => {
        this.started = true;
        this.pullIfNeeded();
      },
      (e: unknown) => this.error(e),
    );
  }

  pullIfNeeded(): void {
    if (!this.started || this.closeRequested || this.state !== 'readable' || !this.source.pull) return;
    if (this.reads.length === 0 && this.highWaterMark - this.queue.length <= 0) return;
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = true;
    let result: void | PromiseLike<void>;
    try {
      result = this.source.pull(this.controller);
    } catch (e) {
      this.error(e);
      return;
    }
    Promise.resolve(result).then(
      () => {
        this.pulling = false;
        if (this.pullAgain) {
          this.pullAgain = false;
          this.pullIfNeeded();
        }
      },
      (e: unknown) => this.error(e),
    );
  }

  read(): Promise<ReadableStreamReadResult<R>> {
    this.disturbed = true;
    if (this.queue.length > 0) {
      const value = this.queue.shift()!;
      if (this.closeRequested && this.queue.length === 0) this.finishClose();
      else this.pullIfNeeded();
      return Promise.resolve({ value, done: false });
    }
    if (this.state === 'closed') return Promise.resolve({ value: undefined, done: true });
    if (this.state === 'errored') return Promise.reject(this.storedError);
    return new Promise((resolve, reject) => {
      this.reads.push({ resolve, reject });
      this.pullIfNeeded();
    });
  }

  cancel(reason: unknown): Promise<void> {
    this.disturbed = true;
    if (this.state === 'closed') return Promise.resolve();
    if (this.state === 'errored') return Promise.reject(this.storedError);
    this.queue.length = 0;
    this.finishClose();
    try {
      return Promise.resolve(this.source.cancel?.(reason)).then(() => undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

const cores = new WeakMap<object, StreamCore<unknown>>();
function internals<R>(s: ReadableStream<R>): StreamCore<R> {
  return cores.get(s) as StreamCore<R>;
}

export class ReadableStreamDefaultReader<R> {
  private core: StreamCore<R> | undefined;

  constructor(stream: ReadableStream<R>) {
    const core = internals(stream);
    if (!core) throw new TypeError('Not a ReadableStream');
    if (core.reader) throw new TypeError('ReadableStream is locked');
    core.reader = this;
    this.core = core;
  }

  get closed(): Promise<void> {
    const c = this.core;
    if (!c) return Promise.reject(new TypeError('The reader was released'));
    if (c.state === 'closed') return Promise.resolve();
    if (c.state === 'errored') return Promise.reject(c.storedError);
    return new Promise((resolve, reject) => c.closedWaiters.push({ resolve, reject }));
  }

  read(): Promise<ReadableStreamReadResult<R>> {
    if (!this.core) return Promise.reject(new TypeError('The reader was released'));
    return this.core.read();
  }

  cancel(reason?: unknown): Promise<void> {
    if (!this.core) return Promise.reject(new TypeError('The reader was released'));
    return this.core.cancel(reason);
  }

  releaseLock(): void {
    const c = this.core;
    if (!c) return;
    const err = new TypeError('The reader was released');
    for (const r of c.reads.splice(0)) r.reject(err);
    c.reader = undefined;
    this.core = undefined;
  }
}

export class ReadableStream<R = Uint8Array> implements AsyncIterable<R> {
  constructor(source: UnderlyingSource<R> = {}, strategy: { highWaterMark?: number } = {}) {
    if ((source as { type?: unknown }).type !== undefined) throw new RangeError('Byte streams (type: "bytes") are not supported');
    const hwm = strategy.highWaterMark === undefined ? 1 : Number(strategy.highWaterMark);
    if (!(hwm >= 0)) throw new RangeError('highWaterMark must be a non-negative number');
    const core = new StreamCore<R>(source, hwm);
    core.controller = new ReadableStreamDefaultController<R>(this);
    cores.set(this, core as StreamCore<unknown>);
    core.start();
  }

  get locked(): boolean {
    return internals(this).reader !== undefined;
  }

  cancel(reason?: unknown): Promise<void> {
    const core = internals(this);
    if (core.reader) return Promise.reject(new TypeError('ReadableStream is locked'));
    return core.cancel(reason);
  }

  getReader(options?: { mode?: undefined }): ReadableStreamDefaultReader<R> {
    if (options?.mode !== undefined) throw new RangeError('BYOB readers are not supported');
    return new ReadableStreamDefaultReader(this);
  }

  values(options: { preventCancel?: boolean } = {}): AsyncIterableIterator<R> {
    const reader = this.getReader();
    const preventCancel = Boolean(options.preventCancel);
    // Once the stream ends (or return() ran) the reader is released and return() does nothing more.
    let released = false;
    const release = (): void => {
      released = true;
      reader.releaseLock();
    };
    const it: AsyncIterableIterator<R> = {
      next: () => {
        if (released) return Promise.resolve({ done: true, value: undefined as R });
        return reader.read().then((r) => {
          if (r.done) release();
          return r as IteratorResult<R>;
        });
      },
      return: (value?: unknown) => {
        const done = (): IteratorResult<R> => {
          if (!released) release();
          return { done: true, value: value as R };
        };
        if (released || preventCancel) return Promise.resolve(done());
        return reader.cancel(value).then(done);
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<R> {
    return this.values();
  }

  /** Two branches that each see every chunk (Streams §4.9.1 ReadableStreamDefaultTee): a read
   * from either pulls once from this stream; chunks are shared, not copied. This stream is
   * cancelled once both branches are, with both reasons. */
  tee(): [ReadableStream<R>, ReadableStream<R>] {
    const reader = this.getReader();
    let reading = false;
    let readAgain = false;
    const canceled = [false, false];
    const reasons: unknown[] = [undefined, undefined];
    const controllers: ReadableStreamDefaultController<R>[] = [];
    let cancelDone!: () => void;
    const cancelled = new Promise<void>((r) => (cancelDone = r));
    const pull = (): Promise<void> => {
      if (reading) {
        readAgain = true;
        return Promise.resolve();
      }
      reading = true;
      reader.read().then((r) => {
        reading = false;
        if (r.done) {
          controllers.forEach((c, i) => !canceled[i] && c.close());
          cancelDone();
          return;
        }
        controllers.forEach((c, i) => !canceled[i] && c.enqueue(r.value));
        if (readAgain) {
          readAgain = false;
          void pull();
        }
      }, (e) => {
        controllers.forEach((c) => c.error(e));
        cancelDone();
      });
      return Promise.resolve();
    };
    const branch = (i: number): ReadableStream<R> => new ReadableStream<R>({
      start: (c) => void (controllers[i] = c),
      pull,
      cancel: (reason) => {
        canceled[i] = true;
        reasons[i] = reason;
        if (canceled[1 - i]) reader.cancel(reasons).then(cancelDone, cancelDone);
        return cancelled;
      },
    }, { highWaterMark: 0 });
    return [branch(0), branch(1)];
  }

  pipeTo(destination: PipeDestination<R>, options?: PipeOptions): Promise<void> {
    const piping = pipeTo(this, destination, options);
    if (this.locked) internals(this).disturbed = true; // the pipe started: the source is disturbed at once, as the spec says
    return piping;
  }

  /** Pipes into `transform.writable` (the returned promise is marked handled, as the spec says)
   * and returns `transform.readable`. */
  pipeThrough<T>(transform: { writable: PipeDestination<R>; readable: ReadableStream<T> }, options?: PipeOptions): ReadableStream<T> {
    const { writable, readable } = transform ?? {};
    if (!(readable instanceof ReadableStream)) throw new TypeError('pipeThrough: transform.readable must be a ReadableStream');
    if (typeof writable !== 'object' || writable === null || typeof writable.getWriter !== 'function') {
      throw new TypeError('pipeThrough: transform.writable must be a WritableStream');
    }
    if (this.locked) throw new TypeError('pipeThrough: the ReadableStream is locked');
    if (writable.locked) throw new TypeError('pipeThrough: the WritableStream is locked');
    pipeTo(this, writable, options).then(undefined, () => undefined);
    internals(this).disturbed = true;
    return readable;
  }

  get [Symbol.toStringTag](): string {
    return 'ReadableStream';
  }

  /** A stream of the values of an async or sync iterable. */
  static from<R>(iterable: AsyncIterable<R> | Iterable<R>): ReadableStream<R> {
    const asyncIt = (iterable as AsyncIterable<R>)[Symbol.asyncIterator];
    const it: AsyncIterator<R> | Iterator<R> = typeof asyncIt === 'function'
      ? asyncIt.call(iterable)
      : (iterable as Iterable<R>)[Symbol.iterator]();
    return new ReadableStream<R>({
      pull: (c) =>
        Promise.resolve(it.next()).then((r) => {
          if (r.done) c.close();
          else c.enqueue(r.value);
        }),
      cancel: (reason) => Promise.resolve(it.return?.(reason)).then(() => undefined),
    }, { highWaterMark: 0 });
  }
}

/** Internal: whether the stream was ever read from or cancelled (Fetch's "disturbed"). */
export function isDisturbed(s: ReadableStream<unknown>): boolean {
  return internals(s).disturbed;
}
