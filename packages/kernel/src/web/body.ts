// The Body mixin of Request and Response (WHATWG Fetch §5.3): extracting a body from a
// BodyInit and consuming it once (text, json, arrayBuffer, bytes; body as a ReadableStream).
// Internally a body stays in the cheapest form it came in — a string, bytes, a stream, an
// async iterable, or a pull function from kiln:http's connection — and becomes a
// ReadableStream only when `.body` is read, so `new Response("hello")` and `await req.text()`
// never build a stream. Async iterables may yield Uint8Array/ArrayBufferView or strings
// (UTF-8 encoded). Blob and FormData bodies (init, blob(), formData()) come from body_forms.ts,
// which registers itself here only in apps that use them (kiln build's optional globals), so an
// app that never names them carries neither class nor the multipart codec.

import { decodeUtf8, encodeUtf8 } from '@kiln/common/text/utf8.ts';
import { concatBytes } from '../lib/concat_bytes.ts';
import { ReadableStream, isDisturbed } from './readable_stream.ts';
import type { Blob } from './blob.ts';
import type { FormData } from './form_data.ts';
import type { Headers } from './headers.ts';
import { URLSearchParams } from './url.ts';
import { bufferSourceBytes } from '../lib/buffer_source.ts';

export type BodyInit = string | ArrayBuffer | ArrayBufferView | URLSearchParams | Blob | FormData | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/** The body in the form it arrived. */
export type BodySource =
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'stream'; stream: ReadableStream<Uint8Array> }
  | { kind: 'iterable'; iterable: AsyncIterable<Uint8Array | string> }
  /** kiln:http's request body: next() yields chunks then null; cancel() stops reading. `length` is the Content-Length, or -1. */
  | { kind: 'pull'; next(): Promise<Uint8Array | null>; cancel(): void; length: number };

export interface ExtractedBody {
  source: BodySource;
  /** The Content-Type the body implies, if any. */
  type: string | null;
}

/** Blob and FormData bodies (body_forms.ts). */
export interface FormBodies {
  /** The body of a Blob or FormData init, or null for anything else. */
  extract(init: object): ExtractedBody | null;
  formData(bytes: Uint8Array, contentType: string): FormData;
  blob(bytes: Uint8Array, contentType: string): Blob;
}

let formBodies: FormBodies | null = null;

export function registerFormBodies(f: FormBodies): void {
  formBodies = f;
}

function needFormBodies(what: string): FormBodies {
  if (formBodies === null) throw new TypeError(`${what} needs Blob and FormData, which kiln build bundles only for apps that name them`);
  return formBodies;
}

/** Fetch's "extract a body" (copying buffer sources). */
export function extractBody(init: BodyInit): ExtractedBody {
  if (typeof init === 'string') return { source: { kind: 'text', text: init }, type: 'text/plain;charset=UTF-8' };
  if (init instanceof ArrayBuffer) return { source: { kind: 'bytes', bytes: new Uint8Array(init.slice(0)) }, type: null };
  if (ArrayBuffer.isView(init)) {
    return { source: { kind: 'bytes', bytes: new Uint8Array(init.buffer.slice(init.byteOffset, init.byteOffset + init.byteLength)) }, type: null };
  }
  if (init instanceof URLSearchParams) return { source: { kind: 'text', text: init.toString() }, type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  if (init instanceof ReadableStream) {
    if (init.locked || isDisturbed(init)) throw new TypeError('The body stream is locked or was already read');
    return { source: { kind: 'stream', stream: init }, type: null };
  }
  if (formBodies !== null && init !== null && typeof init === 'object') {
    const forms = formBodies.extract(init);
    if (forms !== null) return forms;
  }
  if (init !== null && typeof init === 'object' && typeof (init as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return { source: { kind: 'iterable', iterable: init as AsyncIterable<Uint8Array | string> }, type: null };
  }
  return { source: { kind: 'text', text: String(init) }, type: 'text/plain;charset=UTF-8' };
}

/** A chunk of a streamed body as bytes (TypeError for anything but bytes or a string). */
export function chunkBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return encodeUtf8(chunk);
  const bytes = bufferSourceBytes(chunk);
  if (bytes === undefined) throw new TypeError('A body chunk must be a Uint8Array, an ArrayBufferView or a string');
  return bytes;
}

/** An async iterator over the body's chunks as bytes. */
export function bodyChunks(source: BodySource): AsyncIterator<Uint8Array> {
  switch (source.kind) {
    case 'text':
    case 'bytes': {
      let done = false;
      return {
        next: () => {
          if (done) return Promise.resolve({ done: true, value: undefined });
          done = true;
          return Promise.resolve({ done: false, value: source.kind === 'text' ? encodeUtf8(source.text) : source.bytes });
        },
      };
    }
    case 'pull':
      return {
        next: () => source.next().then((v) => (v === null ? { done: true, value: undefined } : { done: false, value: v })),
        return: () => {
          source.cancel();
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    case 'stream': {
      const it = source.stream.values();
      return {
        next: () => it.next().then((r) => (r.done ? r : { done: false, value: chunkBytes(r.value) })),
        return: () => it.return!(),
      };
    }
    case 'iterable': {
      const it = source.iterable[Symbol.asyncIterator]();
      return {
        next: () => it.next().then((r) => (r.done ? { done: true, value: undefined } : { done: false, value: chunkBytes(r.value) })),
        return: () => (it.return ? it.return().then(() => ({ done: true, value: undefined })) : Promise.resolve({ done: true, value: undefined })),
      };
    }
  }
}

/** The body as a ReadableStream (what `.body` returns). */
function toStream(source: BodySource): ReadableStream<Uint8Array> {
  if (source.kind === 'stream') return source.stream;
  const it = bodyChunks(source);
  return new ReadableStream<Uint8Array>({
    pull: (c) =>
      it.next().then((r) => {
        if (r.done) c.close();
        else c.enqueue(r.value);
      }),
    cancel: () => it.return?.().then(() => undefined),
  }, { highWaterMark: 0 });
}

async function readAll(source: BodySource): Promise<Uint8Array> {
  if (source.kind === 'bytes') return source.bytes;
  if (source.kind === 'text') return encodeUtf8(source.text);
  const it = bodyChunks(source);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value);
    total += r.value.length;
  }
  return concatBytes(chunks, total);
}

/** Base of Request and Response: the body and the consuming methods. */
export abstract class Body {
  abstract get headers(): Headers;

  /** @internal */
  protected bodySource: BodySource | null;
  private stream: ReadableStream<Uint8Array> | null = null;
  private used = false;

  protected constructor(source: BodySource | null) {
    this.bodySource = source;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.bodySource === null) return null;
    if (this.stream === null) {
      this.stream = toStream(this.bodySource);
      this.bodySource = { kind: 'stream', stream: this.stream };
    }
    return this.stream;
  }

  get bodyUsed(): boolean {
    const s = this.stream ?? (this.bodySource?.kind === 'stream' ? this.bodySource.stream : null);
    return this.used || (s !== null && isDisturbed(s));
  }

  /** Marks the body used and returns its source (TypeError if it was used already). */
  protected takeBody(): BodySource | null {
    if (this.bodySource === null && this.stream === null) return null; // a null body is never used (Fetch's "consume body")
    if (this.bodyUsed) throw new TypeError('Body has already been consumed');
    if (this.stream !== null && this.stream.locked) throw new TypeError('The body stream is locked');
    this.used = true;
    return this.bodySource;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.bytes().then((b) => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer as ArrayBuffer : b.slice().buffer as ArrayBuffer));
  }

  bytes(): Promise<Uint8Array> {
    try {
      const s = this.takeBody();
      if (s === null) return Promise.resolve(new Uint8Array(0));
      if (s.kind === 'bytes') return Promise.resolve(s.bytes.slice());
      return readAll(s);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  text(): Promise<string> {
    try {
      const s = this.takeBody();
      if (s === null) return Promise.resolve('');
      if (s.kind === 'text') return Promise.resolve(s.text);
      return readAll(s).then(decodeText);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  json(): Promise<unknown> {
    return this.text().then((t) => JSON.parse(t) as unknown);
  }

  /** clone()'s body: text and bytes are shared (immutable); a streamed body is teed, this one
   * keeping the first branch and the clone getting the second. */
  protected cloneBodySource(): BodySource | null {
    const s = this.bodySource;
    if (s === null || s.kind === 'text' || s.kind === 'bytes') return s;
    const [mine, theirs] = this.body!.tee();
    this.stream = mine;
    this.bodySource = { kind: 'stream', stream: mine };
    return { kind: 'stream', stream: theirs };
  }

  /** The body parsed by its Content-Type: multipart/form-data or application/x-www-form-urlencoded (else TypeError). */
  formData(): Promise<FormData> {
    try {
      const forms = needFormBodies('formData()');
      const type = this.headers.get('content-type') ?? '';
      return this.bytes().then((b) => forms.formData(b, type));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The body as a Blob typed by its Content-Type. */
  blob(): Promise<Blob> {
    try {
      const forms = needFormBodies('blob()');
      const type = this.headers.get('content-type') ?? '';
      return this.bytes().then((b) => forms.blob(b, type));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/** UTF-8 decode with a leading BOM dropped (Fetch's "UTF-8 decode"). */
function decodeText(bytes: Uint8Array): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  return decodeUtf8(bytes);
}

/** Internal: takes the body to send it (kiln:http's response writer); TypeError if it was used. */
export function takeBodySource(b: Body): BodySource | null {
  return (b as unknown as { takeBody(): BodySource | null }).takeBody();
}

/** Internal: clone()'s body source (Body.cloneBodySource). */
export function cloneBodySource(b: Body): BodySource | null {
  return (b as unknown as { cloneBodySource(): BodySource | null }).cloneBodySource();
}

/** Internal: the body as it is, not consumed (clone() and the request body drain). */
export function peekBodySource(b: Body): BodySource | null {
  return (b as unknown as { bodySource: BodySource | null }).bodySource;
}
