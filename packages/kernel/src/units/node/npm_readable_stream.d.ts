// Types for the two files of npm readable-stream 4.8 (untyped, pinned in packages/kernel/package.json)
// that units/node/stream.ts imports: lib/stream.js (Node's `stream` module object, the legacy Stream
// with the classes and helpers as properties) and lib/ours/errors.js. Only what Kiln's wrapper
// uses is typed precisely; the rest is loose.

/* eslint-disable @typescript-eslint/no-explicit-any */
declare module 'readable-stream/lib/stream.js' {
  type Callback = (error?: Error | null) => void;
  type Listener = (...args: any[]) => void;

  class Stream {
    constructor(options?: object);
    on(event: string | symbol, listener: Listener): this;
    once(event: string | symbol, listener: Listener): this;
    off(event: string | symbol, listener: Listener): this;
    removeListener(event: string | symbol, listener: Listener): this;
    emit(event: string | symbol, ...args: any[]): boolean;
    listenerCount(event: string | symbol): number;
    pipe<T>(destination: T, options?: { end?: boolean }): T;
  }

  interface ReadableOptions {
    highWaterMark?: number;
    encoding?: string;
    objectMode?: boolean;
    signal?: unknown;
    emitClose?: boolean;
    autoDestroy?: boolean;
    read?(this: any, size: number): void;
    destroy?(this: any, error: Error | null, callback: Callback): void;
    [option: string]: unknown;
  }

  interface WritableOptions {
    highWaterMark?: number;
    decodeStrings?: boolean;
    objectMode?: boolean;
    signal?: unknown;
    write?(this: any, chunk: any, encoding: string, callback: Callback): void;
    final?(this: any, callback: Callback): void;
    destroy?(this: any, error: Error | null, callback: Callback): void;
    [option: string]: unknown;
  }

  interface DuplexOptions extends ReadableOptions, WritableOptions {
    allowHalfOpen?: boolean;
    destroy?(this: any, error: Error | null, callback: Callback): void;
  }

  class Readable extends Stream implements AsyncIterable<any> {
    constructor(options?: ReadableOptions);
    readonly _readableState: object | undefined;
    readonly readable: boolean;
    readonly readableObjectMode: boolean;
    readonly readableHighWaterMark: number;
    readonly readableEnded: boolean;
    readonly destroyed: boolean;
    push(chunk: unknown, encoding?: string): boolean;
    read(size?: number): any;
    pause(): this;
    resume(): this;
    setEncoding(encoding: string): this;
    destroy(error?: Error | null): this;
    [Symbol.asyncIterator](): AsyncIterator<any>;
    static from(iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: ReadableOptions): Readable;
    static fromWeb: (readableStream: any, options?: any) => Readable;
    static toWeb: (streamReadable: any, options?: any) => any;
  }

  class Writable extends Stream {
    constructor(options?: WritableOptions);
    readonly _writableState: { ended?: boolean; errored?: unknown } | undefined;
    readonly writable: boolean;
    readonly writableObjectMode: boolean;
    readonly writableHighWaterMark: number;
    readonly writableNeedDrain: boolean;
    readonly writableEnded: boolean;
    readonly destroyed: boolean;
    write(chunk: unknown, encoding?: string | Callback, callback?: Callback): boolean;
    end(chunk?: unknown, encoding?: string | Callback, callback?: Callback): this;
    destroy(error?: Error | null): this;
    static fromWeb: (writableStream: any, options?: any) => Writable;
    static toWeb: (streamWritable: any) => any;
  }

  class Duplex extends Readable {
    constructor(options?: DuplexOptions);
    readonly _writableState: { ended?: boolean; errored?: unknown } | undefined;
    readonly writable: boolean;
    readonly writableObjectMode: boolean;
    readonly writableHighWaterMark: number;
    readonly writableNeedDrain: boolean;
    readonly writableEnded: boolean;
    write(chunk: unknown, encoding?: string | Callback, callback?: Callback): boolean;
    end(chunk?: unknown, encoding?: string | Callback, callback?: Callback): this;
    static override fromWeb: (pair: any, options?: any) => any;
    static override toWeb: (duplex: any) => any;
  }

  class Transform extends Duplex {}
  class PassThrough extends Transform {}

  type AnyStream = Readable | Writable | Duplex | Stream;

  interface StreamModule {
    new (options?: object): Stream;
    prototype: Stream;
    Stream: StreamModule;
    Readable: typeof Readable;
    Writable: typeof Writable;
    Duplex: typeof Duplex;
    Transform: typeof Transform;
    PassThrough: typeof PassThrough;
    pipeline: (...streams: any[]) => any;
    finished: {
      (stream: AnyStream, callback: Callback): () => void;
      (stream: AnyStream, options: object, callback: Callback): () => void;
    };
    addAbortSignal: (signal: unknown, stream: any) => any;
    compose: (...streams: any[]) => Duplex;
    destroy: (stream: any, error?: unknown) => void;
    isDestroyed: (stream: any) => boolean | null;
    isDisturbed: (stream: any) => boolean;
    isErrored: (stream: any) => boolean;
    isReadable: (stream: any) => boolean | null;
    isWritable: (stream: any) => boolean | null;
    getDefaultHighWaterMark: (objectMode: boolean) => number;
    setDefaultHighWaterMark: (objectMode: boolean, value: number) => void;
    promises: {
      pipeline: (...streams: any[]) => Promise<any>;
      finished: (stream: AnyStream, options?: any) => Promise<void>;
    };
    _isUint8Array: (value: unknown) => value is Uint8Array;
    _uint8ArrayToBuffer: (chunk: Uint8Array) => Uint8Array;
  }

  const stream: StreamModule;
  export default stream;
}

declare module 'readable-stream/lib/ours/errors.js' {
  type NodeErrorClass = new (...args: any[]) => Error & { code: string };
  const errors: {
    AbortError: new (message?: string, options?: { cause?: unknown }) => Error & { code: string };
    codes: Record<'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_STREAM_PREMATURE_CLOSE', NodeErrorClass> & Record<string, NodeErrorClass>;
  };
  export default errors;
}
