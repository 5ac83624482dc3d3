// A FUSE server over one host directory, for a hostile guest: the guest can reach what lies in the
// shared directory and nothing else. Every name in a request is one path component (no "", ".",
// "..", "/" or NUL; badComponent) resolved relative to the parent inode's O_PATH fd with openat2
// (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, O_NOFOLLOW): a symlink inside the share is reported as a
// symlink but never followed, opened or used as a directory, and a directory swapped for a symlink
// between two requests is then a symlink (ENOTDIR / ELOOP), never its target. Files are opened
// by reopening the inode's own fd through /proc/self/fd (no lookup), regular files only (a FIFO
// or device would block or reach host hardware). Read-only shares answer EROFS to every mutation.
// Requests are validated before use (header length, body sizes per opcode, NUL-terminated names,
// offsets below 2^53): unknown opcodes get ENOSYS, malformed ones EINVAL, never an exception.
// handle() is synchronous: each request is one or a few short syscalls on the VMM's main thread.
// Spec: include/uapi/linux/fuse.h (7.31–7.38), virtio 1.2 §5.11, virtiofsd's behaviour.

import * as F from '@kiln/common/wire/fuse.ts';
import { HostFs, O_CLOEXEC, O_DIRECTORY, O_PATH, UTIME_NOW, UTIME_OMIT, parseLinuxDirents, type HostStat } from '@kiln/kvm/fs.ts';
import { VmmError } from '../../../errors.ts';
import { HandleTable, InodeTable, type Handle, type Inode } from './tables.ts';

const E = F.ERRNO;
/** Largest READ/WRITE payload (max_write, max_readahead): 1 MiB = 256 pages. */
export const FUSE_MAX_IO = 1 << 20;
export const FUSE_MAX_PAGES_VALUE = FUSE_MAX_IO / 4096;
/** Largest request the server accepts: header + write_in + max_write. */
export const FUSE_MAX_REQUEST = F.IN_HEADER.size + F.WRITE_IN.size + FUSE_MAX_IO;
/** Largest reply it produces: header + max_read. */
export const FUSE_MAX_REPLY = F.OUT_HEADER.size + FUSE_MAX_IO;
export const DEFAULT_MAX_INODES = 8192;
export const DEFAULT_MAX_HANDLES = 1024;
/** Entries between two saved positions of a directory handle: a READDIR at any offset reads at
 * most this many entries more than its reply holds. */
export const DIR_CHECKPOINT_EVERY = 1024;
/** Saved positions per directory handle (past 2^26 entries the last one is the nearest). */
export const MAX_DIR_CHECKPOINTS = 1 << 16;
/** Cache validity given to the guest for names and attributes (seconds). */
const VALID_S = 1;
const NO_REPLY = null;

export interface FuseServerOptions {
  /** The host directory to share (opened once; its path is not used again). */
  hostDir: string;
  readOnly?: boolean;
  /** Let the guest set setuid/setgid bits (chmod, mkdir, create); stripped by default, as virtiofsd. */
  allowSetid?: boolean;
  maxInodes?: number;
  maxHandles?: number;
}

/** Bytes and calls served, for tests and benchmarks. */
export interface FuseStats {
  requests: number;
  errors: number;
  bytesRead: number;
  bytesWritten: number;
  /** Directory entries read from the host by READDIR(PLUS), skipped ones too. */
  dirEntriesRead: number;
}

const MUTATING = new Set([
  F.FUSE_SETATTR, F.FUSE_SYMLINK, F.FUSE_MKNOD, F.FUSE_MKDIR, F.FUSE_UNLINK, F.FUSE_RMDIR, F.FUSE_RENAME, F.FUSE_LINK, F.FUSE_WRITE,
  F.FUSE_SETXATTR, F.FUSE_REMOVEXATTR, F.FUSE_CREATE, F.FUSE_FALLOCATE, F.FUSE_RENAME2, F.FUSE_COPY_FILE_RANGE, F.FUSE_TMPFILE,
]);

type Reply = number | Uint8Array | null; // -errno, a body, or no reply

/** Permission bits and sticky: what a guest may set on a share without allowSetid. */
const MODE_NO_SETID = 0o1777;
const MODE_ALL = 0o7777;

export class FuseServer {
  readonly readOnly: boolean;
  /** The mode bits a guest may set (MODE_ALL with allowSetid). */
  readonly #modeMask: number;
  readonly stats: FuseStats = { requests: 0, errors: 0, bytesRead: 0, bytesWritten: 0, dirEntriesRead: 0 };
  readonly inodes: InodeTable;
  readonly handles: HandleTable;
  readonly #host: HostFs;
  readonly #root: Inode;
  /** A real (not O_PATH) fd of the root for syncfs, opened on first use. */
  #rootDirFd = -1;
  #initialized = false;
  readonly #reply = new Uint8Array(FUSE_MAX_REPLY);
  readonly #dents = new Uint8Array(64 * 1024);
  #closed = false;

  private constructor(host: HostFs, rootFd: number, rootStat: HostStat, o: FuseServerOptions) {
    this.#host = host;
    this.readOnly = o.readOnly ?? false;
    this.#modeMask = o.allowSetid ? MODE_ALL : MODE_NO_SETID;
    this.inodes = new InodeTable(host, o.maxInodes ?? DEFAULT_MAX_INODES);
    this.handles = new HandleTable(host, o.maxHandles ?? DEFAULT_MAX_HANDLES);
    this.#root = this.inodes.setRoot(rootFd, rootStat.key, rootStat.mode & F.S_IFMT);
  }

  /** Opens the shared directory; a VmmError ESHARE says what is wrong with it. */
  static open(o: FuseServerOptions, host: HostFs = new HostFs()): FuseServer {
    let fd: number;
    try {
      fd = host.openRoot(o.hostDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      throw new VmmError('ESHARE', `share ${o.hostDir}: ${why}`);
    }
    const st = host.fstat(fd);
    if (typeof st === 'number' || (st.mode & F.S_IFMT) !== F.S_IFDIR) {
      host.close(fd);
      throw new VmmError('ESHARE', `share ${o.hostDir}: not a directory`);
    }
    return new FuseServer(host, fd, st, o);
  }

  /**
   * Serves one request (the device-readable bytes of a chain) and returns the reply to put in
   * its device-writable part (a view valid until the next call; at most `capacity` bytes), or
   * null for FORGET/BATCH_FORGET/INTERRUPT, which have none.
   */
  handle(req: Uint8Array, capacity: number): Uint8Array | null {
    this.stats.requests++;
    const h = F.IN_HEADER.decode(req);
    if (!h) return this.#finish(0, -E.EINVAL, capacity);
    let r: Reply;
    if (this.#closed) r = -E.EIO;
    else if (h.len < F.IN_HEADER.size || h.len > req.length || h.totalExtlen !== 0) r = -E.EINVAL;
    else {
      try {
        r = this.#dispatch(h, req.subarray(F.IN_HEADER.size, h.len), Math.max(0, capacity - F.OUT_HEADER.size));
      } catch {
        r = -E.EIO; // a bug here must not take the VMM down; the guest sees an I/O error
      }
    }
    if (r === NO_REPLY) return null;
    return this.#finish(h.unique, r, capacity);
  }

  #finish(unique: number, r: number | Uint8Array, capacity: number): Uint8Array {
    let len = F.OUT_HEADER.size;
    let error = 0;
    if (typeof r === 'number') {
      error = r;
      this.stats.errors++;
    } else {
      // bodies are built in #reply after the header, except small ones built elsewhere
      if (r.buffer !== this.#reply.buffer || r.byteOffset !== F.OUT_HEADER.size) this.#reply.set(r, F.OUT_HEADER.size);
      len += r.length;
    }
    if (len > capacity) {
      len = F.OUT_HEADER.size;
      error = -E.EINVAL;
      if (capacity < len) return this.#reply.subarray(0, 0);
    }
    F.OUT_HEADER.encode({ len, error, unique }, this.#reply, 0);
    return this.#reply.subarray(0, len);
  }

  /** The reply body area (after the out header), `n` bytes. */
  #body(n: number): Uint8Array {
    return this.#reply.subarray(F.OUT_HEADER.size, F.OUT_HEADER.size + n);
  }

  #dispatch(h: F.FuseInHeader, body: Uint8Array, room: number): Reply {
    const op = h.opcode;
    if (op === F.FUSE_INIT) return this.#init(body);
    if (!this.#initialized) return -E.EIO;
    if (this.readOnly && MUTATING.has(op)) return -E.EROFS;
    switch (op) {
      case F.FUSE_DESTROY:
        this.#reset();
        return this.#body(0);
      case F.FUSE_FORGET: {
        const f = F.FORGET_IN.decode(body);
        if (f) this.inodes.forget(h.nodeid, f.nlookup === F.U64_UNSAFE ? Infinity : f.nlookup);
        return NO_REPLY;
      }
      case F.FUSE_BATCH_FORGET: {
        const b = F.BATCH_FORGET_IN.decode(body);
        if (!b) return NO_REPLY;
        const n = Math.min(b.count, Math.floor((body.length - F.BATCH_FORGET_IN.size) / F.FORGET_ONE.size));
        for (let i = 0; i < n; i++) {
          const one = F.FORGET_ONE.decode(body, F.BATCH_FORGET_IN.size + i * F.FORGET_ONE.size)!;
          this.inodes.forget(one.nodeid, one.nlookup === F.U64_UNSAFE ? Infinity : one.nlookup);
        }
        return NO_REPLY;
      }
      case F.FUSE_INTERRUPT:
        return NO_REPLY; // every request completes before the next is read: nothing to interrupt
      case F.FUSE_LOOKUP:
        return this.#lookup(h.nodeid, body);
      case F.FUSE_GETATTR:
        return this.#getattr(h.nodeid);
      case F.FUSE_SETATTR:
        return this.#setattr(h.nodeid, body);
      case F.FUSE_MKDIR:
        return this.#mkdir(h.nodeid, body);
      case F.FUSE_UNLINK:
      case F.FUSE_RMDIR:
        return this.#unlink(h.nodeid, body, op === F.FUSE_RMDIR);
      case F.FUSE_RENAME:
      case F.FUSE_RENAME2:
        return this.#rename(h.nodeid, body, op === F.FUSE_RENAME2);
      case F.FUSE_OPEN:
        return this.#open(h.nodeid, body);
      case F.FUSE_CREATE:
        return this.#create(h.nodeid, body);
      case F.FUSE_READ:
        return this.#read(body, room);
      case F.FUSE_WRITE:
        return this.#write(body);
      case F.FUSE_STATFS:
        return this.#statfs();
      case F.FUSE_RELEASE:
      case F.FUSE_RELEASEDIR: {
        const r = F.RELEASE_IN.decode(body);
        if (!r) return -E.EINVAL;
        const hd = this.handles.get(r.fh);
        if (!hd || (hd.kind === 'dir') !== (op === F.FUSE_RELEASEDIR)) return -E.EBADF;
        this.handles.release(r.fh);
        return this.#body(0);
      }
      case F.FUSE_FLUSH: {
        const r = F.FLUSH_IN.decode(body);
        if (!r) return -E.EINVAL;
        return this.handles.get(r.fh) ? this.#body(0) : -E.EBADF;
      }
      case F.FUSE_FSYNC:
      case F.FUSE_FSYNCDIR: {
        const r = F.FSYNC_IN.decode(body);
        if (!r) return -E.EINVAL;
        const hd = this.handles.get(r.fh);
        if (!hd) return -E.EBADF;
        return this.#ok(this.#host.fsync(hd.fd, (r.fsyncFlags & F.FUSE_FSYNC_FDATASYNC) !== 0));
      }
      case F.FUSE_SYNCFS: {
        if (this.#rootDirFd < 0) {
          const fd = this.#host.openAt(this.#root.fd, DOT, O_DIRECTORY);
          if (fd < 0) return fd;
          this.#rootDirFd = fd;
        }
        return this.#ok(this.#host.syncfs(this.#rootDirFd));
      }
      case F.FUSE_OPENDIR:
        return this.#opendir(h.nodeid);
      case F.FUSE_READDIR:
      case F.FUSE_READDIRPLUS:
        return this.#readdir(body, room, op === F.FUSE_READDIRPLUS);
      default:
        return -E.ENOSYS;
    }
  }

  #ok(r: number): Reply {
    return r < 0 ? r : this.#body(0);
  }

  #init(body: Uint8Array): Reply {
    if (this.#initialized) return -E.EINVAL;
    if (body.length < F.INIT_IN_MIN_SIZE) return -E.EINVAL;
    const padded = new Uint8Array(F.INIT_IN.size);
    padded.set(body.subarray(0, F.INIT_IN.size));
    const i = F.INIT_IN.decode(padded)!;
    if (i.major !== F.FUSE_KERNEL_VERSION || i.minor < F.FUSE_MIN_MINOR_VERSION) return -E.EPROTO;
    const supported = F.FUSE_ASYNC_READ | F.FUSE_ATOMIC_O_TRUNC | F.FUSE_BIG_WRITES | F.FUSE_DO_READDIRPLUS | F.FUSE_PARALLEL_DIROPS | F.FUSE_MAX_PAGES;
    this.#initialized = true;
    const out = this.#body(F.INIT_OUT.size);
    F.INIT_OUT.encode({
      major: F.FUSE_KERNEL_VERSION, minor: Math.min(i.minor, F.FUSE_KERNEL_MINOR_VERSION), maxReadahead: Math.min(i.maxReadahead, FUSE_MAX_IO),
      flags: (i.flags & supported) >>> 0, maxBackground: 64, congestionThreshold: 48, maxWrite: FUSE_MAX_IO, timeGran: 1,
      maxPages: FUSE_MAX_PAGES_VALUE, mapAlignment: 0, flags2: 0,
    }, out);
    return out;
  }

  /** DESTROY or a device reset: every lookup and handle is dropped; INIT starts over. */
  #reset(): void {
    this.handles.clear();
    this.inodes.clear(true);
    this.#initialized = false;
  }

  /** Device reset (the guest driver starts over). */
  reset(): void {
    this.#reset();
  }

  /** Closes every fd, the root's too; later requests get EIO. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.handles.clear();
    this.inodes.clear(false);
    if (this.#rootDirFd >= 0) this.#host.close(this.#rootDirFd);
    this.#rootDirFd = -1;
  }

  // ───────────── inodes and names ─────────────

  #dir(nodeid: number): Inode | number {
    const ino = this.inodes.get(nodeid);
    if (!ino) return -E.ESTALE;
    return ino.type === F.S_IFDIR ? ino : -E.ENOTDIR;
  }

  /** The NUL-terminated name at body[at..], checked as one path component. */
  #name(body: Uint8Array, at: number): { name: Uint8Array; next: number } | number {
    const s = F.readCString(body, at, body.length);
    if (!s) return -E.EINVAL;
    const bad = F.badComponent(s.name);
    return bad ? -E[bad] : s;
  }

  /** LOOKUP's work: opens `name` in `dir` as O_PATH (never following it) and adds a lookup. */
  #lookupIn(dir: Inode, name: Uint8Array): { ino: Inode; st: HostStat } | number {
    const fd = this.#host.openAt(dir.fd, name, O_PATH);
    if (fd < 0) return fd;
    return this.#adopt(fd);
  }

  /** Adds an O_PATH fd to the inode table (fd ownership passes). */
  #adopt(fd: number): { ino: Inode; st: HostStat } | number {
    const st = this.#host.fstat(fd);
    if (typeof st === 'number') {
      this.#host.close(fd);
      return st;
    }
    const ino = this.inodes.add(fd, st.key, st.mode & F.S_IFMT);
    if (ino === 'ENFILE') return -E.ENFILE;
    return { ino, st };
  }

  #entry(ino: Inode, st: HostStat, out: Uint8Array, at = 0): number {
    return F.ENTRY_OUT.encode({ nodeid: ino.nodeid, generation: 0, entryValid: VALID_S, attrValid: VALID_S, entryValidNsec: 0, attrValidNsec: 0, attr: toAttr(st) }, out, at);
  }

  #lookup(parent: number, body: Uint8Array): Reply {
    const dir = this.#dir(parent);
    if (typeof dir === 'number') return dir;
    const n = this.#name(body, 0);
    if (typeof n === 'number') return n;
    const r = this.#lookupIn(dir, n.name);
    if (typeof r === 'number') return r;
    const out = this.#body(F.ENTRY_OUT.size);
    this.#entry(r.ino, r.st, out);
    return out;
  }

  #getattr(nodeid: number): Reply {
    const ino = this.inodes.get(nodeid);
    if (!ino) return -E.ESTALE;
    return this.#attrReply(ino.fd);
  }

  #attrReply(fd: number): Reply {
    const st = this.#host.fstat(fd);
    if (typeof st === 'number') return st;
    const out = this.#body(F.ATTR_OUT.size);
    F.ATTR_OUT.encode({ attrValid: VALID_S, attrValidNsec: 0, attr: toAttr(st) }, out);
    return out;
  }

  #setattr(nodeid: number, body: Uint8Array): Reply {
    const ino = this.inodes.get(nodeid);
    if (!ino) return -E.ESTALE;
    const s = F.SETATTR_IN.decode(body);
    if (!s) return -E.EINVAL;
    const v = s.valid;
    if (v & (F.FATTR_UID | F.FATTR_GID)) return -E.EPERM; // ownership stays the host's
    if (v & F.FATTR_SIZE && (s.size === F.U64_UNSAFE || ino.type !== F.S_IFREG)) return ino.type === F.S_IFDIR ? -E.EISDIR : -E.EINVAL;
    if (!(v & (F.FATTR_MODE | F.FATTR_SIZE | F.FATTR_ATIME | F.FATTR_MTIME | F.FATTR_ATIME_NOW | F.FATTR_MTIME_NOW))) return this.#attrReply(ino.fd);
    // An fd to change through: the open handle named by FATTR_FH, or a reopen of the inode.
    let fd = -1;
    let own = false;
    const hd = v & F.FATTR_FH ? this.handles.get(s.fh) : undefined;
    if (hd && hd.inode === ino && (!(v & F.FATTR_SIZE) || (hd.kind === 'file' && hd.writable))) fd = hd.fd;
    else if (ino.type === F.S_IFREG) {
      fd = this.#host.reopen(ino.fd, v & F.FATTR_SIZE ? F.O_WRONLY : F.O_RDONLY);
      own = true;
    } else if (ino.type === F.S_IFDIR) {
      fd = this.#host.openAt(ino.fd, DOT, O_DIRECTORY);
      own = true;
    } else return -E.EPERM; // symlinks and special files keep their attributes
    if (fd < 0) return fd;
    try {
      if (v & F.FATTR_SIZE) {
        const r = this.#host.ftruncate(fd, s.size);
        if (r < 0) return r;
      }
      if (v & F.FATTR_MODE) {
        const r = this.#host.fchmod(fd, s.mode & this.#modeMask);
        if (r < 0) return r;
      }
      if (v & (F.FATTR_ATIME | F.FATTR_MTIME | F.FATTR_ATIME_NOW | F.FATTR_MTIME_NOW)) {
        const t = (set: number, now: number, sec: number, nsec: number): [number, number] =>
          v & now ? [0, UTIME_NOW] : v & set && sec !== F.U64_UNSAFE ? [sec, Math.min(nsec, 999_999_999)] : [0, UTIME_OMIT];
        const a = t(F.FATTR_ATIME, F.FATTR_ATIME_NOW, s.atime, s.atimensec);
        const m = t(F.FATTR_MTIME, F.FATTR_MTIME_NOW, s.mtime, s.mtimensec);
        const r = this.#host.futimens(fd, a[0], a[1], m[0], m[1]);
        if (r < 0) return r;
      }
      return this.#attrReply(fd);
    } finally {
      if (own) this.#host.close(fd);
    }
  }

  #mkdir(parent: number, body: Uint8Array): Reply {
    const dir = this.#dir(parent);
    if (typeof dir === 'number') return dir;
    const m = F.MKDIR_IN.decode(body);
    if (!m) return -E.EINVAL;
    const n = this.#name(body, F.MKDIR_IN.size);
    if (typeof n === 'number') return n;
    const r = this.#host.mkdirAt(dir.fd, n.name, m.mode & ~m.umask & this.#modeMask);
    if (r < 0) return r;
    const fd = this.#host.openAt(dir.fd, n.name, O_PATH | O_DIRECTORY);
    if (fd < 0) return fd; // swapped for something else meanwhile: not followed
    const a = this.#adopt(fd);
    if (typeof a === 'number') return a;
    const out = this.#body(F.ENTRY_OUT.size);
    this.#entry(a.ino, a.st, out);
    return out;
  }

  #unlink(parent: number, body: Uint8Array, isDir: boolean): Reply {
    const dir = this.#dir(parent);
    if (typeof dir === 'number') return dir;
    const n = this.#name(body, 0);
    if (typeof n === 'number') return n;
    return this.#ok(this.#host.unlinkAt(dir.fd, n.name, isDir));
  }

  #rename(parent: number, body: Uint8Array, v2: boolean): Reply {
    const dir = this.#dir(parent);
    if (typeof dir === 'number') return dir;
    const r = v2 ? F.RENAME2_IN.decode(body) : F.RENAME_IN.decode(body);
    if (!r) return -E.EINVAL;
    const flags = v2 ? F.RENAME2_IN.decode(body)!.flags : 0;
    if (flags & ~(F.RENAME_NOREPLACE | F.RENAME_EXCHANGE)) return -E.EINVAL; // no whiteouts
    const to = this.#dir(r.newdir);
    if (typeof to === 'number') return to;
    const from = this.#name(body, v2 ? F.RENAME2_IN.size : F.RENAME_IN.size);
    if (typeof from === 'number') return from;
    const dest = this.#name(body, from.next);
    if (typeof dest === 'number') return dest;
    return this.#ok(this.#host.renameAt(dir.fd, from.name, to.fd, dest.name, flags));
  }

  /** open(2) flags the server passes to the host: access mode, O_TRUNC, O_APPEND (no O_CREAT, O_PATH, ...). */
  #openFlags(flags: number): number | undefined {
    const acc = flags & F.O_ACCMODE;
    if (acc === F.O_ACCMODE) return undefined;
    if (this.readOnly && (acc !== F.O_RDONLY || flags & F.O_TRUNC)) return -E.EROFS;
    return acc | (flags & (F.O_TRUNC | F.O_APPEND));
  }

  #open(nodeid: number, body: Uint8Array): Reply {
    const ino = this.inodes.get(nodeid);
    if (!ino) return -E.ESTALE;
    const o = F.OPEN_IN.decode(body);
    if (!o) return -E.EINVAL;
    if (ino.type !== F.S_IFREG) return ino.type === F.S_IFDIR ? -E.EISDIR : ino.type === F.S_IFLNK ? -E.ELOOP : -E.EPERM;
    const flags = this.#openFlags(o.flags);
    if (flags === undefined) return -E.EINVAL;
    if (flags < 0) return flags;
    const fd = this.#host.reopen(ino.fd, flags);
    if (fd < 0) return fd;
    return this.#openReply(fd, ino, (flags & F.O_ACCMODE) !== F.O_RDONLY);
  }

  #openReply(fd: number, ino: Inode, writable: boolean, out = this.#body(F.OPEN_OUT.size), at = 0): Reply {
    const fh = this.handles.add({ kind: 'file', fd, inode: ino, writable });
    if (fh === 'EMFILE') return -E.EMFILE;
    F.OPEN_OUT.encode({ fh, openFlags: 0 }, out, at);
    return out;
  }

  #create(parent: number, body: Uint8Array): Reply {
    const dir = this.#dir(parent);
    if (typeof dir === 'number') return dir;
    const c = F.CREATE_IN.decode(body);
    if (!c) return -E.EINVAL;
    const n = this.#name(body, F.CREATE_IN.size);
    if (typeof n === 'number') return n;
    const flags = this.#openFlags(c.flags);
    if (flags === undefined) return -E.EINVAL;
    if (flags < 0) return flags;
    // O_NONBLOCK: an existing FIFO of that name must not block the VMM (it is refused below).
    const fd = this.#host.openAt(dir.fd, n.name, flags | F.O_CREAT | (c.flags & F.O_EXCL) | F.O_NONBLOCK, c.mode & ~c.umask & this.#modeMask);
    if (fd < 0) return fd;
    const st = this.#host.fstat(fd);
    if (typeof st === 'number' || (st.mode & F.S_IFMT) !== F.S_IFREG) {
      this.#host.close(fd);
      return typeof st === 'number' ? st : -E.EPERM;
    }
    const pathFd = this.#host.reopen(fd, O_PATH | O_CLOEXEC);
    if (pathFd < 0) {
      this.#host.close(fd);
      return pathFd;
    }
    const a = this.#adopt(pathFd);
    if (typeof a === 'number') {
      this.#host.close(fd);
      return a;
    }
    const out = this.#body(F.ENTRY_OUT.size + F.OPEN_OUT.size);
    this.#entry(a.ino, a.st, out);
    const r = this.#openReply(fd, a.ino, (flags & F.O_ACCMODE) !== F.O_RDONLY, out, F.ENTRY_OUT.size);
    if (typeof r === 'number') this.inodes.forget(a.ino.nodeid, 1);
    return r;
  }

  #file(fh: number): Handle | number {
    const hd = this.handles.get(fh);
    if (!hd) return -E.EBADF;
    return hd.kind === 'file' ? hd : -E.EISDIR;
  }

  #read(body: Uint8Array, room: number): Reply {
    const r = F.READ_IN.decode(body);
    if (!r) return -E.EINVAL;
    const hd = this.#file(r.fh);
    if (typeof hd === 'number') return hd;
    if (r.offset === F.U64_UNSAFE) return -E.EINVAL;
    const size = Math.min(r.size, FUSE_MAX_IO, room);
    const out = this.#body(size);
    let got = 0;
    while (got < size) {
      const n = this.#host.pread(hd.fd, out.subarray(got), r.offset + got);
      if (n < 0) return n;
      if (n === 0) break;
      got += n;
    }
    this.stats.bytesRead += got;
    return out.subarray(0, got);
  }

  #write(body: Uint8Array): Reply {
    const w = F.WRITE_IN.decode(body);
    if (!w) return -E.EINVAL;
    const hd = this.#file(w.fh);
    if (typeof hd === 'number') return hd;
    if (hd.kind !== 'file' || !hd.writable) return -E.EBADF;
    if (w.offset === F.U64_UNSAFE || w.size > FUSE_MAX_IO || w.size > body.length - F.WRITE_IN.size) return -E.EINVAL;
    const data = body.subarray(F.WRITE_IN.size, F.WRITE_IN.size + w.size);
    let put = 0;
    while (put < data.length) {
      const n = this.#host.pwrite(hd.fd, data.subarray(put), w.offset + put);
      if (n < 0) {
        if (put === 0) return n;
        break;
      }
      put += n;
    }
    this.stats.bytesWritten += put;
    const out = this.#body(F.WRITE_OUT.size);
    F.WRITE_OUT.encode({ size: put }, out);
    return out;
  }

  #statfs(): Reply {
    const s = this.#host.fstatfs(this.#root.fd);
    if (typeof s === 'number') return s;
    const out = this.#body(F.STATFS_OUT.size);
    F.STATFS_OUT.encode({ blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, bsize: s.bsize, namelen: s.namelen, frsize: s.frsize }, out);
    return out;
  }

  #opendir(nodeid: number): Reply {
    const dir = this.#dir(nodeid);
    if (typeof dir === 'number') return dir;
    const fd = this.#host.openAt(dir.fd, DOT, O_DIRECTORY);
    if (fd < 0) return fd;
    const fh = this.handles.add({ kind: 'dir', fd, inode: dir, position: { next: 0, cookie: 0n, checkpoints: [] } });
    if (fh === 'EMFILE') return -E.EMFILE;
    const out = this.#body(F.OPEN_OUT.size);
    F.OPEN_OUT.encode({ fh, openFlags: 0 }, out);
    return out;
  }

  /**
   * READDIR / READDIRPLUS. A record's `off` is its index + 1 (dot entries left out). The handle
   * keeps the exact host position after the last entry it answered and one every
   * DIR_CHECKPOINT_EVERY entries: the guest's next offset (or 0, or any other) is reached with one
   * seek and at most that many entries skipped, so a request costs what its reply holds whatever
   * the directory's size, and nothing is cached. READDIRPLUS looks each entry up (one more lookup
   * the guest must FORGET) only once the record is known to fit.
   */
  #readdir(body: Uint8Array, room: number, plus: boolean): Reply {
    const r = F.READ_IN.decode(body);
    if (!r) return -E.EINVAL;
    const hd = this.handles.get(r.fh);
    if (!hd) return -E.EBADF;
    if (hd.kind !== 'dir') return -E.ENOTDIR;
    if (r.offset === F.U64_UNSAFE) return -E.EINVAL;
    const pos = hd.position;
    if (r.offset !== pos.next || r.offset === 0) {
      const k = Math.min(Math.floor(r.offset / DIR_CHECKPOINT_EVERY), pos.checkpoints.length);
      pos.next = k * DIR_CHECKPOINT_EVERY;
      pos.cookie = k === 0 ? 0n : pos.checkpoints[k - 1]!;
    }
    const sought = this.#host.seekDir(hd.fd, pos.cookie);
    if (sought < 0) return sought;
    const size = Math.min(r.size, FUSE_MAX_IO, room);
    const out = this.#body(size);
    let at = 0;
    for (;;) {
      const n = this.#host.getdents(hd.fd, this.#dents);
      if (n < 0) return at > 0 ? out.subarray(0, at) : n;
      if (n === 0) return out.subarray(0, at);
      for (const e of parseLinuxDirents(this.#dents, n)) {
        this.stats.dirEntriesRead++;
        if (F.badComponent(e.name) !== undefined) continue; // "." and ".."
        const index = pos.next;
        if (index >= r.offset) {
          if (at + F.direntSize(e.name.length, plus) > size) return out.subarray(0, at); // read again from pos next time
          const d: F.FuseDirent = { ino: e.ino, off: index + 1, type: e.type, name: e.name };
          let found = true;
          if (plus) {
            const l = this.#lookupIn(hd.inode, e.name);
            if (typeof l === 'number') found = false; // gone since getdents, or not reachable: skip it
            else {
              d.entry = { nodeid: l.ino.nodeid, generation: 0, entryValid: VALID_S, attrValid: VALID_S, entryValidNsec: 0, attrValidNsec: 0, attr: toAttr(l.st) };
              d.type = (l.st.mode & F.S_IFMT) >> 12;
            }
          }
          if (found) at = F.encodeDirent(d, out, at, size);
        }
        pos.next = index + 1;
        pos.cookie = e.cookie;
        if (pos.next % DIR_CHECKPOINT_EVERY === 0 && pos.next / DIR_CHECKPOINT_EVERY === pos.checkpoints.length + 1 && pos.checkpoints.length < MAX_DIR_CHECKPOINTS) {
          pos.checkpoints.push(e.cookie);
        }
      }
    }
  }
}

const DOT = new Uint8Array([0x2e]);

function toAttr(st: HostStat): F.FuseAttr {
  return {
    ino: st.ino, size: st.size, blocks: st.blocks, atime: st.atime, mtime: st.mtime, ctime: st.ctime, atimensec: st.atimeNsec,
    mtimensec: st.mtimeNsec, ctimensec: st.ctimeNsec, mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid, rdev: st.rdev,
    blksize: st.blksize, flags: 0,
  };
}
