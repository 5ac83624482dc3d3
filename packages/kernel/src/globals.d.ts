// Types of the globals the prelude installs, for app and kernel code compiled with the kernel
// tsconfig (lib ES2020 has no DOM, and `types: []` keeps Node's out). Implementation:
// units/runtime.ts. Spec: WHATWG Console, HTML timers, High Resolution Time.

declare var console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  trace(...data: unknown[]): void;
  assert(condition?: unknown, ...data: unknown[]): void;
  dir(item?: unknown, options?: { depth?: number }): void;
  time(label?: string): void;
  timeEnd(label?: string): void;
  timeLog(label?: string, ...data: unknown[]): void;
  count(label?: string): void;
  countReset(label?: string): void;
};
declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): number;
declare function setInterval<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): number;
declare function clearTimeout(id: number | undefined): void;
declare function clearInterval(id: number | undefined): void;
declare function queueMicrotask(callback: () => void): void;
declare var performance: { now(): number; readonly timeOrigin: number };
declare var crypto: {
  /** Fills an integer typed array (≤ 65536 bytes) with cryptographically strong random values. */
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  /** A random (version 4) UUID. */
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
  /** WebCrypto: web/crypto/subtle.ts lists the algorithms (each bundled when the app names it). */
  readonly subtle: import('./web/crypto/subtle.ts').SubtleCrypto;
};
declare var CryptoKey: typeof import('./web/crypto/subtle.ts').CryptoKey;
type CryptoKey = import('./web/crypto/subtle.ts').CryptoKey;
type CryptoKeyPair = import('./web/crypto/subtle.ts').CryptoKeyPair;
type JsonWebKey = import('./web/crypto/subtle.ts').JsonWebKey;
type KeyUsage = import('./web/crypto/subtle.ts').KeyUsage;
declare var SubtleCrypto: typeof import('./web/crypto/subtle.ts').SubtleCrypto;
type SubtleCrypto = import('./web/crypto/subtle.ts').SubtleCrypto;
declare var DOMException: typeof import('./web/dom_exception.ts').DOMException;
type DOMException = import('./web/dom_exception.ts').DOMException;
declare var Event: typeof import('./web/event_target.ts').Event;
type Event = import('./web/event_target.ts').Event;
declare var CustomEvent: typeof import('./web/event_target.ts').CustomEvent;
type CustomEvent<T = unknown> = import('./web/event_target.ts').CustomEvent<T>;
declare var EventTarget: typeof import('./web/event_target.ts').EventTarget;
type EventTarget = import('./web/event_target.ts').EventTarget;
declare var reportError: typeof import('./web/event_target.ts').reportError;
declare var AbortController: typeof import('./web/abort.ts').AbortController;
type AbortController = import('./web/abort.ts').AbortController;
declare var AbortSignal: typeof import('./web/abort.ts').AbortSignal;
type AbortSignal = import('./web/abort.ts').AbortSignal;
declare var structuredClone: typeof import('./web/structured_clone.ts').structuredClone;
declare var atob: typeof import('./web/base64.ts').atob;
declare var btoa: typeof import('./web/base64.ts').btoa;

// Web globals kiln build installs when the app names them (packages/cli/src/build.ts
// OPTIONAL_GLOBALS). Their types are the kernel classes' own: web/*.ts (each file's header says
// what of the standard it covers). kiln:http hands out the same classes.
declare var Headers: typeof import('./web/headers.ts').Headers;
type Headers = import('./web/headers.ts').Headers;
type HeadersInit = import('./web/headers.ts').HeadersInit;
declare var Request: typeof import('./web/request.ts').Request;
type Request = import('./web/request.ts').Request;
type RequestInit = import('./web/request.ts').RequestInit;
declare var Response: typeof import('./web/response.ts').Response;
type Response = import('./web/response.ts').Response;
type ResponseInit = import('./web/response.ts').ResponseInit;
type BodyInit = import('./web/body.ts').BodyInit;
declare var TextEncoder: typeof import('./web/text_codec.ts').TextEncoder;
type TextEncoder = import('./web/text_codec.ts').TextEncoder;
declare var TextDecoder: typeof import('./web/text_codec.ts').TextDecoder;
type TextDecoder = import('./web/text_codec.ts').TextDecoder;
declare var URL: typeof import('./web/url.ts').URL;
type URL = import('./web/url.ts').URL;
declare var URLSearchParams: typeof import('./web/url.ts').URLSearchParams;
type URLSearchParams = import('./web/url.ts').URLSearchParams;
declare var ReadableStream: typeof import('./web/readable_stream.ts').ReadableStream;
type ReadableStream<R = Uint8Array> = import('./web/readable_stream.ts').ReadableStream<R>;
declare var ReadableStreamDefaultReader: typeof import('./web/readable_stream.ts').ReadableStreamDefaultReader;
type ReadableStreamDefaultReader<R = Uint8Array> = import('./web/readable_stream.ts').ReadableStreamDefaultReader<R>;
declare var ReadableStreamDefaultController: typeof import('./web/readable_stream.ts').ReadableStreamDefaultController;
type ReadableStreamDefaultController<R = Uint8Array> = import('./web/readable_stream.ts').ReadableStreamDefaultController<R>;
declare var WritableStream: typeof import('./web/writable_stream.ts').WritableStream;
type WritableStream<W = Uint8Array> = import('./web/writable_stream.ts').WritableStream<W>;
declare var WritableStreamDefaultWriter: typeof import('./web/writable_stream.ts').WritableStreamDefaultWriter;
type WritableStreamDefaultWriter<W = Uint8Array> = import('./web/writable_stream.ts').WritableStreamDefaultWriter<W>;
declare var TransformStream: typeof import('./web/transform_stream.ts').TransformStream;
type TransformStream<I = unknown, O = unknown> = import('./web/transform_stream.ts').TransformStream<I, O>;
declare var TextEncoderStream: typeof import('./web/transform_stream.ts').TextEncoderStream;
type TextEncoderStream = import('./web/transform_stream.ts').TextEncoderStream;
declare var TextDecoderStream: typeof import('./web/transform_stream.ts').TextDecoderStream;
type TextDecoderStream = import('./web/transform_stream.ts').TextDecoderStream;
declare var Blob: typeof import('./web/blob.ts').Blob;
type Blob = import('./web/blob.ts').Blob;
type BlobPart = import('./web/blob.ts').BlobPart;
declare var File: typeof import('./web/blob.ts').File;
type File = import('./web/blob.ts').File;
declare var FormData: typeof import('./web/form_data.ts').FormData;
type FormData = import('./web/form_data.ts').FormData;
type FormDataEntryValue = import('./web/form_data.ts').FormDataEntryValue;
declare var CompressionStream: typeof import('./web/compression_stream.ts').CompressionStream;
type CompressionStream = import('./web/compression_stream.ts').CompressionStream;
declare var DecompressionStream: typeof import('./web/decompression_stream.ts').DecompressionStream;
type DecompressionStream = import('./web/decompression_stream.ts').DecompressionStream;
type CompressionFormat = import('./web/zlib_stream.ts').CompressionFormat;
declare var fetch: typeof import('./units/fetch.ts').fetch;
declare var navigator: import('./web/install_navigator.ts').Navigator;

// Node's `process` (minimal: units/node/process.ts) and setImmediate, which kiln build installs
// when the bundle names them; `process.env.NODE_ENV` is replaced at build time (`kiln build --mode`).
// (Node's `Buffer` global is installed too, from npm `buffer`; import it from node:buffer for its type.)
declare var process: typeof import('./units/node/process.ts').default;
declare var setImmediate: typeof import('./units/node/timers.ts').setImmediate;
declare var clearImmediate: typeof import('./units/node/timers.ts').clearImmediate;
