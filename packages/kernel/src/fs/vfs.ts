// The VFS: one tree of paths over the mounted filesystems. A mount table matched by longest
// prefix ("/" may hold bootfs, a tmpfs, a disk, or nothing: then "/" is an empty read-only
// directory), lexical path normalisation (path.ts), directories that exist only because a mount
// point lies below them, the open-file table (fds, positions, append mode), EXDEV across mounts,
// EBUSY for mount points and for unmounting with open files, and sync of every writable mount
// (kiln:fs sync(), and at exit through lifecycle.ts). Errors are FsError naming the app's path.
// Seam with the filesystems: fs/types.ts.

import { directoryForm, isWithin, normalizePath, parentOf } from './path.ts';
import { FsError, rebase, type DirEntry, type FileNode, type FileStat, type FileSystem, type FsUsage, type OpenFlags } from './types.ts';

export interface MountInfo {
  /** Where it is mounted. */
  path: string;
  /** Filesystem type: "bootfs", "tmpfs", "vfat", "virtiofs". */
  type: string;
  readOnly: boolean;
  /** What was mounted: "bootfs", "tmpfs", "disk:0", "virtiofs:TAG". */
  source: string;
}

interface Mount {
  readonly path: string;
  readonly fs: FileSystem;
  readonly source: string;
  openFiles: number;
}

/** Sources that name a device, which can be mounted once at a time. */
const DEVICE_SOURCE = /^(disk|virtiofs):/;

/** stat of a directory that exists only because a mount point lies below it. */
const SYNTHETIC_DIR: FileStat = { type: 'directory', size: 0, mtimeMs: 0, birthtimeMs: 0, mode: 0o40555, ino: 0, nlink: 2 };

export interface OpenOptions extends OpenFlags {
  /** Every write goes to the end of the file (O_APPEND). */
  append: boolean;
}

/** An entry of the open-file table. */
export class OpenFile {
  /** Where reads and writes without a position happen. */
  position = 0;
  closed = false;

  constructor(
    readonly fd: number,
    readonly path: string,
    readonly flags: OpenOptions,
    private readonly node: FileNode,
    private readonly vfs: Vfs,
  ) {}

  private live(syscall: string): void {
    if (this.closed) throw new FsError('EBADF', syscall, this.path);
  }

  private async call<T>(syscall: string, fn: () => Promise<T>): Promise<T> {
    this.live(syscall);
    try {
      return await fn();
    } catch (e) {
      throw rebase(e, syscall, this.path);
    }
  }

  /** Reads into buf[offset..offset+length) at `position` (null: the file position, which advances). */
  read(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return this.call('read', async () => {
      if (!this.flags.read) throw new FsError('EBADF', 'read', this.path);
      const at = position ?? this.position;
      const n = length === 0 ? 0 : await this.node.read(at, buf, offset, length);
      if (position === null) this.position = at + n;
      return n;
    });
  }

  /** Writes all of `data` at `position` (null: the file position; append mode: the end). */
  write(data: Uint8Array, position: number | null): Promise<number> {
    return this.call('write', async () => {
      if (!this.flags.write) throw new FsError('EBADF', 'write', this.path);
      this.vfs.dirty = true;
      const at = this.flags.append ? (await this.node.stat()).size : position ?? this.position;
      const n = await this.node.write(at, data);
      if (position === null || this.flags.append) this.position = at + n;
      return n;
    });
  }

  truncate(size: number): Promise<void> {
    return this.call('ftruncate', async () => {
      if (!this.flags.write) throw new FsError('EINVAL', 'ftruncate', this.path, 'file not open for writing');
      this.vfs.dirty = true;
      await this.node.truncate(size);
    });
  }

  stat(): Promise<FileStat> {
    return this.call('fstat', () => this.node.stat());
  }

  sync(): Promise<void> {
    return this.call('fsync', () => this.node.sync());
  }

  /** Closes the file and frees its fd (EBADF when already closed). */
  async close(): Promise<void> {
    this.live('close');
    this.closed = true;
    this.vfs.release(this);
    try {
      await this.node.close();
    } catch (e) {
      throw rebase(e, 'close', this.path);
    }
  }
}

export class Vfs {
  /** Longest mount path first, so the first match is the longest prefix. */
  private table: Mount[] = [];
  private readonly files = new Map<number, { file: OpenFile; mount: Mount }>();
  /** Something may have changed since the last sync() (writes, creations, removals). */
  dirty = false;

  mounts(): MountInfo[] {
    return this.table.map((m) => ({ path: m.path, type: m.fs.type, readOnly: m.fs.readOnly, source: m.source })).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The mount holding `p` (normalised) and the path inside it, or undefined (no fs at "/"). */
  private resolve(p: string): { mount: Mount; rel: string } | undefined {
    for (const m of this.table) {
      if (isWithin(p, m.path)) return { mount: m, rel: m.path === '/' ? p : p.slice(m.path.length) || '/' };
    }
    return undefined;
  }

  /** `p` is a mount point, or lies above one (then it must stay a directory). */
  private pinned(p: string): boolean {
    return this.table.some((m) => isWithin(m.path, p));
  }

  /** `p` is strictly above a mount point (a directory even if its filesystem has no such path). */
  private above(p: string): boolean {
    return this.table.some((m) => m.path !== p && isWithin(m.path, p));
  }

  /**
   * Mounts `fs` at `path`: the path must not be a mount point already, nor a non-directory, and a
   * device (`disk:N`, `virtiofs:TAG`) holds one mount at a time: two caches of one disk would
   * overwrite each other's changes, and a file reached through both would not be one file.
   */
  async mount(path: string, fs: FileSystem, source: string): Promise<void> {
    const p = normalizePath(path, 'mount');
    if (this.table.some((m) => m.path === p)) throw new FsError('EBUSY', 'mount', p, 'already a mount point');
    const twice = DEVICE_SOURCE.test(source) ? this.table.find((m) => m.source === source) : undefined;
    if (twice) throw new FsError('EBUSY', 'mount', p, `${source} is already mounted at ${twice.path}`);
    const under = this.resolve(p);
    if (under && under.rel !== '/') {
      try {
        const st = await under.mount.fs.stat(under.rel);
        if (st.type !== 'directory') throw new FsError('ENOTDIR', 'mount', p);
      } catch (e) {
        if (!(e instanceof FsError) || e.code !== 'ENOENT') throw rebase(e, 'mount', p);
      }
    }
    this.table.push({ path: p, fs, source, openFiles: 0 });
    this.table.sort((a, b) => b.path.length - a.path.length);
  }

  /** Syncs and detaches the filesystem at `path`: EINVAL if none, EBUSY with open files or mounts below. */
  async unmount(path: string): Promise<void> {
    const p = normalizePath(path, 'umount');
    const m = this.table.find((x) => x.path === p);
    if (!m) throw new FsError('EINVAL', 'umount', p, 'not a mount point');
    if (m.openFiles > 0) throw new FsError('EBUSY', 'umount', p, `${m.openFiles} open file${m.openFiles === 1 ? '' : 's'}`);
    if (this.above(p)) throw new FsError('EBUSY', 'umount', p, 'another filesystem is mounted below it');
    this.table = this.table.filter((x) => x !== m);
    try {
      await m.fs.unmount();
    } catch (e) {
      throw rebase(e, 'umount', p);
    }
  }

  /** Runs `op` on the filesystem holding `p`, with errors naming `p`. */
  private async on<T>(syscall: string, p: string, op: (fs: FileSystem, rel: string) => Promise<T>, change: boolean): Promise<T> {
    const r = this.resolve(p);
    if (!r) throw new FsError(change ? 'EROFS' : 'ENOENT', syscall, p);
    if (change && !r.mount.fs.readOnly) this.dirty = true;
    try {
      return await op(r.mount.fs, r.rel);
    } catch (e) {
      throw rebase(e, syscall, p);
    }
  }

  /** stat of `path`; ENOTDIR when its form ("f/", "f/.") asks for a directory and it is none. */
  async stat(path: string, syscall = 'stat'): Promise<FileStat> {
    const p = normalizePath(path, syscall);
    let st: FileStat;
    try {
      st = await this.on(syscall, p, (fs, rel) => fs.stat(rel), false);
    } catch (e) {
      if (e instanceof FsError && e.code === 'ENOENT' && (p === '/' || this.above(p))) return { ...SYNTHETIC_DIR };
      throw e;
    }
    if (st.type !== 'directory' && directoryForm(path) !== null) throw new FsError('ENOTDIR', syscall, p);
    return st;
  }

  /** ENOENT or ENOTDIR (naming `named`) unless `p` is an existing directory. */
  private async mustBeDirectory(p: string, syscall: string, named = p): Promise<void> {
    let st: FileStat;
    try {
      st = await this.stat(p, syscall);
    } catch (e) {
      throw rebase(e, syscall, named);
    }
    if (st.type !== 'directory') throw new FsError('ENOTDIR', syscall, named);
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const p = normalizePath(path, 'scandir');
    let entries: DirEntry[] = [];
    try {
      entries = await this.on('scandir', p, (fs, rel) => fs.readdir(rel), false);
    } catch (e) {
      if (!(e instanceof FsError && e.code === 'ENOENT' && (p === '/' || this.above(p)))) throw e;
    }
    // Mount points directly below, and directories on the way to deeper ones, show as directories.
    const shown = new Map(entries.map((e) => [e.name, e]));
    for (const m of this.table) {
      if (m.path === p || !isWithin(m.path, p)) continue;
      const rest = m.path.slice(p === '/' ? 1 : p.length + 1);
      const name = rest.split('/')[0]!;
      shown.set(name, { name, type: 'directory' });
    }
    return [...shown.values()];
  }

  async mkdir(path: string): Promise<void> {
    const p = normalizePath(path, 'mkdir');
    if (directoryForm(path) === 'dot') {
      // "d/." walks into d: ENOENT or ENOTDIR unless it is a directory, which exists already.
      await this.mustBeDirectory(p, 'mkdir');
      throw new FsError('EEXIST', 'mkdir', p);
    }
    if (this.pinned(p) || p === '/') throw new FsError('EEXIST', 'mkdir', p);
    await this.on('mkdir', p, (fs, rel) => fs.mkdir(rel), true);
  }

  async unlink(path: string): Promise<void> {
    const p = normalizePath(path, 'unlink');
    if (directoryForm(path) !== null) await this.mustBeDirectory(p, 'unlink');
    if (this.pinned(p) || p === '/') throw new FsError('EISDIR', 'unlink', p);
    await this.on('unlink', p, (fs, rel) => fs.unlink(rel), true);
  }

  async rmdir(path: string): Promise<void> {
    const p = normalizePath(path, 'rmdir');
    if (directoryForm(path) !== null) await this.mustBeDirectory(p, 'rmdir');
    if (directoryForm(path) === 'dot') throw new FsError('EINVAL', 'rmdir', p, 'cannot remove "."');
    if (this.pinned(p) || p === '/') throw new FsError('EBUSY', 'rmdir', p);
    await this.on('rmdir', p, (fs, rel) => fs.rmdir(rel), true);
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = normalizePath(fromPath, 'rename');
    const to = normalizePath(toPath, 'rename');
    const forms = [directoryForm(fromPath), directoryForm(toPath)] as const;
    if (forms[0] !== null || forms[1] !== null) {
      // Linux's order: the directories holding both last components ("d" itself for "d/."), then
      // a "." entry, which cannot be renamed or replaced (EBUSY), then the source, which a
      // trailing "/" on either side says must be a directory.
      await this.mustBeDirectory(forms[0] === 'dot' ? from : parentOf(from), 'rename', from);
      await this.mustBeDirectory(forms[1] === 'dot' ? to : parentOf(to), 'rename', to);
      if (forms[0] === 'dot' || forms[1] === 'dot') throw new FsError('EBUSY', 'rename', forms[0] === 'dot' ? from : to);
      await this.mustBeDirectory(from, 'rename');
    }
    for (const p of [from, to]) if (p === '/' || this.pinned(p)) throw new FsError('EBUSY', 'rename', p);
    const a = this.resolve(from);
    const b = this.resolve(to);
    if (!a || !b) throw new FsError('EROFS', 'rename', a ? to : from);
    if (a.mount !== b.mount) throw new FsError('EXDEV', 'rename', from, `${from} and ${to} are on different filesystems`);
    await this.on('rename', from, async (fs) => {
      // A directory cannot move below itself, whatever the filesystem checks (a file there is
      // the filesystem's ENOTDIR, as on Linux).
      if (to !== from && isWithin(to, from) && (await fs.stat(a.rel)).type === 'directory') {
        // As on Linux, a target directory that is missing or not a directory comes first.
        if ((await fs.stat(parentOf(b.rel))).type !== 'directory') throw new FsError('ENOTDIR', 'rename', to);
        throw new FsError('EINVAL', 'rename', from, 'cannot move a directory into itself');
      }
      await fs.rename(a.rel, b.rel);
    }, true);
  }

  /** Opens a file and gives it the lowest free fd (from 3, as a process with stdio open would). */
  async open(path: string, flags: OpenOptions): Promise<OpenFile> {
    const p = normalizePath(path, 'open');
    // "d/" and "d/." open only an existing directory; creating at "x/" is EISDIR once the
    // directory that would hold x exists (Linux's order).
    const form = directoryForm(path);
    if (form === 'slash' && flags.create) {
      await this.mustBeDirectory(parentOf(p), 'open', p);
      throw new FsError('EISDIR', 'open', p);
    }
    if (form !== null) await this.mustBeDirectory(p, 'open');
    const write = flags.write || flags.create || flags.truncate;
    if (write && (p === '/' || this.pinned(p))) throw new FsError('EISDIR', 'open', p);
    const node = await this.on('open', p, (fs, rel) => fs.open(rel, flags), write);
    const r = this.resolve(p);
    let fd = 3;
    while (this.files.has(fd)) fd++;
    const file = new OpenFile(fd, p, flags, node, this);
    this.files.set(fd, { file, mount: r!.mount });
    r!.mount.openFiles++;
    return file;
  }

  /**
   * Whether two open files are one file (st_dev and st_ino equal): the same filesystem and inode,
   * whatever paths opened them (".", "..", case-insensitive names, host hard links).
   */
  async sameFile(a: OpenFile, b: OpenFile): Promise<boolean> {
    const ma = this.files.get(a.fd);
    const mb = this.files.get(b.fd);
    if (!ma || !mb || ma.file !== a || mb.file !== b || ma.mount.fs !== mb.mount.fs) return false;
    return (await a.stat()).ino === (await b.stat()).ino;
  }

  /** `path` lies on a filesystem that can be written. */
  writableAt(path: string): boolean {
    const r = this.resolve(normalizePath(path, 'access'));
    return r !== undefined && !r.mount.fs.readOnly;
  }

  /** Called by OpenFile.close. */
  release(file: OpenFile): void {
    const f = this.files.get(file.fd);
    if (!f || f.file !== file) return;
    this.files.delete(file.fd);
    f.mount.openFiles--;
  }

  async statfs(path: string): Promise<FsUsage & { type: string }> {
    const p = normalizePath(path, 'statfs');
    await this.stat(path, 'statfs');
    const r = this.resolve(p);
    if (!r) return { type: 'none', blockSize: 4096, totalBlocks: 0, freeBlocks: 0 };
    const usage = await this.on('statfs', p, (fs) => fs.usage(), false);
    return { type: r.mount.fs.type, ...usage };
  }

  /** Writes every cached change of every writable mount back; the first failure is thrown after all ran. */
  async sync(): Promise<void> {
    this.dirty = false;
    const results = await Promise.allSettled(this.table.filter((m) => !m.fs.readOnly).map((m) => m.fs.sync().catch((e) => {
      throw rebase(e, 'sync', m.path);
    })));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
