// tmpfs: a FileSystem in guest memory (`kiln run --mount /tmp=tmpfs`), also the in-memory
// filesystem the VFS and kiln:fs tests run against. POSIX semantics of the seam (fs/types.ts):
// rename replaces a file or an empty directory, open files outlive unlink, a capacity in bytes
// gives ENOSPC. Files grow by doubling their buffer, so appends cost amortised O(1) copies.

import { FsError, type DirEntry, type FileNode, type FileStat, type FileSystem, type FsUsage, type OpenFlags } from './types.ts';

const BLOCK = 4096;
/** Largest file: what a Uint8Array can hold safely here. */
const FILE_MAX = 0x7fffffff;

interface MemFile {
  kind: 'file';
  ino: number;
  data: Uint8Array;
  size: number;
  mtimeMs: number;
  birthtimeMs: number;
  nlink: number;
}
interface MemDir {
  kind: 'dir';
  ino: number;
  entries: Map<string, MemNode>;
  mtimeMs: number;
  birthtimeMs: number;
  parent: MemDir | null;
}
type MemNode = MemFile | MemDir;

export interface TmpfsOptions {
  /** Bytes of file data it may hold (default: unlimited, i.e. guest memory). */
  capacity?: number;
  /** Clock for mtimes (ms since the epoch). */
  now?: () => number;
}

export class Tmpfs implements FileSystem {
  readonly type = 'tmpfs';
  readonly readOnly = false;
  private readonly root: MemDir;
  private nextIno = 2;
  private used = 0;
  private readonly capacity: number;
  private readonly now: () => number;
  private unmounted = false;

  constructor(opts: TmpfsOptions = {}) {
    this.capacity = opts.capacity ?? Number.MAX_SAFE_INTEGER;
    this.now = opts.now ?? (() => Date.now());
    const t = this.now();
    this.root = { kind: 'dir', ino: 1, entries: new Map(), mtimeMs: t, birthtimeMs: t, parent: null };
  }

  private lookup(path: string, syscall: string): MemNode {
    if (this.unmounted) throw new FsError('EIO', syscall, path, 'filesystem is unmounted');
    let node: MemNode = this.root;
    if (path === '/') return node;
    for (const part of path.slice(1).split('/')) {
      if (node.kind !== 'dir') throw new FsError('ENOTDIR', syscall, path);
      const next: MemNode | undefined = node.entries.get(part);
      if (!next) throw new FsError('ENOENT', syscall, path);
      node = next;
    }
    return node;
  }

  /** The directory holding `path` and the last name; ENOENT/ENOTDIR for the directory. */
  private parent(path: string, syscall: string): { dir: MemDir; name: string } {
    if (path === '/') throw new FsError('EBUSY', syscall, path, 'the root of a filesystem');
    const i = path.lastIndexOf('/');
    const dir = this.lookup(i === 0 ? '/' : path.slice(0, i), syscall);
    if (dir.kind !== 'dir') throw new FsError('ENOTDIR', syscall, path);
    return { dir, name: path.slice(i + 1) };
  }

  private statOf(n: MemNode): FileStat {
    return n.kind === 'file'
      ? { type: 'file', size: n.size, mtimeMs: n.mtimeMs, birthtimeMs: n.birthtimeMs, mode: 0o100644, ino: n.ino, nlink: n.nlink }
      : { type: 'directory', size: BLOCK, mtimeMs: n.mtimeMs, birthtimeMs: n.birthtimeMs, mode: 0o40755, ino: n.ino, nlink: 2 };
  }

  async stat(path: string): Promise<FileStat> {
    return this.statOf(this.lookup(path, 'stat'));
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const d = this.lookup(path, 'scandir');
    if (d.kind !== 'dir') throw new FsError('ENOTDIR', 'scandir', path);
    return [...d.entries].map(([name, n]) => ({ name, type: n.kind === 'dir' ? 'directory' : 'file' }));
  }

  async mkdir(path: string): Promise<void> {
    const { dir, name } = this.parent(path, 'mkdir');
    if (dir.entries.has(name)) throw new FsError('EEXIST', 'mkdir', path);
    const t = this.now();
    dir.entries.set(name, { kind: 'dir', ino: this.nextIno++, entries: new Map(), mtimeMs: t, birthtimeMs: t, parent: dir });
    dir.mtimeMs = t;
  }

  async unlink(path: string): Promise<void> {
    const { dir, name } = this.parent(path, 'unlink');
    const n = dir.entries.get(name);
    if (!n) throw new FsError('ENOENT', 'unlink', path);
    if (n.kind === 'dir') throw new FsError('EISDIR', 'unlink', path);
    dir.entries.delete(name);
    dir.mtimeMs = this.now();
    n.nlink = 0;
    this.used -= n.size; // open handles keep the bytes readable; the space is the fs's again
  }

  async rmdir(path: string): Promise<void> {
    const { dir, name } = this.parent(path, 'rmdir');
    const n = dir.entries.get(name);
    if (!n) throw new FsError('ENOENT', 'rmdir', path);
    if (n.kind !== 'dir') throw new FsError('ENOTDIR', 'rmdir', path);
    if (n.entries.size > 0) throw new FsError('ENOTEMPTY', 'rmdir', path);
    dir.entries.delete(name);
    dir.mtimeMs = this.now();
  }

  async rename(from: string, to: string): Promise<void> {
    // Both directories first, then the source (Linux's order of errors).
    const src = this.parent(from, 'rename');
    const dst = this.parent(to, 'rename');
    const node = src.dir.entries.get(src.name);
    if (!node) throw new FsError('ENOENT', 'rename', from);
    if (node.kind === 'dir') {
      for (let d: MemDir | null = dst.dir; d; d = d.parent) {
        if (d === node) throw new FsError('EINVAL', 'rename', to, 'cannot move a directory into itself');
      }
    }
    const old = dst.dir.entries.get(dst.name);
    if (old === node) return;
    if (old) {
      if (node.kind === 'dir' && old.kind !== 'dir') throw new FsError('ENOTDIR', 'rename', to);
      if (node.kind !== 'dir' && old.kind === 'dir') throw new FsError('EISDIR', 'rename', to);
      if (old.kind === 'dir' && old.entries.size > 0) throw new FsError('ENOTEMPTY', 'rename', to);
      if (old.kind === 'file') {
        old.nlink = 0;
        this.used -= old.size;
      }
    }
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, node);
    if (node.kind === 'dir') node.parent = dst.dir;
    const t = this.now();
    src.dir.mtimeMs = t;
    dst.dir.mtimeMs = t;
  }

  async open(path: string, flags: OpenFlags): Promise<FileNode> {
    let node: MemNode;
    if (flags.create) {
      const { dir, name } = this.parent(path, 'open');
      const found = dir.entries.get(name);
      if (found && flags.exclusive) throw new FsError('EEXIST', 'open', path);
      if (found) node = found;
      else {
        const t = this.now();
        node = { kind: 'file', ino: this.nextIno++, data: new Uint8Array(0), size: 0, mtimeMs: t, birthtimeMs: t, nlink: 1 };
        dir.entries.set(name, node);
        dir.mtimeMs = t;
      }
    } else node = this.lookup(path, 'open');
    if (node.kind === 'dir') {
      if (flags.write) throw new FsError('EISDIR', 'open', path);
      return this.dirNode(node);
    }
    const file = node;
    if (flags.truncate && flags.write) this.resize(file, 0, path);
    return this.fileNode(file, path, flags.write);
  }

  private dirNode(d: MemDir): FileNode {
    return {
      read: async () => {
        throw new FsError('EISDIR', 'read', '');
      },
      write: async () => {
        throw new FsError('EBADF', 'write', '');
      },
      truncate: async () => {
        throw new FsError('EISDIR', 'ftruncate', '');
      },
      stat: async () => this.statOf(d),
      sync: async () => {},
      close: async () => {},
    };
  }

  private resize(f: MemFile, size: number, path: string): void {
    if (size > FILE_MAX) throw new FsError('EFBIG', 'write', path);
    const grow = size - f.size;
    if (f.nlink > 0 && grow > 0 && this.used + grow > this.capacity) throw new FsError('ENOSPC', 'write', path);
    if (size > f.data.length) {
      const next = new Uint8Array(Math.min(FILE_MAX, Math.max(size, f.data.length * 2, 64)));
      next.set(f.data.subarray(0, f.size));
      f.data = next;
    } else if (size < f.size) f.data.fill(0, size, f.size); // a later extension reads zeros
    if (f.nlink > 0) this.used += grow;
    f.size = size;
    f.mtimeMs = this.now();
  }

  private fileNode(f: MemFile, path: string, writable: boolean): FileNode {
    let closed = false;
    const live = (syscall: string): void => {
      if (closed) throw new FsError('EBADF', syscall, path);
    };
    return {
      read: async (position, buf, offset, length) => {
        live('read');
        if (position >= f.size) return 0;
        const n = Math.min(length, f.size - position);
        buf.set(f.data.subarray(position, position + n), offset);
        return n;
      },
      write: async (position, data) => {
        live('write');
        if (!writable) throw new FsError('EBADF', 'write', path);
        const end = position + data.length;
        if (end > f.size) this.resize(f, end, path);
        f.data.set(data, position);
        f.mtimeMs = this.now();
        return data.length;
      },
      truncate: async (size) => {
        live('ftruncate');
        if (!writable) throw new FsError('EBADF', 'ftruncate', path);
        this.resize(f, size, path);
      },
      stat: async () => {
        live('fstat');
        return this.statOf(f);
      },
      sync: async () => live('fsync'),
      close: async () => {
        live('close');
        closed = true;
      },
    };
  }

  async sync(): Promise<void> {}

  async usage(): Promise<FsUsage> {
    const total = this.capacity === Number.MAX_SAFE_INTEGER ? 0 : Math.floor(this.capacity / BLOCK);
    return { blockSize: BLOCK, totalBlocks: total, freeBlocks: total === 0 ? 0 : Math.max(0, total - Math.ceil(this.used / BLOCK)) };
  }

  async unmount(): Promise<void> {
    this.unmounted = true;
  }
}
