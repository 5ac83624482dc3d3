// FileSystem (fs/types.ts) over a FUSE session to a virtio-fs device. Paths are walked one
// component at a time with LOOKUP from the root (node id 1). A bounded name cache maps
// (parent node id, name) to a node id until the entry timeout the server gave (entry_valid);
// each cached name and each open file owns exactly one FUSE lookup, given back with FORGET when
// the name is evicted, invalidated (unlink, rmdir, rename) or the file closed, so the server's
// inode table only holds what the guest uses. Open files are FUSE handles; READ and WRITE go in
// chunks of at most max_write (1 MiB with Kiln's server), all chunks of one call in flight at
// once. FUSE errors (negative Linux errnos) become FsError codes with the path.

import { decodeUtf8, encodeUtf8 } from '@kiln/common/text/utf8.ts';
import * as F from '@kiln/common/wire/fuse.ts';
import { FsError, type DirEntry, type FileNode, type FileStat, type FileSystem, type FileType, type FsErrorCode, type FsUsage, type OpenFlags } from '../types.ts';
import { FuseStatus, type FuseSession } from './session.ts';

/** Cached names at most; the oldest is forgotten first. */
export const NAME_CACHE_SIZE = 512;
const ROOT = F.FUSE_ROOT_ID;
const MAX_FILE = Number.MAX_SAFE_INTEGER;

const ERRNO_TO_CODE: Record<number, FsErrorCode> = {
  [F.ERRNO.ENOENT]: 'ENOENT', [F.ERRNO.EEXIST]: 'EEXIST', [F.ERRNO.ENOTDIR]: 'ENOTDIR', [F.ERRNO.EISDIR]: 'EISDIR',
  [F.ERRNO.ENOTEMPTY]: 'ENOTEMPTY', [F.ERRNO.ENOSPC]: 'ENOSPC', [F.ERRNO.EDQUOT]: 'ENOSPC', [F.ERRNO.EROFS]: 'EROFS',
  [F.ERRNO.EINVAL]: 'EINVAL', [F.ERRNO.EIO]: 'EIO', [F.ERRNO.EBADF]: 'EBADF', [F.ERRNO.ENAMETOOLONG]: 'ENAMETOOLONG',
  [F.ERRNO.EACCES]: 'EACCES', [F.ERRNO.EPERM]: 'EPERM', [F.ERRNO.EXDEV]: 'EXDEV', [F.ERRNO.EBUSY]: 'EBUSY',
  [F.ERRNO.ETXTBSY]: 'EBUSY', [F.ERRNO.ELOOP]: 'ELOOP', [F.ERRNO.EFBIG]: 'EFBIG', [F.ERRNO.ENODEV]: 'ENODEV',
};

/** The FsError for a failed FUSE request; errnos without an FsErrorCode become EIO naming the errno. */
export function fsErrorFrom(e: unknown, syscall: string, path: string): Error {
  if (!(e instanceof FuseStatus)) return e as Error;
  const code = ERRNO_TO_CODE[e.errno];
  if (code) return new FsError(code, syscall, path);
  return new FsError('EIO', syscall, path, `i/o error (host ${F.errnoName(e.errno) ?? `errno ${e.errno}`})`);
}

function typeOf(mode: number): FileType {
  const t = mode & F.S_IFMT;
  return t === F.S_IFREG ? 'file' : t === F.S_IFDIR ? 'directory' : t === F.S_IFLNK ? 'symlink' : 'other';
}

function direntType(t: number): FileType {
  return t === F.DT_REG ? 'file' : t === F.DT_DIR ? 'directory' : t === F.DT_LNK ? 'symlink' : 'other';
}

export function toFileStat(a: F.FuseAttr): FileStat {
  return {
    type: typeOf(a.mode), size: a.size, mtimeMs: a.mtime * 1000 + Math.floor(a.mtimensec / 1e6), birthtimeMs: 0, mode: a.mode,
    ino: a.ino, nlink: a.nlink,
  };
}

interface Dentry {
  nodeid: number;
  /** Monotonic ms after which the name must be looked up again. */
  expires: number;
}

export interface VirtioFsOptions {
  readOnly?: boolean;
  /** Monotonic milliseconds (name cache expiry). */
  now(): number;
  /** Called once by unmount(), after DESTROY (the mount registry frees the tag). */
  onUnmount?(): void;
}

export class VirtioFsFileSystem implements FileSystem {
  readonly type = 'virtiofs';
  readonly readOnly: boolean;
  readonly #s: FuseSession;
  readonly #o: VirtioFsOptions;
  readonly #names = new Map<string, Dentry>();
  readonly #open = new Set<VirtioFsFile>();
  #unmounted = false;

  constructor(session: FuseSession, o: VirtioFsOptions) {
    this.#s = session;
    this.#o = o;
    this.readOnly = o.readOnly ?? false;
  }

  /** Names cached now (for tests). */
  get cachedNames(): number {
    return this.#names.size;
  }

  #check(syscall: string, path: string, mutates: boolean): void {
    if (this.#unmounted) throw new FsError('ENODEV', syscall, path, 'the virtio-fs share is unmounted');
    if (mutates && this.readOnly) throw new FsError('EROFS', syscall, path);
  }

  /** "/a/b" → ["a", "b"] as UTF-8; "/" → []. */
  #split(path: string, syscall: string): Uint8Array[] {
    if (path === '/') return [];
    const parts = path.split('/');
    const out: Uint8Array[] = [];
    for (let i = 1; i < parts.length; i++) {
      const name = encodeUtf8(parts[i]!);
      const bad = F.badComponent(name);
      if (bad) throw new FsError(bad, syscall, path);
      out.push(name);
    }
    if (parts[0] !== '' || out.length === 0) throw new FsError('EINVAL', syscall, path, 'not a normalised absolute path');
    return out;
  }

  #key(parent: number, name: Uint8Array): string {
    return `${parent}/${decodeUtf8(name)}`;
  }

  /** Caches a name the server just gave one lookup for (taking that lookup). */
  #remember(parent: number, name: Uint8Array, e: F.FuseEntryOut): void {
    const key = this.#key(parent, name);
    const old = this.#names.get(key);
    if (old) {
      this.#names.delete(key);
      this.#s.forget(old.nodeid);
    }
    this.#names.set(key, { nodeid: e.nodeid, expires: this.#o.now() + e.entryValid * 1000 + e.entryValidNsec / 1e6 });
    if (this.#names.size > NAME_CACHE_SIZE) {
      const [oldestKey, oldest] = this.#names.entries().next().value as [string, Dentry];
      this.#names.delete(oldestKey);
      this.#s.forget(oldest.nodeid);
    }
  }

  /** Drops a cached name (after unlink, rmdir, rename, or an error that says it is stale). */
  #invalidate(parent: number, name: Uint8Array): void {
    const key = this.#key(parent, name);
    const d = this.#names.get(key);
    if (!d) return;
    this.#names.delete(key);
    this.#s.forget(d.nodeid);
  }

  /** The cached node id of parent/name if still valid, or undefined. */
  #cached(parent: number, name: Uint8Array): number | undefined {
    const key = this.#key(parent, name);
    const d = this.#names.get(key);
    if (!d) return undefined;
    if (d.expires > this.#o.now()) return d.nodeid;
    this.#names.delete(key);
    this.#s.forget(d.nodeid);
    return undefined;
  }

  /** LOOKUP, caching the result. */
  async #lookup(parent: number, name: Uint8Array): Promise<F.FuseEntryOut> {
    const e = await this.#s.lookup(parent, name);
    this.#remember(parent, name, e);
    return e;
  }

  /** The node id of the directory holding the last component, and that component. */
  async #walk(parts: Uint8Array[], upTo: number): Promise<number> {
    let node = ROOT;
    for (let i = 0; i < upTo; i++) {
      node = this.#cached(node, parts[i]!) ?? (await this.#lookup(node, parts[i]!)).nodeid;
    }
    return node;
  }

  async #parentOf(path: string, syscall: string): Promise<{ parent: number; name: Uint8Array }> {
    const parts = this.#split(path, syscall);
    if (parts.length === 0) throw new FsError('EBUSY', syscall, path, 'the root of a share cannot be changed');
    try {
      return { parent: await this.#walk(parts, parts.length - 1), name: parts[parts.length - 1]! };
    } catch (e) {
      throw fsErrorFrom(e, syscall, path);
    }
  }

  async stat(path: string): Promise<FileStat> {
    this.#check('stat', path, false);
    const parts = this.#split(path, 'stat');
    try {
      if (parts.length === 0) return toFileStat((await this.#s.getattr(ROOT)).attr);
      const parent = await this.#walk(parts, parts.length - 1);
      const name = parts[parts.length - 1]!;
      const known = this.#cached(parent, name);
      if (known !== undefined) return toFileStat((await this.#s.getattr(known)).attr);
      return toFileStat((await this.#lookup(parent, name)).attr);
    } catch (e) {
      throw fsErrorFrom(e, 'stat', path);
    }
  }

  async readdir(path: string): Promise<DirEntry[]> {
    this.#check('scandir', path, false);
    const parts = this.#split(path, 'scandir');
    try {
      const node = await this.#walk(parts, parts.length);
      const fh = await this.#s.opendir(node);
      const out: DirEntry[] = [];
      try {
        let off = 0;
        for (;;) {
          const batch = await this.#s.readdir(fh, off);
          if (batch.length === 0) break;
          for (const e of batch) out.push({ name: decodeUtf8(e.name), type: direntType(e.type) });
          off = batch[batch.length - 1]!.off;
        }
      } finally {
        await this.#s.release(fh, true).catch(() => {});
      }
      return out;
    } catch (e) {
      throw fsErrorFrom(e, 'scandir', path);
    }
  }

  async mkdir(path: string): Promise<void> {
    this.#check('mkdir', path, true);
    const { parent, name } = await this.#parentOf(path, 'mkdir');
    try {
      this.#remember(parent, name, await this.#s.mkdir(parent, name, 0o777 & ~0o022));
    } catch (e) {
      throw fsErrorFrom(e, 'mkdir', path);
    }
  }

  async unlink(path: string): Promise<void> {
    await this.#remove(path, 'unlink', false);
  }

  async rmdir(path: string): Promise<void> {
    await this.#remove(path, 'rmdir', true);
  }

  async #remove(path: string, syscall: string, isDir: boolean): Promise<void> {
    this.#check(syscall, path, true);
    const { parent, name } = await this.#parentOf(path, syscall);
    try {
      await this.#s.unlink(parent, name, isDir);
    } catch (e) {
      throw fsErrorFrom(e, syscall, path);
    } finally {
      this.#invalidate(parent, name);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    this.#check('rename', from, true);
    const a = await this.#parentOf(from, 'rename');
    const b = await this.#parentOf(to, 'rename');
    try {
      await this.#s.rename(a.parent, a.name, b.parent, b.name);
    } catch (e) {
      throw fsErrorFrom(e, 'rename', `${from}' -> '${to}`);
    } finally {
      this.#invalidate(a.parent, a.name);
      this.#invalidate(b.parent, b.name);
    }
  }

  async open(path: string, flags: OpenFlags): Promise<FileNode> {
    const mutates = flags.write || flags.create || flags.truncate;
    this.#check('open', path, mutates);
    if (flags.truncate && !flags.write) throw new FsError('EINVAL', 'open', path, 'truncate needs write access');
    if (!flags.read && !flags.write) throw new FsError('EINVAL', 'open', path, 'open for neither reading nor writing');
    const acc = flags.read && flags.write ? F.O_RDWR : flags.write ? F.O_WRONLY : F.O_RDONLY;
    const openFlags = acc | (flags.truncate ? F.O_TRUNC : 0);
    const parts = this.#split(path, 'open');
    if (parts.length === 0) throw new FsError('EISDIR', 'open', path);
    const { parent, name } = await this.#parentOf(path, 'open');
    try {
      if (flags.create) {
        const c = await this.#s.create(parent, name, openFlags | F.O_CREAT | (flags.exclusive ? F.O_EXCL : 0), 0o666 & ~0o022);
        this.#invalidate(parent, name);
        return this.#track(new VirtioFsFile(this, this.#s, c.entry.nodeid, c.fh, flags, path));
      }
      // The open file owns a lookup of its own: the cached name's, handed over, or a new one.
      const key = this.#key(parent, name);
      let nodeid = this.#cached(parent, name);
      if (nodeid !== undefined) this.#names.delete(key);
      else nodeid = (await this.#s.lookup(parent, name)).nodeid;
      let fh: number;
      try {
        fh = await this.#s.open(nodeid, openFlags);
      } catch (e) {
        this.#s.forget(nodeid);
        throw e;
      }
      return this.#track(new VirtioFsFile(this, this.#s, nodeid, fh, flags, path));
    } catch (e) {
      throw fsErrorFrom(e, 'open', path);
    }
  }

  #track(f: VirtioFsFile): VirtioFsFile {
    this.#open.add(f);
    return f;
  }

  /** @internal the file closed: it no longer needs syncing at unmount. */
  untrack(f: VirtioFsFile): void {
    this.#open.delete(f);
  }

  async sync(): Promise<void> {
    this.#check('sync', '/', false);
    await Promise.all([...this.#open].map((f) => f.sync().catch(() => {})));
    try {
      await this.#s.syncfs();
    } catch (e) {
      if (!(e instanceof FuseStatus && e.errno === F.ERRNO.ENOSYS)) throw fsErrorFrom(e, 'sync', '/');
    }
  }

  async usage(): Promise<FsUsage> {
    this.#check('statfs', '/', false);
    try {
      const s = await this.#s.statfs();
      return { blockSize: s.frsize || s.bsize, totalBlocks: s.blocks, freeBlocks: s.bavail };
    } catch (e) {
      throw fsErrorFrom(e, 'statfs', '/');
    }
  }

  async unmount(): Promise<void> {
    if (this.#unmounted) return;
    if (!this.readOnly) await this.sync();
    for (const f of [...this.#open]) await f.close().catch(() => {});
    for (const d of this.#names.values()) this.#s.forget(d.nodeid);
    this.#names.clear();
    this.#s.flushForgets();
    this.#unmounted = true;
    try {
      await this.#s.destroy();
    } finally {
      this.#o.onUnmount?.();
    }
  }
}

/** An open file: a FUSE handle plus the one lookup of its node it owns. */
export class VirtioFsFile implements FileNode {
  #closed = false;

  constructor(
    private readonly fs: VirtioFsFileSystem,
    private readonly s: FuseSession,
    readonly nodeid: number,
    readonly fh: number,
    private readonly flags: OpenFlags,
    private readonly path: string,
  ) {}

  #check(syscall: string): void {
    if (this.#closed) throw new FsError('EBADF', syscall, this.path, 'the file is closed');
  }

  async read(position: number, buf: Uint8Array, offset: number, length: number): Promise<number> {
    this.#check('read');
    if (!this.flags.read) throw new FsError('EBADF', 'read', this.path, 'not open for reading');
    if (!(Number.isSafeInteger(position) && position >= 0 && Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0 && offset + length <= buf.length)) {
      throw new FsError('EINVAL', 'read', this.path);
    }
    const chunk = this.s.maxIo;
    const parts: Promise<number>[] = [];
    for (let at = 0; at < length; at += chunk) parts.push(this.s.read(this.fh, position + at, Math.min(chunk, length - at), buf, offset + at));
    try {
      const got = await Promise.all(parts);
      let total = 0;
      for (let i = 0; i < got.length; i++) {
        total += got[i]!;
        if (got[i]! < Math.min(chunk, length - i * chunk)) break; // end of file
      }
      return total;
    } catch (e) {
      throw fsErrorFrom(e, 'read', this.path);
    }
  }

  async write(position: number, data: Uint8Array): Promise<number> {
    this.#check('write');
    if (!this.flags.write) throw new FsError('EBADF', 'write', this.path, 'not open for writing');
    if (!(Number.isSafeInteger(position) && position >= 0)) throw new FsError('EINVAL', 'write', this.path);
    if (position + data.length > MAX_FILE) throw new FsError('EFBIG', 'write', this.path);
    const chunk = this.s.maxIo;
    try {
      const parts: Promise<void>[] = [];
      for (let at = 0; at < data.length; at += chunk) {
        const piece = data.subarray(at, Math.min(data.length, at + chunk));
        parts.push(this.#writeAll(position + at, piece));
      }
      await Promise.all(parts);
      return data.length;
    } catch (e) {
      throw fsErrorFrom(e, 'write', this.path);
    }
  }

  async #writeAll(position: number, piece: Uint8Array): Promise<void> {
    let done = 0;
    while (done < piece.length) {
      const n = await this.s.write(this.fh, position + done, piece.subarray(done));
      if (n <= 0) throw new FuseStatus(F.ERRNO.ENOSPC, F.FUSE_WRITE);
      done += n;
    }
  }

  async truncate(size: number): Promise<void> {
    this.#check('ftruncate');
    if (!this.flags.write) throw new FsError('EBADF', 'ftruncate', this.path, 'not open for writing');
    if (!(Number.isSafeInteger(size) && size >= 0)) throw new FsError('EINVAL', 'ftruncate', this.path);
    try {
      await this.s.setattr(this.nodeid, { size, fh: this.fh });
    } catch (e) {
      throw fsErrorFrom(e, 'ftruncate', this.path);
    }
  }

  async stat(): Promise<FileStat> {
    this.#check('fstat');
    try {
      return toFileStat((await this.s.getattr(this.nodeid, this.fh)).attr);
    } catch (e) {
      throw fsErrorFrom(e, 'fstat', this.path);
    }
  }

  async sync(): Promise<void> {
    this.#check('fsync');
    try {
      await this.s.fsync(this.fh, false);
    } catch (e) {
      throw fsErrorFrom(e, 'fsync', this.path);
    }
  }

  async close(): Promise<void> {
    this.#check('close');
    this.#closed = true;
    this.fs.untrack(this);
    try {
      await this.s.release(this.fh, false);
    } catch (e) {
      throw fsErrorFrom(e, 'close', this.path);
    } finally {
      this.s.forget(this.nodeid);
    }
  }
}
