// The guest's FUSE client: one method per FUSE request the virtio-fs file system uses, each
// encoding its request straight into the channel's DMA buffer (fuse.ts codecs) and checking the
// reply (out header length within what the device wrote, the request's unique, error in
// -4095..0) before decoding it. INIT negotiates protocol 7.31+ and the largest READ/WRITE
// (max_write, at most 1 MiB). A failed request throws FuseStatus with the positive errno;
// fs/virtiofs/filesystem.ts turns it into an FsError with the path. Forgets are batched: every
// lookup dropped in one loop turn leaves in one BATCH_FORGET on the hiprio queue.
// Spec: include/uapi/linux/fuse.h; virtio 1.2 §5.11.6 (request layout).

import * as F from '@kiln/common/wire/fuse.ts';

/** What the session needs of the transport (VirtioFsDriver). */
export interface FuseChannel {
  send<T>(inLen: number, fill: (req: Uint8Array) => void, outLen: number, done: (reply: Uint8Array) => T): Promise<T>;
  sendNoReply(inLen: number, fill: (req: Uint8Array) => void): void;
}

/** A FUSE reply with an error: the positive Linux errno (F.ERRNO). */
export class FuseStatus extends Error {
  constructor(readonly errno: number, readonly opcode: number) {
    super(`FUSE opcode ${opcode}: ${F.errnoName(errno) ?? `errno ${errno}`}`);
    this.name = 'FuseStatus';
  }
}

/** Largest READ/WRITE this client asks for, whatever the server allows. */
export const CLIENT_MAX_IO = 1 << 20;
/** Bytes of READDIR reply asked for at a time. */
export const READDIR_BYTES = 64 * 1024;
const HDR = F.IN_HEADER.size;
const OUT = F.OUT_HEADER.size;

type Body = { len: number; fill?: (b: Uint8Array, at: number) => void };

export class FuseSession {
  /** Largest READ or WRITE payload (negotiated). */
  maxIo = 4096;
  minor = 0;
  #unique = 1;
  #forgets = new Map<number, number>();
  #forgetQueued = false;

  constructor(readonly ch: FuseChannel) {}

  /**
   * Sends one request: header, then `body` written by its fill. `room` is the reply body size
   * to allow; `parse` gets the reply body (a view) when the error is 0.
   */
  call<T>(opcode: number, nodeid: number, body: Body, room: number, parse: (b: Uint8Array) => T): Promise<T> {
    const unique = this.#unique++;
    const inLen = HDR + body.len;
    return this.ch.send(
      inLen,
      (req) => {
        F.IN_HEADER.encode({ len: inLen, opcode, unique, nodeid, uid: 0, gid: 0, pid: 1, totalExtlen: 0 }, req, 0);
        body.fill?.(req, HDR);
      },
      OUT + room,
      (reply) => {
        const h = F.OUT_HEADER.decode(reply);
        if (!h || h.len < OUT || h.len > reply.length || h.unique !== unique || h.error > 0 || h.error < -4095) throw new FuseStatus(F.ERRNO.EIO, opcode);
        if (h.error < 0) throw new FuseStatus(-h.error, opcode);
        return parse(reply.subarray(OUT, h.len));
      },
    );
  }

  async init(): Promise<void> {
    const out = await this.call(
      F.FUSE_INIT, 0,
      { len: F.INIT_IN.size, fill: (b, at) => F.INIT_IN.encode({ major: F.FUSE_KERNEL_VERSION, minor: F.FUSE_MIN_MINOR_VERSION, maxReadahead: CLIENT_MAX_IO, flags: F.FUSE_MAX_PAGES | F.FUSE_BIG_WRITES | F.FUSE_ASYNC_READ | F.FUSE_PARALLEL_DIROPS | F.FUSE_ATOMIC_O_TRUNC, flags2: 0 }, b, at) },
      F.INIT_OUT.size,
      (b) => decodeOrEio(F.INIT_OUT, b, F.FUSE_INIT),
    );
    if (out.major !== F.FUSE_KERNEL_VERSION || out.minor < F.FUSE_MIN_MINOR_VERSION) throw new FuseStatus(F.ERRNO.EPROTO, F.FUSE_INIT);
    this.minor = out.minor;
    this.maxIo = Math.max(4096, Math.min(out.maxWrite, CLIENT_MAX_IO));
  }

  destroy(): Promise<void> {
    return this.call(F.FUSE_DESTROY, 0, { len: 0 }, 0, () => undefined);
  }

  lookup(parent: number, name: Uint8Array): Promise<F.FuseEntryOut> {
    return this.call(F.FUSE_LOOKUP, parent, nameBody(name), F.ENTRY_OUT.size, (b) => decodeOrEio(F.ENTRY_OUT, b, F.FUSE_LOOKUP));
  }

  /** Drops `n` lookups of `nodeid`; sent with the others of this loop turn as one BATCH_FORGET. */
  forget(nodeid: number, n = 1): void {
    this.#forgets.set(nodeid, (this.#forgets.get(nodeid) ?? 0) + n);
    if (this.#forgetQueued) return;
    this.#forgetQueued = true;
    Promise.resolve().then(() => this.flushForgets());
  }

  /** Sends the forgets collected so far (at most 256 per message). */
  flushForgets(): void {
    this.#forgetQueued = false;
    const all = [...this.#forgets];
    this.#forgets.clear();
    for (let i = 0; i < all.length; i += 256) {
      const part = all.slice(i, i + 256);
      const len = HDR + F.BATCH_FORGET_IN.size + part.length * F.FORGET_ONE.size;
      this.ch.sendNoReply(len, (req) => {
        F.IN_HEADER.encode({ len, opcode: F.FUSE_BATCH_FORGET, unique: this.#unique++, nodeid: 0, uid: 0, gid: 0, pid: 1, totalExtlen: 0 }, req, 0);
        let at = F.BATCH_FORGET_IN.encode({ count: part.length }, req, HDR);
        for (const [nodeid, nlookup] of part) at = F.FORGET_ONE.encode({ nodeid, nlookup }, req, at);
      });
    }
  }

  getattr(nodeid: number, fh?: number): Promise<F.FuseAttrOut> {
    return this.call(
      F.FUSE_GETATTR, nodeid,
      { len: F.GETATTR_IN.size, fill: (b, at) => F.GETATTR_IN.encode({ getattrFlags: fh === undefined ? 0 : F.FUSE_GETATTR_FH, fh: fh ?? 0 }, b, at) },
      F.ATTR_OUT.size,
      (b) => decodeOrEio(F.ATTR_OUT, b, F.FUSE_GETATTR),
    );
  }

  setattr(nodeid: number, s: { size?: number; mode?: number; fh?: number }): Promise<F.FuseAttrOut> {
    const valid = (s.size !== undefined ? F.FATTR_SIZE : 0) | (s.mode !== undefined ? F.FATTR_MODE : 0) | (s.fh !== undefined ? F.FATTR_FH : 0);
    return this.call(
      F.FUSE_SETATTR, nodeid,
      {
        len: F.SETATTR_IN.size,
        fill: (b, at) => F.SETATTR_IN.encode({ valid, fh: s.fh ?? 0, size: s.size ?? 0, lockOwner: 0, atime: 0, mtime: 0, ctime: 0, atimensec: 0, mtimensec: 0, ctimensec: 0, mode: s.mode ?? 0, uid: 0, gid: 0 }, b, at),
      },
      F.ATTR_OUT.size,
      (b) => decodeOrEio(F.ATTR_OUT, b, F.FUSE_SETATTR),
    );
  }

  mkdir(parent: number, name: Uint8Array, mode: number): Promise<F.FuseEntryOut> {
    return this.call(
      F.FUSE_MKDIR, parent,
      { len: F.MKDIR_IN.size + name.length + 1, fill: (b, at) => putName(b, F.MKDIR_IN.encode({ mode, umask: 0 }, b, at), name) },
      F.ENTRY_OUT.size,
      (b) => decodeOrEio(F.ENTRY_OUT, b, F.FUSE_MKDIR),
    );
  }

  unlink(parent: number, name: Uint8Array, isDir: boolean): Promise<void> {
    return this.call(isDir ? F.FUSE_RMDIR : F.FUSE_UNLINK, parent, nameBody(name), 0, () => undefined);
  }

  rename(parent: number, name: Uint8Array, newParent: number, newName: Uint8Array): Promise<void> {
    return this.call(
      F.FUSE_RENAME, parent,
      { len: F.RENAME_IN.size + name.length + newName.length + 2, fill: (b, at) => putName(b, putName(b, F.RENAME_IN.encode({ newdir: newParent }, b, at), name), newName) },
      0,
      () => undefined,
    );
  }

  open(nodeid: number, flags: number): Promise<number> {
    return this.call(
      F.FUSE_OPEN, nodeid,
      { len: F.OPEN_IN.size, fill: (b, at) => F.OPEN_IN.encode({ flags, openFlags: 0 }, b, at) },
      F.OPEN_OUT.size,
      (b) => decodeOrEio(F.OPEN_OUT, b, F.FUSE_OPEN).fh,
    );
  }

  create(parent: number, name: Uint8Array, flags: number, mode: number): Promise<{ entry: F.FuseEntryOut; fh: number }> {
    return this.call(
      F.FUSE_CREATE, parent,
      { len: F.CREATE_IN.size + name.length + 1, fill: (b, at) => putName(b, F.CREATE_IN.encode({ flags, mode, umask: 0, openFlags: 0 }, b, at), name) },
      F.ENTRY_OUT.size + F.OPEN_OUT.size,
      (b) => ({ entry: decodeOrEio(F.ENTRY_OUT, b, F.FUSE_CREATE), fh: decodeOrEio(F.OPEN_OUT, b.subarray(F.ENTRY_OUT.size), F.FUSE_CREATE).fh }),
    );
  }

  /** READ of at most maxIo bytes at `offset` into dst[dstOff..]; resolves with the count. */
  read(fh: number, offset: number, size: number, dst: Uint8Array, dstOff: number): Promise<number> {
    const n = Math.min(size, this.maxIo);
    return this.call(F.FUSE_READ, 0, rwBody(F.READ_IN, fh, offset, n), n, (b) => {
      const got = Math.min(b.length, n);
      dst.set(b.subarray(0, got), dstOff);
      return got;
    });
  }

  /** WRITE of src (at most maxIo bytes) at `offset`; resolves with the count written. */
  write(fh: number, offset: number, src: Uint8Array): Promise<number> {
    const body = rwBody(F.WRITE_IN, fh, offset, src.length);
    return this.call(
      F.FUSE_WRITE, 0,
      { len: F.WRITE_IN.size + src.length, fill: (b, at) => b.set(src, body.fill(b, at)) },
      F.WRITE_OUT.size,
      (b) => decodeOrEio(F.WRITE_OUT, b, F.FUSE_WRITE).size,
    );
  }

  release(fh: number, dir: boolean): Promise<void> {
    return this.call(dir ? F.FUSE_RELEASEDIR : F.FUSE_RELEASE, 0, { len: F.RELEASE_IN.size, fill: (b, at) => F.RELEASE_IN.encode({ fh, flags: 0, releaseFlags: 0, lockOwner: 0 }, b, at) }, 0, () => undefined);
  }

  fsync(fh: number, dataOnly: boolean): Promise<void> {
    return this.call(F.FUSE_FSYNC, 0, { len: F.FSYNC_IN.size, fill: (b, at) => F.FSYNC_IN.encode({ fh, fsyncFlags: dataOnly ? F.FUSE_FSYNC_FDATASYNC : 0 }, b, at) }, 0, () => undefined);
  }

  syncfs(): Promise<void> {
    return this.call(F.FUSE_SYNCFS, F.FUSE_ROOT_ID, { len: F.SYNCFS_IN.size, fill: (b, at) => b.fill(0, at, at + F.SYNCFS_IN.size) }, 0, () => undefined);
  }

  opendir(nodeid: number): Promise<number> {
    return this.call(F.FUSE_OPENDIR, nodeid, { len: F.OPEN_IN.size, fill: (b, at) => F.OPEN_IN.encode({ flags: F.O_RDONLY | F.O_DIRECTORY, openFlags: 0 }, b, at) }, F.OPEN_OUT.size, (b) => decodeOrEio(F.OPEN_OUT, b, F.FUSE_OPENDIR).fh);
  }

  /** One READDIR reply from `offset` (0 = the start); an empty array at the end. */
  readdir(fh: number, offset: number): Promise<{ ino: number; off: number; type: number; name: Uint8Array }[]> {
    return this.call(F.FUSE_READDIR, 0, rwBody(F.READ_IN, fh, offset, READDIR_BYTES), READDIR_BYTES, (b) => {
      const p = F.parseDirents(b, false);
      if (p.malformed) throw new FuseStatus(F.ERRNO.EIO, F.FUSE_READDIR);
      return p.entries.map((e) => ({ ino: e.ino, off: e.off, type: e.type, name: e.name.slice() }));
    });
  }

  statfs(): Promise<F.FuseStatfsOut> {
    return this.call(F.FUSE_STATFS, F.FUSE_ROOT_ID, { len: 0 }, F.STATFS_OUT.size, (b) => decodeOrEio(F.STATFS_OUT, b, F.FUSE_STATFS));
  }
}

function decodeOrEio<T>(c: F.Codec<T>, b: Uint8Array, opcode: number): T {
  const r = c.decode(b);
  if (!r) throw new FuseStatus(F.ERRNO.EIO, opcode);
  return r;
}

function putName(b: Uint8Array, at: number, name: Uint8Array): number {
  b.set(name, at);
  b[at + name.length] = 0;
  return at + name.length + 1;
}

function nameBody(name: Uint8Array): Body {
  return { len: name.length + 1, fill: (b, at) => void putName(b, at, name) };
}

function rwBody(c: typeof F.READ_IN | typeof F.WRITE_IN, fh: number, offset: number, size: number): { len: number; fill: (b: Uint8Array, at: number) => number } {
  return {
    len: c.size,
    fill: (b, at) =>
      c === F.READ_IN
        ? F.READ_IN.encode({ fh, offset, size, readFlags: 0, lockOwner: 0, flags: 0 }, b, at)
        : F.WRITE_IN.encode({ fh, offset, size, writeFlags: 0, lockOwner: 0, flags: 0 }, b, at),
  };
}
