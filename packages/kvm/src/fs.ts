// Typed wrapper over the addon's file system calls (native/kiln_fs.cc) for the virtio-fs server:
// names are bytes resolved one component at a time relative to a directory fd (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, O_NOFOLLOW always), inodes are held as O_PATH fds and
// reopened through /proc/self/fd. Every call returns its result or a negative errno (Linux
// numbers), as FUSE replies want them; nothing throws except for a missing addon.

import { constants as fsc, openSync } from 'node:fs';
import { loadAddon } from './native.ts';

/** open(2) flags the server needs beyond node:fs's constants (x86-64 values). */
export const O_PATH = 0o10000000;
export const O_DIRECTORY = fsc.O_DIRECTORY;
export const O_NOFOLLOW = fsc.O_NOFOLLOW;
export const O_CLOEXEC = 0o2000000;
export const AT_REMOVEDIR = 0x200;
/** futimens(2) tv_nsec values: set to now / leave unchanged. */
export const UTIME_NOW = 0x3fff_ffff;
export const UTIME_OMIT = 0x3fff_fffe;

export interface HostStat {
  /** Identifies the inode on this host (st_dev and st_ino, exact). */
  key: string;
  /** st_ino as a number (exact below 2^53). */
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: number;
  atimeNsec: number;
  mtime: number;
  mtimeNsec: number;
  ctime: number;
  ctimeNsec: number;
}

export interface HostStatfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
}

interface NativeFs {
  fsOpenAt(dirfd: number, name: Uint8Array, flags: number, mode: number): number;
  fsReopen(fd: number, flags: number): number;
  fsFstat(fd: number, out: Float64Array): number;
  fsFstatfs(fd: number, out: Float64Array): number;
  fsMkdirAt(dirfd: number, name: Uint8Array, mode: number): number;
  fsUnlinkAt(dirfd: number, name: Uint8Array, flags: number): number;
  fsRenameAt(olddirfd: number, oldname: Uint8Array, newdirfd: number, newname: Uint8Array, flags: number): number;
  fsGetdents(fd: number, buf: Uint8Array): number;
  fsSeekDir(fd: number, cookie: bigint): number;
  fsPread(fd: number, buf: Uint8Array, position: number): number;
  fsPwrite(fd: number, buf: Uint8Array, position: number): number;
  fsFsync(fd: number, dataOnly: boolean): number;
  fsSyncfs(fd: number): number;
  fsFtruncate(fd: number, size: number): number;
  fsFchmod(fd: number, mode: number): number;
  fsFutimens(fd: number, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): number;
  fsClose(fd: number): number;
}

const U32 = 0x1_0000_0000;
const statBuf = new Float64Array(18);
const statfsBuf = new Float64Array(8);

/** The host file system calls, bound to the addon on first use. */
export class HostFs {
  readonly #n: NativeFs;

  constructor() {
    this.#n = loadAddon() as unknown as NativeFs;
  }

  /**
   * Opens the root of a share (a host path the user named, not the guest) as an O_PATH
   * directory fd. Throws node:fs's error (ENOENT, ENOTDIR, EACCES) for a bad path.
   */
  openRoot(path: string): number {
    return openSync(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }

  /** openat2(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). */
  openAt(dirfd: number, name: Uint8Array, flags: number, mode = 0): number {
    return this.#n.fsOpenAt(dirfd, name, flags, mode);
  }

  /** A new open file description of the inode behind `fd` (a regular file or directory only). */
  reopen(fd: number, flags: number): number {
    return this.#n.fsReopen(fd, flags);
  }

  fstat(fd: number): HostStat | number {
    const r = this.#n.fsFstat(fd, statBuf);
    if (r < 0) return r;
    const s = statBuf;
    return {
      key: `${s[0]}:${s[1]}:${s[2]}:${s[3]}`,
      ino: s[2]! * U32 + s[3]!,
      mode: s[4]!, nlink: s[5]!, uid: s[6]!, gid: s[7]!, rdev: s[8]!, size: s[9]!, blksize: s[10]!, blocks: s[11]!,
      atime: s[12]!, atimeNsec: s[13]!, mtime: s[14]!, mtimeNsec: s[15]!, ctime: s[16]!, ctimeNsec: s[17]!,
    };
  }

  fstatfs(fd: number): HostStatfs | number {
    const r = this.#n.fsFstatfs(fd, statfsBuf);
    if (r < 0) return r;
    const s = statfsBuf;
    return { bsize: s[0]!, frsize: s[1]!, blocks: s[2]!, bfree: s[3]!, bavail: s[4]!, files: s[5]!, ffree: s[6]!, namelen: s[7]! };
  }

  mkdirAt(dirfd: number, name: Uint8Array, mode: number): number {
    return this.#n.fsMkdirAt(dirfd, name, mode);
  }

  unlinkAt(dirfd: number, name: Uint8Array, removeDir: boolean): number {
    return this.#n.fsUnlinkAt(dirfd, name, removeDir ? AT_REMOVEDIR : 0);
  }

  renameAt(olddirfd: number, oldname: Uint8Array, newdirfd: number, newname: Uint8Array, flags: number): number {
    return this.#n.fsRenameAt(olddirfd, oldname, newdirfd, newname, flags);
  }

  getdents(fd: number, buf: Uint8Array): number {
    return this.#n.fsGetdents(fd, buf);
  }

  /** Moves a directory fd to `cookie`, a d_off from getdents (0n: its start). */
  seekDir(fd: number, cookie: bigint): number {
    return this.#n.fsSeekDir(fd, cookie);
  }

  pread(fd: number, buf: Uint8Array, position: number): number {
    return this.#n.fsPread(fd, buf, position);
  }

  pwrite(fd: number, buf: Uint8Array, position: number): number {
    return this.#n.fsPwrite(fd, buf, position);
  }

  fsync(fd: number, dataOnly: boolean): number {
    return this.#n.fsFsync(fd, dataOnly);
  }

  syncfs(fd: number): number {
    return this.#n.fsSyncfs(fd);
  }

  ftruncate(fd: number, size: number): number {
    return this.#n.fsFtruncate(fd, size);
  }

  fchmod(fd: number, mode: number): number {
    return this.#n.fsFchmod(fd, mode);
  }

  futimens(fd: number, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): number {
    return this.#n.fsFutimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec);
  }

  close(fd: number): number {
    return this.#n.fsClose(fd);
  }
}

/** One struct linux_dirent64: `cookie` (d_off, exact) is where the directory stands after it. */
export interface LinuxDirent {
  name: Uint8Array;
  type: number;
  ino: number;
  cookie: bigint;
}

/** The records of struct linux_dirent64 in buf[0, len). */
export function parseLinuxDirents(buf: Uint8Array, len: number): LinuxDirent[] {
  const out: LinuxDirent[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, len);
  let at = 0;
  while (at + 19 < len) {
    const reclen = v.getUint16(at + 16, true);
    if (reclen < 20 || at + reclen > len) break;
    const nameEnd = buf.subarray(at + 19, at + reclen).indexOf(0);
    const name = buf.slice(at + 19, nameEnd < 0 ? at + reclen : at + 19 + nameEnd);
    out.push({ name, type: buf[at + 18]!, ino: v.getUint32(at + 4, true) * U32 + v.getUint32(at, true), cookie: v.getBigInt64(at + 8, true) });
    at += reclen;
  }
  return out;
}
