// Blob and File (W3C File API §3, §4): immutable bytes with a MIME type; File adds a name and a
// modification time. A Blob holds one Uint8Array that no one else can reach (the constructor
// copies its parts once), so slice() is a view, not a copy. text() decodes UTF-8 with U+FFFD for
// bad bytes, stream() yields the bytes as one chunk. Installed as globals by install_blob.ts only
// for apps that name them; Request/Response bodies use them through body_forms.ts.

import { decodeUtf8, encodeUtf8 } from '@kiln/common/text/utf8.ts';
import { concatBytes } from '../lib/concat_bytes.ts';
import { ReadableStream } from './readable_stream.ts';
import { bufferSourceBytes } from '../lib/buffer_source.ts';

export type BlobPart = string | ArrayBuffer | ArrayBufferView | Blob;

export interface BlobPropertyBag {
  type?: string;
  endings?: 'transparent' | 'native';
}

export interface FilePropertyBag extends BlobPropertyBag {
  lastModified?: number;
}

const BYTES = Symbol('kiln.blob.bytes');

/** The type as the File API keeps it: lower case, or "" if it has a character outside U+0020–U+007E. */
function normalizeType(type: string | undefined): string {
  if (type === undefined) return '';
  const t = String(type);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return '';
  }
  return t.toLowerCase();
}

function partBytes(part: BlobPart, endings: 'transparent' | 'native'): Uint8Array {
  if (part instanceof Blob) return part[BYTES];
  const bytes = bufferSourceBytes(part);
  if (bytes !== undefined) return bytes;
  const s = String(part);
  // "native" line endings are LF on the guest, as on Linux.
  return encodeUtf8(endings === 'native' ? s.replace(/\r\n?/g, '\n') : s);
}

/** Index `i` of a slice() argument, clamped to [0, size] (negative counts from the end). */
function relativeIndex(i: number | undefined, size: number, fallback: number): number {
  if (i === undefined) return fallback;
  const n = Math.trunc(Number(i)) || 0;
  return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
}

export class Blob {
  /** @internal */
  readonly [BYTES]: Uint8Array;
  private readonly _type: string;

  constructor(blobParts: Iterable<BlobPart> = [], options: BlobPropertyBag = {}) {
    if (blobParts === null || typeof blobParts !== 'object' || typeof (blobParts as Iterable<BlobPart>)[Symbol.iterator] !== 'function') {
      throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence");
    }
    const endings = options.endings ?? 'transparent';
    if (endings !== 'transparent' && endings !== 'native') throw new TypeError(`Failed to construct 'Blob': "${String(endings)}" is not a valid endings value`);
    const parts: Uint8Array[] = [];
    for (const p of blobParts) parts.push(partBytes(p, endings));
    // Always a copy: a lone part may be the app's own buffer.
    this[BYTES] = parts.length === 1 ? parts[0]!.slice() : concatBytes(parts);
    this._type = normalizeType(options.type);
  }

  get size(): number {
    return this[BYTES].length;
  }

  get type(): string {
    return this._type;
  }

  slice(start?: number, end?: number, contentType?: string): Blob {
    const size = this.size;
    const from = relativeIndex(start, size, 0);
    const to = relativeIndex(end, size, size);
    return blobOf(this[BYTES].subarray(from, Math.max(from, to)), normalizeType(contentType));
  }

  bytes(): Promise<Uint8Array> {
    return Promise.resolve(this[BYTES].slice());
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this[BYTES].slice().buffer as ArrayBuffer);
  }

  text(): Promise<string> {
    return Promise.resolve(decodeUtf8(this[BYTES]));
  }

  stream(): ReadableStream<Uint8Array> {
    const bytes = this[BYTES];
    return new ReadableStream<Uint8Array>({
      start(c) {
        if (bytes.length > 0) c.enqueue(bytes.slice());
        c.close();
      },
    });
  }

  get [Symbol.toStringTag](): string {
    return 'Blob';
  }
}

export class File extends Blob {
  private readonly _name: string;
  private readonly _lastModified: number;

  constructor(fileBits: Iterable<BlobPart>, fileName: string, options: FilePropertyBag = {}) {
    if (arguments.length < 2) throw new TypeError("Failed to construct 'File': 2 arguments required");
    super(fileBits, options);
    this._name = String(fileName);
    this._lastModified = options.lastModified === undefined ? Date.now() : Math.trunc(Number(options.lastModified)) || 0;
  }

  get name(): string {
    return this._name;
  }

  get lastModified(): number {
    return this._lastModified;
  }

  override get [Symbol.toStringTag](): string {
    return 'File';
  }
}

/** A Blob over `bytes` without copying them (the caller gives them up). */
export function blobOf(bytes: Uint8Array, type: string): Blob {
  const b = new Blob([], { type });
  (b as { [BYTES]: Uint8Array })[BYTES] = bytes;
  return b;
}

/** A File over `bytes` without copying them (the caller gives them up). */
export function fileOf(bytes: Uint8Array, name: string, type: string, lastModified = Date.now()): File {
  const f = new File([], name, { type, lastModified });
  (f as { [BYTES]: Uint8Array })[BYTES] = bytes;
  return f;
}

/** The bytes of a Blob, not copied (internal readers only: they must not change them). */
export function blobBytes(b: Blob): Uint8Array {
  return b[BYTES];
}
