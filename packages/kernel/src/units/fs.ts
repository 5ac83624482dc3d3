// The `kiln:fs` module: files for apps, shaped like node:fs/promises (readFile, writeFile,
// appendFile, readdir, stat, mkdir, rm, rename, copyFile, access, open → FileHandle with
// positional read/write and streams) over the VFS (fs/vfs.ts), plus mounts(), mount(),
// unmount(), statfs() and sync(). Errors are FsError with Node's code/syscall/path; bad
// arguments are TypeErrors with Node's ERR_INVALID_ARG_* codes. Uint8Array stands for Buffer.
// Apps typecheck against this file (packages/kernel/tsconfig.app.json maps kiln:fs here).
// Spec: docs/ARCHITECTURE.md "Filesystems".

import { decodeUtf8, encodeUtf8 } from '@kiln/common/text/utf8.ts';
import { directoryForm, joinPath, normalizePath, parentOf } from '../fs/path.ts';
import { openMountSource } from './mount_sources.ts';
import { badMountPath, formatMountSource, parseMountSource } from '@kiln/common/mount_spec.ts';
import { vfs } from './guest_vfs.ts';
import { FsError, type FileStat, type FileType } from '../fs/types.ts';
import type { MountInfo, OpenFile, OpenOptions } from '../fs/vfs.ts';
import { bufferSourceBytes } from '../lib/buffer_source.ts';

export { FsError };
export type { FsErrorCode } from '../fs/types.ts';
export type { MountInfo };

export const constants = {
  F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, COPYFILE_EXCL: 1,
  S_IFMT: 0o170000, S_IFREG: 0o100000, S_IFDIR: 0o40000, S_IFLNK: 0o120000,
} as const;

/** Bytes read per request by readFile and read streams. */
const CHUNK = 64 * 1024;

/** The text encodings kiln:fs reads and writes (Node's names; utf-8 and binary are aliases). */
export type Encoding = 'utf8' | 'utf-8' | 'latin1' | 'binary';
/** Node's open flags (parseFlags). */
export type OpenFlag = 'r' | 'r+' | 'rs+' | 'w' | 'wx' | 'xw' | 'w+' | 'wx+' | 'xw+' | 'a' | 'as' | 'ax' | 'xa' | 'a+' | 'as+' | 'ax+' | 'xa+';
/** FileHandle.read's options object (Node's). */
export interface ReadOptions {
  buffer?: Uint8Array;
  offset?: number;
  length?: number;
  position?: number | null;
}
/** How bytes become text inside kiln:fs (the Encoding names folded). */
type Codec = 'utf8' | 'latin1';
export type Data = string | Uint8Array | ArrayBufferView | ArrayBuffer;

class ArgError extends TypeError {
  constructor(readonly code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE', message: string) {
    super(message);
  }
}

function pathArg(p: unknown, name = 'path'): string {
  if (typeof p !== 'string') throw new ArgError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type string. Received ${describe(p)}`);
  return p;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  return `type ${typeof v} (${String(v)})`;
}

function encodingOf(options: unknown): Codec | undefined {
  const e = typeof options === 'string' ? options : (options as { encoding?: unknown } | undefined)?.encoding;
  if (e === undefined || e === null || e === 'buffer') return undefined;
  if (e === 'utf8' || e === 'utf-8') return 'utf8';
  if (e === 'latin1' || e === 'binary') return 'latin1';
  throw new ArgError('ERR_INVALID_ARG_VALUE', `The argument 'encoding' is invalid encoding (kiln:fs knows utf8, latin1). Received ${String(e)}`);
}

function flagOf(options: unknown, fallback: string): string {
  const f = typeof options === 'object' && options !== null ? (options as { flag?: unknown }).flag : undefined;
  return f === undefined ? fallback : String(f);
}

function decode(bytes: Uint8Array, enc: Codec): string {
  if (enc === 'utf8') return decodeUtf8(bytes);
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 4096)));
  return s;
}

function toBytes(data: unknown, enc: Codec = 'utf8'): Uint8Array {
  if (typeof data === 'string') {
    if (enc === 'utf8') return encodeUtf8(data);
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data.charCodeAt(i) & 0xff;
    return out;
  }
  const bytes = bufferSourceBytes(data);
  if (bytes !== undefined) return bytes;
  throw new ArgError('ERR_INVALID_ARG_TYPE', `The "data" argument must be of type string or an instance of Uint8Array or ArrayBuffer. Received ${describe(data)}`);
}

/** Node's open flags: r, r+, rs+, w, wx, w+, wx+, a, ax, a+, ax+, as, as+. */
export function parseFlags(flags: unknown): OpenOptions {
  const f = flags === undefined ? 'r' : flags;
  const none = { read: false, write: false, create: false, exclusive: false, truncate: false, append: false };
  switch (f) {
    case 'r': return { ...none, read: true };
    case 'r+': case 'rs+': return { ...none, read: true, write: true };
    case 'w': return { ...none, write: true, create: true, truncate: true };
    case 'wx': case 'xw': return { ...none, write: true, create: true, truncate: true, exclusive: true };
    case 'w+': return { ...none, read: true, write: true, create: true, truncate: true };
    case 'wx+': case 'xw+': return { ...none, read: true, write: true, create: true, truncate: true, exclusive: true };
    case 'a': case 'as': return { ...none, write: true, create: true, append: true };
    case 'ax': case 'xa': return { ...none, write: true, create: true, append: true, exclusive: true };
    case 'a+': case 'as+': return { ...none, read: true, write: true, create: true, append: true };
    case 'ax+': case 'xa+': return { ...none, read: true, write: true, create: true, append: true, exclusive: true };
    default: throw new ArgError('ERR_INVALID_ARG_VALUE', `The argument 'flags' is invalid. Received ${typeof f === 'string' ? `'${f}'` : describe(f)}`);
  }
}

function intArg(v: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ArgError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be an integer. Received ${describe(v)}`);
  if (v < min || v > max) throw new ArgError('ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be >= ${min} && <= ${max}. Received ${v}`);
  return v;
}

const positionArg = (v: unknown): number | null => (v === undefined || v === null || v === -1 ? null : intArg(v, 'position', 0));

/** The is*() questions Node's Stats and Dirent both answer (no devices, FIFOs or sockets here). */
abstract class FileKind {
  constructor(private readonly kind: FileType) {}
  isFile(): boolean { return this.kind === 'file'; }
  isDirectory(): boolean { return this.kind === 'directory'; }
  isSymbolicLink(): boolean { return this.kind === 'symlink'; }
  isBlockDevice(): boolean { return false; }
  isCharacterDevice(): boolean { return false; }
  isFIFO(): boolean { return false; }
  isSocket(): boolean { return false; }
}

/** File information, as Node's fs.Stats (no users, groups or devices in a Kiln guest: 0). */
export class Stats extends FileKind {
  readonly dev = 0;
  readonly uid = 0;
  readonly gid = 0;
  readonly rdev = 0;
  readonly blksize = 4096;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly size: number;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;

  constructor(st: FileStat) {
    super(st.type);
    this.ino = st.ino;
    this.mode = st.mode;
    this.nlink = st.nlink;
    this.size = st.size;
    this.blocks = Math.ceil(st.size / 512);
    this.atimeMs = this.mtimeMs = this.ctimeMs = st.mtimeMs;
    this.birthtimeMs = st.birthtimeMs;
    this.atime = new Date(st.mtimeMs);
    this.mtime = new Date(st.mtimeMs);
    this.ctime = new Date(st.mtimeMs);
    this.birthtime = new Date(st.birthtimeMs);
  }
}

/** A directory entry (readdir with withFileTypes), as Node's fs.Dirent. */
export class Dirent extends FileKind {
  constructor(readonly name: string, readonly parentPath: string, kind: FileType) {
    super(kind);
  }
  /** Deprecated alias of parentPath, as in Node. */
  get path(): string { return this.parentPath; }
}

export interface ReadStreamOptions {
  start?: number;
  /** Last byte to read (inclusive), as Node's. */
  end?: number;
  highWaterMark?: number;
  /** Close the file handle at the end of the stream or on an error (default true). */
  autoClose?: boolean;
}

/** The chunks of a file as an async iterable (what Node's ReadStream yields with for await). */
export class ReadStream implements AsyncIterable<Uint8Array> {
  bytesRead = 0;
  private pos: number;
  private readonly end: number;
  private readonly size: number;
  private done = false;
  private readonly autoClose: boolean;

  constructor(private readonly handle: FileHandle, opts: ReadStreamOptions = {}) {
    this.pos = opts.start === undefined ? 0 : intArg(opts.start, 'start', 0);
    this.end = opts.end === undefined ? Infinity : intArg(opts.end, 'end', 0);
    this.size = opts.highWaterMark === undefined ? CHUNK : intArg(opts.highWaterMark, 'highWaterMark', 1, 1 << 24);
    this.autoClose = opts.autoClose ?? true;
  }

  /** The next chunk, or null at the end. */
  async read(): Promise<Uint8Array | null> {
    if (this.done) return null;
    try {
      const want = Math.min(this.size, this.end - this.pos + 1);
      const buf = new Uint8Array(want);
      const n = want <= 0 ? 0 : (await this.handle.read(buf, 0, want, this.pos)).bytesRead;
      if (n === 0) {
        await this.close();
        return null;
      }
      this.pos += n;
      this.bytesRead += n;
      return n === want ? buf : buf.subarray(0, n);
    } catch (e) {
      await this.close().catch(() => {});
      throw e;
    }
  }

  /** Ends the stream (closing the handle with autoClose). */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.autoClose) await this.handle.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: async () => {
        const chunk = await this.read();
        return chunk === null ? { done: true, value: undefined } : { done: false, value: chunk };
      },
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }
}

export interface WriteStreamOptions {
  start?: number;
  encoding?: Encoding;
  autoClose?: boolean;
}

/** Sequential writes to a file, each resolving when the bytes are written (Node's WriteStream
 * with promises instead of callbacks and events). */
export class WriteStream {
  bytesWritten = 0;
  private pos: number | null;
  private ended = false;
  private readonly enc: Codec;
  private readonly autoClose: boolean;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly handle: FileHandle, opts: WriteStreamOptions = {}) {
    this.pos = opts.start === undefined ? null : intArg(opts.start, 'start', 0);
    this.enc = encodingOf(opts) ?? 'utf8';
    this.autoClose = opts.autoClose ?? true;
  }

  /** Queues `chunk` after earlier writes; resolves once it is written. */
  write(chunk: Data): Promise<void> {
    if (this.ended) return Promise.reject(new FsError('EBADF', 'write', 'write after end'));
    const bytes = toBytes(chunk, this.enc);
    const run = this.tail.then(async () => {
      const { bytesWritten } = await this.handle.write(bytes, 0, bytes.length, this.pos);
      if (this.pos !== null) this.pos += bytesWritten;
      this.bytesWritten += bytesWritten;
    });
    this.tail = run.catch(() => {});
    return run;
  }

  /** Writes a last chunk (if any), waits for every write, and closes the handle (autoClose). */
  async end(chunk?: Data): Promise<void> {
    if (chunk !== undefined) await this.write(chunk);
    this.ended = true;
    await this.tail;
    if (this.autoClose) await this.handle.close();
  }
}

/** An open file, as Node's FileHandle. */
export class FileHandle {
  constructor(private readonly file: OpenFile) {}

  get fd(): number {
    return this.file.closed ? -1 : this.file.fd;
  }

  /** read(buffer, offset?, length?, position?) or read({ buffer, offset, length, position }) or read(buffer, { ... }). */
  async read(
    bufferOrOptions?: Uint8Array | ReadOptions,
    offsetOrOptions?: number | Omit<ReadOptions, 'buffer'>,
    length?: number,
    position?: number | null,
  ): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    let buffer: Uint8Array | undefined;
    let offset: unknown = offsetOrOptions;
    if (bufferOrOptions instanceof Uint8Array) {
      buffer = bufferOrOptions;
      if (typeof offsetOrOptions === 'object' && offsetOrOptions !== null) ({ offset, length, position } = offsetOrOptions);
    } else if (bufferOrOptions !== undefined && bufferOrOptions !== null) {
      ({ buffer, offset, length, position } = bufferOrOptions);
    }
    buffer ??= new Uint8Array(16384);
    const off = offset === undefined ? 0 : intArg(offset, 'offset', 0, buffer.length);
    const len = length === undefined ? buffer.length - off : intArg(length, 'length', 0, buffer.length - off);
    const bytesRead = await this.file.read(buffer, off, len, positionArg(position));
    return { bytesRead, buffer };
  }

  /** write(buffer, offset?, length?, position?) or write(string, position?, encoding?). */
  async write(data: Data, offsetOrPosition?: number | null, lengthOrEncoding?: number | Encoding, position?: number | null): Promise<{ bytesWritten: number; buffer: Data }> {
    let bytes: Uint8Array;
    let at: number | null;
    if (typeof data === 'string') {
      bytes = toBytes(data, encodingOf(lengthOrEncoding) ?? 'utf8');
      at = positionArg(offsetOrPosition);
    } else {
      const all = toBytes(data);
      const off = offsetOrPosition === undefined || offsetOrPosition === null ? 0 : intArg(offsetOrPosition, 'offset', 0, all.length);
      const len = lengthOrEncoding === undefined ? all.length - off : intArg(lengthOrEncoding, 'length', 0, all.length - off);
      bytes = all.subarray(off, off + len);
      at = positionArg(position);
    }
    const bytesWritten = await this.file.write(bytes, at);
    return { bytesWritten, buffer: data };
  }

  /** The rest of the file from the current position (a string with an encoding). */
  readFile(options: Encoding | { encoding: Encoding }): Promise<string>;
  readFile(options?: { encoding?: null }): Promise<Uint8Array>;
  async readFile(options?: Encoding | { encoding?: Encoding | null }): Promise<Uint8Array | string> {
    const enc = encodingOf(options);
    const bytes = await readAll(this.file);
    return enc ? decode(bytes, enc) : bytes;
  }

  /** Writes `data` at the current position (the end in append mode). */
  async writeFile(data: Data, options?: Encoding | { encoding?: Encoding | null }): Promise<void> {
    await this.file.write(toBytes(data, encodingOf(options) ?? 'utf8'), null);
  }

  appendFile(data: Data, options?: Encoding | { encoding?: Encoding | null }): Promise<void> {
    return this.writeFile(data, options);
  }

  async stat(): Promise<Stats> {
    return new Stats(await this.file.stat());
  }

  truncate(len = 0): Promise<void> {
    return this.file.truncate(intArg(len, 'len', 0));
  }

  sync(): Promise<void> {
    return this.file.sync();
  }

  datasync(): Promise<void> {
    return this.file.sync();
  }

  close(): Promise<void> {
    return this.file.closed ? Promise.resolve() : this.file.close();
  }

  createReadStream(options?: ReadStreamOptions): ReadStream {
    return new ReadStream(this, options);
  }

  createWriteStream(options?: WriteStreamOptions): WriteStream {
    return new WriteStream(this, options);
  }
}

/** Node's refusal to read a file of 2 GiB or more into one buffer (readFile). */
class FileTooLarge extends RangeError {
  readonly code = 'ERR_FS_FILE_TOO_LARGE';
}

/** Largest file readFile reads (Node's kIoMaxLength). */
const READ_MAX = 2 ** 31 - 1;

async function readAll(file: OpenFile): Promise<Uint8Array> {
  const st = await file.stat();
  if (st.type === 'directory') throw new FsError('EISDIR', 'read', file.path);
  const rest = Math.max(0, st.size - file.position);
  if (rest > READ_MAX) throw new FileTooLarge(`File size (${rest}) is greater than 2 GiB`);
  let buf = new Uint8Array(rest || CHUNK);
  let used = 0;
  for (;;) {
    if (used === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = await file.read(buf, used, buf.length - used, null);
    if (n === 0) break;
    used += n;
  }
  return used === buf.length ? buf : buf.slice(0, used);
}

export async function open(path: string, flags?: OpenFlag, _mode?: number): Promise<FileHandle> {
  return new FileHandle(await vfs.open(pathArg(path), parseFlags(flags)));
}

async function withFile<T>(path: string, flags: string, fn: (f: OpenFile) => Promise<T>): Promise<T> {
  const f = await vfs.open(pathArg(path), parseFlags(flags));
  try {
    return await fn(f);
  } finally {
    await f.close();
  }
}

export function readFile(path: string, options: Encoding | { encoding: Encoding; flag?: OpenFlag }): Promise<string>;
export function readFile(path: string, options?: { encoding?: null; flag?: OpenFlag }): Promise<Uint8Array>;
export async function readFile(path: string, options?: Encoding | { encoding?: Encoding | null; flag?: OpenFlag }): Promise<Uint8Array | string> {
  const enc = encodingOf(options);
  const bytes = await withFile(path, flagOf(options, 'r'), readAll);
  return enc ? decode(bytes, enc) : bytes;
}

export async function writeFile(path: string, data: Data, options?: Encoding | { encoding?: Encoding | null; flag?: OpenFlag; mode?: number }): Promise<void> {
  const bytes = toBytes(data, encodingOf(options) ?? 'utf8');
  await withFile(path, flagOf(options, 'w'), (f) => f.write(bytes, null));
}

export function appendFile(path: string, data: Data, options?: Encoding | { encoding?: Encoding | null; flag?: OpenFlag; mode?: number }): Promise<void> {
  return writeFile(path, data, typeof options === 'string' ? { encoding: options, flag: 'a' } : { ...options, flag: flagOf(options, 'a') as OpenFlag });
}

export async function stat(path: string): Promise<Stats> {
  return new Stats(await vfs.stat(pathArg(path)));
}

/** Kiln's filesystems have no symbolic links: lstat is stat. */
export async function lstat(path: string): Promise<Stats> {
  return new Stats(await vfs.stat(pathArg(path), 'lstat'));
}

export function readdir(path: string, options: { withFileTypes: true; recursive?: boolean }): Promise<Dirent[]>;
export function readdir(path: string, options?: Encoding | { encoding?: Encoding; withFileTypes?: false; recursive?: boolean }): Promise<string[]>;
export async function readdir(path: string, options?: Encoding | { encoding?: Encoding; withFileTypes?: boolean; recursive?: boolean }): Promise<string[] | Dirent[]> {
  const o = typeof options === 'object' && options !== null ? options : {};
  const root = normalizePath(pathArg(path), 'scandir');
  const dirents: Dirent[] = [];
  const names: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const e of await vfs.readdir(dir)) {
      dirents.push(new Dirent(e.name, dir, e.type));
      names.push(prefix + e.name);
      if (o.recursive === true && e.type === 'directory') await walk(joinPath(dir, e.name), `${prefix}${e.name}/`);
    }
  };
  await walk(root, '');
  return o.withFileTypes === true ? dirents : names;
}

/** mkdir(path, { recursive }): with recursive, the first directory created (or undefined) and no EEXIST. */
export async function mkdir(path: string, options?: number | { recursive?: boolean; mode?: number }): Promise<string | undefined> {
  const p = normalizePath(pathArg(path), 'mkdir');
  if (typeof options !== 'object' || options === null || options.recursive !== true) {
    await vfs.mkdir(path);
    return undefined;
  }
  let first: string | undefined;
  let at = '';
  for (const part of p.split('/').slice(1)) {
    at += `/${part}`;
    try {
      await vfs.mkdir(at);
      first ??= at;
    } catch (e) {
      if (!(e instanceof FsError) || e.code !== 'EEXIST') throw e;
      // As Node: an existing file is EEXIST for "f", ENOTDIR for "f/" or "f/." or "f/x".
      if ((await vfs.stat(at, 'mkdir')).type !== 'directory') throw new FsError(at === p && directoryForm(path) === null ? 'EEXIST' : 'ENOTDIR', 'mkdir', p);
    }
  }
  return first;
}

/** rm(path, { recursive, force }): force ignores a missing path; directories need recursive. */
export async function rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void> {
  const p = normalizePath(pathArg(path), 'rm');
  let st: FileStat;
  try {
    st = await vfs.stat(path, 'rm');
  } catch (e) {
    if (options?.force === true && e instanceof FsError && e.code === 'ENOENT') return;
    throw e;
  }
  if (st.type !== 'directory') return vfs.unlink(p);
  if (options?.recursive !== true) throw new FsError('EISDIR', 'rm', p, 'Path is a directory (use { recursive: true })');
  if (directoryForm(path) === 'dot') throw new FsError('EINVAL', 'rm', p, 'cannot remove "."');
  for (const e of await vfs.readdir(p)) await rm(joinPath(p, e.name), options);
  await vfs.rmdir(p);
}

export function rmdir(path: string): Promise<void> {
  return vfs.rmdir(pathArg(path));
}

export function unlink(path: string): Promise<void> {
  return vfs.unlink(pathArg(path));
}

export function rename(oldPath: string, newPath: string): Promise<void> {
  return vfs.rename(pathArg(oldPath, 'oldPath'), pathArg(newPath, 'newPath'));
}

export async function truncate(path: string, len = 0): Promise<void> {
  const n = intArg(len, 'len', 0);
  await withFile(path, 'r+', (f) => f.truncate(n));
}

/**
 * Copies a file (constants.COPYFILE_EXCL: EEXIST if the destination exists). As libuv, the
 * destination is opened without truncating it: when it is the source itself (any path naming
 * the same file), nothing changes; otherwise it is truncated, then written.
 */
export async function copyFile(src: string, dest: string, mode = 0): Promise<void> {
  pathArg(dest, 'dest');
  await withFile(pathArg(src, 'src'), 'r', async (from) => {
    if ((await from.stat()).type === 'directory') {
      // As libuv: the destination's directory is looked up first, then a directory source is EISDIR.
      const dir = parentOf(normalizePath(dest, 'copyfile'));
      if ((await vfs.stat(dir, 'copyfile')).type !== 'directory') throw new FsError('ENOTDIR', 'copyfile', dest);
      throw new FsError('EISDIR', 'copyfile', from.path);
    }
    const exclusive = (mode & constants.COPYFILE_EXCL) !== 0;
    const to = await vfs.open(dest, { read: false, write: true, create: true, exclusive, truncate: false, append: false });
    try {
      if (await vfs.sameFile(from, to)) return;
      await to.truncate(0);
      const buf = new Uint8Array(CHUNK);
      for (;;) {
        const n = await from.read(buf, 0, buf.length, null);
        if (n === 0) break;
        await to.write(buf.subarray(0, n), null);
      }
    } finally {
      await to.close();
    }
  });
}

/** access(path, mode): ENOENT if missing; W_OK on a read-only filesystem: EROFS. */
export async function access(path: string, mode: number = constants.F_OK): Promise<void> {
  const p = pathArg(path);
  await vfs.stat(p, 'access');
  if ((mode & constants.W_OK) !== 0 && !vfs.writableAt(p)) throw new FsError('EROFS', 'access', normalizePath(p, 'access'));
}

/** The absolute normalised path (Kiln has no symbolic links); ENOENT if it does not exist. */
export async function realpath(path: string): Promise<string> {
  const p = normalizePath(pathArg(path), 'realpath');
  await vfs.stat(path, 'realpath');
  return p;
}

/** The chunks of a file; it is opened on the first read (errors arrive there, as Node's 'error'). */
export function createReadStream(path: string, options?: ReadStreamOptions & { flags?: OpenFlag }): AsyncIterable<Uint8Array> & { close(): Promise<void> } {
  pathArg(path);
  let opening: Promise<ReadStream> | undefined;
  const stream = (): Promise<ReadStream> => (opening ??= open(path, options?.flags ?? 'r').then((h) => new ReadStream(h, { ...options, autoClose: true })));
  return {
    [Symbol.asyncIterator]: () => {
      let it: AsyncIterator<Uint8Array> | undefined;
      return {
        next: async () => (it ??= (await stream())[Symbol.asyncIterator]()).next(),
        return: async () => {
          if (opening) await (await opening).close();
          return { done: true, value: undefined };
        },
      };
    },
    close: async () => {
      if (opening) await (await opening).close();
    },
  };
}

export async function createWriteStream(path: string, options?: WriteStreamOptions & { flags?: OpenFlag }): Promise<WriteStream> {
  return new WriteStream(await open(path, options?.flags ?? 'w'), { ...options, autoClose: true });
}

/** Statistics of the filesystem holding `path`, as Node's StatFs (type is a name here). */
export async function statfs(path: string): Promise<{ type: string; bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number }> {
  const u = await vfs.statfs(pathArg(path));
  return { type: u.type, bsize: u.blockSize, blocks: u.totalBlocks, bfree: u.freeBlocks, bavail: u.freeBlocks, files: 0, ffree: 0 };
}

/** The mounted filesystems, by path. */
export function mounts(): MountInfo[] {
  return vfs.mounts();
}

/** Mounts `source` ("tmpfs", "disk:N", "virtiofs:TAG") at `path`. */
export async function mount(path: string, source: string): Promise<void> {
  const p = normalizePath(pathArg(path), 'mount');
  const bad = badMountPath(p);
  const s = parseMountSource(pathArg(source, 'source'));
  if (bad !== undefined) throw new FsError('EINVAL', 'mount', p, bad);
  if (!s) throw new FsError('EINVAL', 'mount', p, `unknown source ${JSON.stringify(source)} (tmpfs, disk:N or virtiofs:TAG)`);
  await vfs.mount(p, await openMountSource(s, p), formatMountSource(s));
}

/** Writes back and detaches the filesystem at `path` (EBUSY while files on it are open). */
export function unmount(path: string): Promise<void> {
  return vfs.unmount(pathArg(path));
}

/** Writes every cached change of every filesystem back to its device. */
export function sync(): Promise<void> {
  return vfs.sync();
}
