// The FUSE server's two tables. Inodes: node id → an O_PATH fd the server holds on the host inode
// (the only way the server ever reaches it again: names are resolved relative to these fds),
// its type (fixed for an inode's life) and the lookup count the guest owns (FUSE: each LOOKUP,
// MKDIR, CREATE or READDIRPLUS entry adds one; FORGET subtracts; at zero the fd is closed). One
// node id per host inode (st_dev, st_ino), so a hard link or a repeated lookup reuses it. Handles:
// fh → an open fd of a file or directory, from OPEN/CREATE/OPENDIR until RELEASE. Both are
// bounded (ENFILE / EMFILE when full) so a guest cannot exhaust the VMM's file descriptors.
// Ids are never reused while the server runs. Spec: fuse.h (nodeid, nlookup, fh).

import { FUSE_ROOT_ID } from '@kiln/common/wire/fuse.ts';
import type { HostFs } from '@kiln/kvm/fs.ts';

export interface Inode {
  readonly nodeid: number;
  /** O_PATH | O_NOFOLLOW fd of the inode (a symlink's own inode for a symlink). */
  readonly fd: number;
  /** HostStat.key: st_dev and st_ino. */
  readonly key: string;
  /** st_mode & S_IFMT. */
  readonly type: number;
  nlookup: number;
}

export class InodeTable {
  readonly #byId = new Map<number, Inode>();
  readonly #byKey = new Map<string, Inode>();
  #nextId = FUSE_ROOT_ID + 1;

  constructor(private readonly host: HostFs, readonly max: number) {}

  get size(): number {
    return this.#byId.size;
  }

  /** The root (node id 1), never forgotten. */
  setRoot(fd: number, key: string, type: number): Inode {
    const root: Inode = { nodeid: FUSE_ROOT_ID, fd, key, type, nlookup: Infinity };
    this.#byId.set(FUSE_ROOT_ID, root);
    this.#byKey.set(key, root);
    return root;
  }

  get(nodeid: number): Inode | undefined {
    return this.#byId.get(nodeid);
  }

  /**
   * Takes ownership of `fd` (an O_PATH fd of the inode `key`) and adds one lookup: to the
   * existing entry (closing `fd`) or to a new one. Returns ENFILE (closing `fd`) when full.
   */
  add(fd: number, key: string, type: number): Inode | 'ENFILE' {
    const known = this.#byKey.get(key);
    if (known) {
      this.host.close(fd);
      known.nlookup++;
      return known;
    }
    if (this.#byId.size >= this.max) {
      this.host.close(fd);
      return 'ENFILE';
    }
    const ino: Inode = { nodeid: this.#nextId++, fd, key, type, nlookup: 1 };
    this.#byId.set(ino.nodeid, ino);
    this.#byKey.set(key, ino);
    return ino;
  }

  /** FORGET: drops `n` lookups; at zero the inode's fd is closed and its id is gone. */
  forget(nodeid: number, n: number): void {
    const ino = this.#byId.get(nodeid);
    if (!ino || ino.nodeid === FUSE_ROOT_ID) return;
    ino.nlookup -= n > 0 ? n : 0;
    if (ino.nlookup > 0) return;
    this.#byId.delete(nodeid);
    this.#byKey.delete(ino.key);
    this.host.close(ino.fd);
  }

  /** Closes every fd but the root's (DESTROY, device reset) or all of them (close). */
  clear(keepRoot: boolean): void {
    for (const ino of this.#byId.values()) {
      if (keepRoot && ino.nodeid === FUSE_ROOT_ID) continue;
      this.host.close(ino.fd);
      this.#byId.delete(ino.nodeid);
      this.#byKey.delete(ino.key);
    }
  }
}

/**
 * Where a directory handle stands: `next` is the index of the entry its host fd reads next from
 * `cookie` (a d_off from getdents, exact); `checkpoints[i]` is the cookie at index (i + 1) ×
 * DIR_CHECKPOINT_EVERY, saved while reading, so a READDIR anywhere starts at most that many
 * entries before its offset.
 */
export interface DirPosition {
  next: number;
  cookie: bigint;
  readonly checkpoints: bigint[];
}

export type Handle =
  | { kind: 'file'; fd: number; inode: Inode; writable: boolean }
  | { kind: 'dir'; fd: number; inode: Inode; position: DirPosition };

export class HandleTable {
  readonly #byFh = new Map<number, Handle>();
  #nextFh = 1;

  constructor(private readonly host: HostFs, readonly max: number) {}

  get size(): number {
    return this.#byFh.size;
  }

  /** Takes ownership of h.fd; EMFILE (closing it) when the table is full. */
  add(h: Handle): number | 'EMFILE' {
    if (this.#byFh.size >= this.max) {
      this.host.close(h.fd);
      return 'EMFILE';
    }
    const fh = this.#nextFh++;
    this.#byFh.set(fh, h);
    return fh;
  }

  get(fh: number): Handle | undefined {
    return this.#byFh.get(fh);
  }

  /** RELEASE / RELEASEDIR: closes the fd; false if there was no such handle. */
  release(fh: number): boolean {
    const h = this.#byFh.get(fh);
    if (!h) return false;
    this.#byFh.delete(fh);
    this.host.close(h.fd);
    return true;
  }

  clear(): void {
    for (const h of this.#byFh.values()) this.host.close(h.fd);
    this.#byFh.clear();
  }
}
