// WritableStream (WHATWG Streams §5): an underlying sink (start/write/close/abort) fed one chunk
// at a time in order, a count high-water mark (default 1) for backpressure (writer.desiredSize,
// writer.ready), the default writer (write, close, abort, releaseLock, closed, ready) and the
// controller (error). A sink that throws or rejects errors the stream: pending writes reject with
// that error. Used by TransformStream (transform_stream.ts) and installed as a global by
// install_transform_streams.ts. Not covered: size() in queuing strategies (every chunk counts
// 1), controller.signal.

export interface UnderlyingSink<W> {
  start?(controller: WritableStreamDefaultController): void | PromiseLike<void>;
  write?(chunk: W, controller: WritableStreamDefaultController): void | PromiseLike<void>;
  close?(): void | PromiseLike<void>;
  abort?(reason?: unknown): void | PromiseLike<void>;
  type?: undefined;
}

type State = 'writable' | 'erroring' | 'errored' | 'closed';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // a rejection nobody awaits is not unhandled
  return { promise, resolve, reject };
}

const INTERNALS = Symbol('kiln.writable.internals');

export class WritableStreamDefaultController {
  /** @internal */
  constructor(private readonly stream: WritableStream<never>) {}

  error(e?: unknown): void {
    internals(this.stream).error(e);
  }
}

class Internals<W> {
  state: State = 'writable';
  storedError: unknown = undefined;
  started = false;
  writing = false;
  readonly queue: { chunk: W; done: Deferred }[] = [];
  closeRequest: Deferred | null = null;
  writer: WritableStreamDefaultWriter<W> | null = null;
  readonly closed = deferred();
  ready = deferred();
  readyPending = false;
  readonly controller: WritableStreamDefaultController;

  constructor(readonly stream: WritableStream<W>, readonly sink: UnderlyingSink<W>, readonly hwm: number) {
    this.controller = new WritableStreamDefaultController(stream as unknown as WritableStream<never>);
    this.readyPending = true;
    this.backpressureCheck();
  }

  desiredSize(): number | null {
    if (this.state === 'errored' || this.state === 'erroring') return null;
    if (this.state === 'closed') return 0;
    return this.hwm - this.queue.length - (this.writing ? 1 : 0);
  }

  start(): void {
    let result: unknown;
    try {
      result = this.sink.start?.call(this.sink, this.controller);
    } catch (e) {
      this.error(e);
      return;
    }
    Promise.resolve(result).then(() => {
      this.started = true;
      this.advance();
    }, (e) => this.error(e));
  }

  write(chunk: W): Promise<void> {
    if (this.state !== 'writable' || this.closeRequest !== null) {
      return Promise.reject(this.state === 'errored' || this.state === 'erroring' ? this.storedError : new TypeError('Cannot write to a closing or closed WritableStream'));
    }
    const done = deferred();
    this.queue.push({ chunk, done });
    this.backpressureCheck();
    this.advance();
    return done.promise;
  }

  /** writer.ready: pending while desiredSize ≤ 0, resolved when there is room again. */
  backpressureCheck(): void {
    const size = this.desiredSize();
    if (size === null) return;
    if (size > 0 && this.readyPending) {
      this.ready.resolve();
      this.readyPending = false;
    } else if (size <= 0 && !this.readyPending && this.state === 'writable') {
      this.ready = deferred();
      this.readyPending = true;
    }
  }

  close(): Promise<void> {
    if (this.state === 'closed' || this.closeRequest !== null) return Promise.reject(new TypeError('The WritableStream is closed or closing'));
    if (this.state === 'errored' || this.state === 'erroring') return Promise.reject(this.storedError);
    this.closeRequest = deferred();
    this.advance();
    return this.closeRequest.promise;
  }

  /** Runs the next queued write, or the close once the queue is empty. */
  advance(): void {
    if (!this.started || this.writing || this.state !== 'writable') return;
    const next = this.queue[0];
    if (next === undefined) {
      if (this.closeRequest === null) return;
      this.writing = true;
      this.call(() => this.sink.close?.call(this.sink)).then(() => {
        this.writing = false;
        this.state = 'closed';
        this.closeRequest!.resolve();
        this.closed.resolve();
      }, (e) => {
        this.writing = false;
        this.error(e);
      });
      return;
    }
    this.writing = true;
    this.queue.shift();
    this.call(() => this.sink.write?.call(this.sink, next.chunk, this.controller)).then(() => {
      this.writing = false;
      next.done.resolve();
      this.backpressureCheck();
      this.advance();
    }, (e) => {
      this.writing = false;
      next.done.reject(e);
      this.error(e);
    });
  }

  call(f: () => unknown): Promise<unknown> {
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Errors the stream: queued writes, a pending close and the writer's promises reject with `e`. */
  error(e: unknown): void {
    if (this.state === 'errored' || this.state === 'closed') return;
    this.state = 'errored';
    this.storedError = e;
    for (const w of this.queue.splice(0)) w.done.reject(e);
    this.closeRequest?.reject(e);
    this.closed.reject(e);
    if (!this.readyPending) this.ready = deferred();
    this.ready.reject(e);
    this.readyPending = false;
  }

  abort(reason: unknown): Promise<void> {
    if (this.state === 'closed' || this.state === 'errored') return Promise.resolve();
    this.error(reason);
    return this.call(() => this.sink.abort?.call(this.sink, reason)).then(() => undefined);
  }
}

function internals<W>(s: WritableStream<W>): Internals<W> {
  return (s as unknown as { [INTERNALS]: Internals<W> })[INTERNALS];
}

export class WritableStreamDefaultWriter<W> {
  private stream: WritableStream<W> | null;

  constructor(stream: WritableStream<W>) {
    if (stream.locked) throw new TypeError('This WritableStream is locked to a writer');
    this.stream = stream;
    internals(stream).writer = this;
  }

  private own(): Internals<W> {
    if (this.stream === null) throw new TypeError('This writer has released its lock');
    return internals(this.stream);
  }

  get closed(): Promise<void> {
    return this.stream === null ? Promise.reject(new TypeError('This writer has released its lock')) : internals(this.stream).closed.promise;
  }

  get ready(): Promise<void> {
    return this.stream === null ? Promise.reject(new TypeError('This writer has released its lock')) : internals(this.stream).ready.promise;
  }

  get desiredSize(): number | null {
    return this.own().desiredSize();
  }

  write(chunk: W): Promise<void> {
    try {
      return this.own().write(chunk);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  close(): Promise<void> {
    try {
      return this.own().close();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  abort(reason?: unknown): Promise<void> {
    try {
      return this.own().abort(reason);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  releaseLock(): void {
    if (this.stream === null) return;
    internals(this.stream).writer = null;
    this.stream = null;
  }
}

export class WritableStream<W = Uint8Array> {
  /** A strategy's size() is accepted but every chunk counts 1 (a count strategy). */
  constructor(sink: UnderlyingSink<W> = {}, strategy: { highWaterMark?: number; size?: (chunk: W) => number } = {}) {
    if (sink.type !== undefined) throw new RangeError('WritableStream: the sink type must be undefined');
    const hwm = strategy.highWaterMark ?? 1;
    if (typeof hwm !== 'number' || Number.isNaN(hwm) || hwm < 0) throw new RangeError('highWaterMark must be a non-negative number');
    const i = new Internals<W>(this, sink, hwm);
    Object.defineProperty(this, INTERNALS, { value: i });
    i.start();
  }

  get locked(): boolean {
    return internals(this).writer !== null;
  }

  getWriter(): WritableStreamDefaultWriter<W> {
    return new WritableStreamDefaultWriter(this);
  }

  abort(reason?: unknown): Promise<void> {
    if (this.locked) return Promise.reject(new TypeError('Cannot abort a locked WritableStream'));
    return internals(this).abort(reason);
  }

  close(): Promise<void> {
    if (this.locked) return Promise.reject(new TypeError('Cannot close a locked WritableStream'));
    return internals(this).close();
  }

  get [Symbol.toStringTag](): string {
    return 'WritableStream';
  }
}
