// bootfs: the read-only files `kiln build --assets DIR` bakes into the image (payload section
// kind 3). One flat, checked, little-endian table of nodes in breadth-first order (node 0 is the
// root directory; each directory's children are contiguous and sorted by name bytes, so a
// lookup is a binary search per path component), a UTF-8 name table, and the file data, each
// file 8-byte aligned. The reader takes untrusted bytes: it validates every field once, after
// which no accessor can read out of bounds. Format: docs/ARCHITECTURE.md "bootfs".

import { decodeUtf8, encodeUtf8 } from '../text/utf8.ts';

export const BOOTFS_MAGIC = 'KILNBFS1';
export const BOOTFS_VERSION = 1;
export const BOOTFS_HEADER_SIZE = 40;
export const BOOTFS_NODE_SIZE = 32;
export const BOOTFS_ALIGN = 8;
export const BOOTFS_TYPE_FILE = 1;
export const BOOTFS_TYPE_DIR = 2;
/** Longest name of one entry in bytes (as NAME_MAX on Linux). */
export const BOOTFS_NAME_MAX = 255;
/** Largest mtime accepted: the largest integer a double holds exactly. */
const MTIME_HIGH_MAX = 0x1fffff;

export class BootfsError extends Error {
  readonly code = 'EBADBOOTFS';
  constructor(message: string) {
    super(`bootfs: ${message}`);
    this.name = 'BootfsError';
  }
}

/** Input of the writer: a directory tree. */
export type BootfsEntry = BootfsFile | BootfsDir;
export interface BootfsFile {
  readonly type: 'file';
  readonly data: Uint8Array;
  readonly mtimeMs: number;
}
export interface BootfsDir {
  readonly type: 'dir';
  readonly entries: ReadonlyMap<string, BootfsEntry>;
  readonly mtimeMs: number;
}

const MAGIC_BYTES = Array.from(BOOTFS_MAGIC, (c) => c.charCodeAt(0));
const align = (n: number): number => Math.ceil(n / BOOTFS_ALIGN) * BOOTFS_ALIGN;

/** Byte-wise order of UTF-8 names (what the reader's binary search expects). */
export function compareNameBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Why `name` cannot be a bootfs entry name, or undefined when it can. */
export function badEntryName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `${JSON.stringify(name)} is not a file name`;
  if (name.includes('/') || name.includes('\0')) return `${JSON.stringify(name)} contains "/" or NUL`;
  if (encodeUtf8(name).length > BOOTFS_NAME_MAX) return `${JSON.stringify(name)} is longer than ${BOOTFS_NAME_MAX} bytes`;
  return undefined;
}

/** Why `p` cannot be where the files are mounted, or undefined: an absolute normalised path. */
export function badMountPoint(p: string): string | undefined {
  if (p === '/') return undefined;
  if (!p.startsWith('/') || p.endsWith('/')) return `mount point ${JSON.stringify(p)} is not an absolute path without a trailing "/"`;
  for (const part of p.slice(1).split('/')) {
    const why = badEntryName(part);
    if (why !== undefined) return `mount point ${JSON.stringify(p)}: ${why}`;
  }
  return undefined;
}

const mtimeOk = (ms: number): boolean => Number.isInteger(ms) && ms >= 0 && ms <= Number.MAX_SAFE_INTEGER;

/** Encodes a tree mounted at `mountPoint` into a bootfs section. */
export function encodeBootfs(root: BootfsDir, mountPoint = '/'): Uint8Array {
  const badMount = badMountPoint(mountPoint);
  if (badMount !== undefined) throw new BootfsError(badMount);
  interface Flat { entry: BootfsEntry; parent: number; name: Uint8Array; first: number; count: number }
  const nodes: Flat[] = [{ entry: root, parent: 0, name: new Uint8Array(0), first: 0, count: 0 }];
  // Breadth first: a directory's children are appended together, after every earlier node.
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (!mtimeOk(n.entry.mtimeMs)) throw new BootfsError(`mtime ${n.entry.mtimeMs} is not a non-negative integer`);
    if (n.entry.type !== 'dir') continue;
    const children = [...n.entry.entries].map(([name, entry]) => {
      const why = badEntryName(name);
      if (why !== undefined) throw new BootfsError(why);
      return { name: encodeUtf8(name), entry };
    }).sort((a, b) => compareNameBytes(a.name, b.name));
    n.first = nodes.length;
    n.count = children.length;
    for (const c of children) nodes.push({ entry: c.entry, parent: i, name: c.name, first: 0, count: 0 });
  }
  const mount = encodeUtf8(mountPoint);
  const namesOffset = BOOTFS_HEADER_SIZE + nodes.length * BOOTFS_NODE_SIZE;
  const namesSize = mount.length + nodes.reduce((s, n) => s + n.name.length, 0);
  const dataOffset = align(namesOffset + namesSize);
  const fileAt: number[] = [];
  let dataSize = 0;
  for (const n of nodes) {
    fileAt.push(dataSize);
    if (n.entry.type === 'file') dataSize = align(dataSize + n.entry.data.length);
  }
  const total = dataOffset + dataSize;
  if (total > 0xffffffff) throw new BootfsError(`${total} bytes do not fit in a 4 GiB payload section`);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  v.setUint32(8, BOOTFS_VERSION, true);
  v.setUint32(12, nodes.length, true);
  v.setUint32(16, namesOffset, true);
  v.setUint32(20, namesSize, true);
  v.setUint32(24, dataOffset, true);
  v.setUint32(28, dataSize, true);
  v.setUint32(32, 0, true);
  v.setUint32(36, mount.length, true);
  out.set(mount, namesOffset);
  let name = mount.length;
  nodes.forEach((n, i) => {
    const e = BOOTFS_HEADER_SIZE + i * BOOTFS_NODE_SIZE;
    const file = n.entry.type === 'file';
    v.setUint32(e, file ? BOOTFS_TYPE_FILE : BOOTFS_TYPE_DIR, true);
    v.setUint32(e + 4, n.parent, true);
    v.setUint32(e + 8, n.name.length === 0 ? 0 : name, true);
    v.setUint32(e + 12, n.name.length, true);
    if (n.entry.type === 'file') {
      v.setUint32(e + 16, fileAt[i]!, true);
      v.setUint32(e + 20, n.entry.data.length, true);
      out.set(n.entry.data, dataOffset + fileAt[i]!);
    } else {
      v.setUint32(e + 16, n.count === 0 ? 0 : n.first, true);
      v.setUint32(e + 20, n.count, true);
    }
    v.setUint32(e + 24, n.entry.mtimeMs % 0x100000000, true);
    v.setUint32(e + 28, Math.floor(n.entry.mtimeMs / 0x100000000), true);
    out.set(n.name, namesOffset + name);
    name += n.name.length;
  });
  return out;
}

export interface BootfsNode {
  readonly index: number;
  readonly type: 'file' | 'dir';
  readonly name: string;
  readonly parent: number;
  /** Bytes of a file; number of entries of a directory. */
  readonly size: number;
  readonly mtimeMs: number;
}

/** A validated bootfs section. Node indices are stable: 0 is the root. Parsing allocates no
 * object per node and touches each name byte once or twice (it runs at every boot in QuickJS);
 * names are decoded when first asked for. */
export class BootfsImage {
  private readonly decoded: (string | undefined)[] = [];

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly v: DataView,
    readonly nodeCount: number,
    readonly mountPoint: string,
    /** Absolute offsets (in `bytes`) and lengths of the names, by node. */
    private readonly nameAt: Uint32Array,
    private readonly nameLen: Uint32Array,
    private readonly dataOffset: number,
  ) {}

  /** Validates a section; throws BootfsError (never anything else) when it is malformed. */
  static parse(bytes: Uint8Array): BootfsImage {
    const bad = (msg: string): BootfsError => new BootfsError(msg);
    if (bytes.length < BOOTFS_HEADER_SIZE) throw bad(`only ${bytes.length} bytes, the header needs ${BOOTFS_HEADER_SIZE}`);
    if (MAGIC_BYTES.some((b, i) => bytes[i] !== b)) throw bad(`bad magic (expected "${BOOTFS_MAGIC}")`);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const u32 = wordReader(bytes, v);
    const version = u32(8);
    if (version !== BOOTFS_VERSION) throw bad(`version ${version}, expected ${BOOTFS_VERSION}`);
    const count = u32(12);
    const namesOffset = u32(16);
    const namesSize = u32(20);
    const dataOffset = u32(24);
    const dataSize = u32(28);
    if (count < 1) throw bad('no root directory (0 nodes)');
    if (BOOTFS_HEADER_SIZE + count * BOOTFS_NODE_SIZE > bytes.length) throw bad(`${count} nodes do not fit in ${bytes.length} bytes`);
    if (namesOffset + namesSize > bytes.length) throw bad(`name table ${namesOffset}+${namesSize} is past the end (${bytes.length})`);
    if (dataOffset % BOOTFS_ALIGN !== 0) throw bad(`data offset ${dataOffset} is not ${BOOTFS_ALIGN}-byte aligned`);
    if (dataOffset + dataSize > bytes.length) throw bad(`data ${dataOffset}+${dataSize} is past the end (${bytes.length})`);
    const inNames = (off: number, len: number, node: number): number => {
      if (off + len > namesSize) throw bad(`${node < 0 ? 'mount point' : `node ${node}`}: name ${off}+${len} is outside the name table (${namesSize} bytes)`);
      return namesOffset + off;
    };
    const mountAt = inNames(u32(32), u32(36), -1);
    const mountPoint = decodeUtf8(bytes.subarray(mountAt, mountAt + u32(36)), true);
    if (mountPoint === undefined) throw bad('mount point: name is not valid UTF-8');
    const badMount = badMountPoint(mountPoint);
    if (badMount !== undefined) throw bad(badMount);

    const nameAt = new Uint32Array(count);
    const nameLen = new Uint32Array(count);
    let children = 0;
    for (let i = 0; i < count; i++) {
      const e = BOOTFS_HEADER_SIZE + i * BOOTFS_NODE_SIZE;
      const type = u32(e);
      const parent = u32(e + 4);
      const a = u32(e + 16);
      const b = u32(e + 20);
      if (type !== BOOTFS_TYPE_FILE && type !== BOOTFS_TYPE_DIR) throw bad(`node ${i}: unknown type ${type}`);
      if (u32(e + 28) > MTIME_HIGH_MAX) throw bad(`node ${i}: mtime too large`);
      if (i === 0) {
        if (type !== BOOTFS_TYPE_DIR || parent !== 0 || u32(e + 12) !== 0) throw bad('node 0 is not a root directory without a name');
      } else {
        const len = u32(e + 12);
        const at = inNames(u32(e + 8), len, i);
        const why = badNameBytes(bytes, at, len);
        if (why !== undefined) throw bad(`node ${i}: ${why}`);
        nameAt[i] = at;
        nameLen[i] = len;
        // Its parent is an earlier directory whose entry range holds it (a tree, no cycles).
        if (parent >= i) throw bad(`node ${i}: parent ${parent} does not come before it`);
        const pe = BOOTFS_HEADER_SIZE + parent * BOOTFS_NODE_SIZE;
        const first = u32(pe + 16);
        if (u32(pe) !== BOOTFS_TYPE_DIR || i < first || i >= first + u32(pe + 20)) {
          throw bad(`node ${i}: not among the entries of its parent ${parent}`);
        }
        if (first < i && compareAt(bytes, nameAt[i - 1]!, nameLen[i - 1]!, at, len) >= 0) {
          throw bad(`node ${i}: names of directory ${parent} are not sorted and unique`);
        }
      }
      if (type === BOOTFS_TYPE_FILE) {
        if (a % BOOTFS_ALIGN !== 0) throw bad(`node ${i}: data offset ${a} is not ${BOOTFS_ALIGN}-byte aligned`);
        if (a + b > dataSize) throw bad(`node ${i}: data ${a}+${b} is past the data area (${dataSize} bytes)`);
      } else if (b > 0) {
        if (a <= i || a + b > count) throw bad(`node ${i}: entries ${a}+${b} are not after it among the ${count} nodes`);
        children += b;
      }
    }
    // Every non-root node lies in its parent's range (checked above) and ranges cannot share a
    // node (each has one parent); so the ranges cover all nodes exactly when the counts add up.
    if (children !== count - 1) throw bad(`directories list ${children} entries for ${count - 1} nodes`);
    return new BootfsImage(bytes, v, count, mountPoint, nameAt, nameLen, dataOffset);
  }

  private name(index: number): string {
    let n = this.decoded[index];
    if (n === undefined) {
      const at = this.nameAt[index]!;
      n = decodeUtf8(this.bytes.subarray(at, at + this.nameLen[index]!));
      this.decoded[index] = n;
    }
    return n;
  }

  node(index: number): BootfsNode {
    if (!Number.isInteger(index) || index < 0 || index >= this.nodeCount) throw new RangeError(`bootfs: no node ${index}`);
    const e = BOOTFS_HEADER_SIZE + index * BOOTFS_NODE_SIZE;
    const u32 = (at: number): number => this.v.getUint32(e + at, true);
    return {
      index,
      type: u32(0) === BOOTFS_TYPE_FILE ? 'file' : 'dir',
      name: this.name(index),
      parent: u32(4),
      size: u32(20),
      mtimeMs: u32(28) * 0x100000000 + u32(24),
    };
  }

  /** Indices of a directory's entries, in name order (empty for a file). */
  children(index: number): number[] {
    const n = this.node(index);
    if (n.type !== 'dir') return [];
    const first = this.v.getUint32(BOOTFS_HEADER_SIZE + index * BOOTFS_NODE_SIZE + 16, true);
    const out: number[] = [];
    for (let i = 0; i < n.size; i++) out.push(first + i);
    return out;
  }

  /** The entry `name` (UTF-8 bytes) of directory `dir`, or -1. */
  childNamed(dir: number, name: Uint8Array): number {
    const n = this.node(dir);
    if (n.type !== 'dir' || n.size === 0) return -1;
    let lo = this.v.getUint32(BOOTFS_HEADER_SIZE + dir * BOOTFS_NODE_SIZE + 16, true);
    let hi = lo + n.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareNameBytes(this.bytes.subarray(this.nameAt[mid]!, this.nameAt[mid]! + this.nameLen[mid]!), name);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  /** A file's bytes: a view into the section (no copy; callers must not write to it). */
  data(index: number): Uint8Array {
    const n = this.node(index);
    if (n.type !== 'file') return new Uint8Array(0);
    const at = this.dataOffset + this.v.getUint32(BOOTFS_HEADER_SIZE + index * BOOTFS_NODE_SIZE + 16, true);
    return this.bytes.subarray(at, at + n.size);
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads the little-endian u32 at a 4-aligned offset: through a Uint32Array when the host is
 * little-endian and the bytes are aligned (an index instead of a call: parse runs at boot in
 * QuickJS), else through the DataView. */
function wordReader(bytes: Uint8Array, v: DataView): (at: number) => number {
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    return (at) => w[at >>> 2]!;
  }
  return (at) => v.getUint32(at, true);
}

/** Why the `len` bytes at `at` cannot be an entry name (the rules of badEntryName, on bytes). */
function badNameBytes(bytes: Uint8Array, at: number, len: number): string | undefined {
  if (len === 0 || len > BOOTFS_NAME_MAX) return `name length ${len} is not 1 to ${BOOTFS_NAME_MAX} bytes`;
  if (bytes[at] === 0x2e && (len === 1 || (len === 2 && bytes[at + 1] === 0x2e))) return 'name is "." or ".."';
  let ascii = true;
  for (let i = at; i < at + len; i++) {
    const b = bytes[i]!;
    if (b === 0 || b === 0x2f) return 'name contains "/" or NUL';
    if (b >= 0x80) ascii = false;
  }
  if (!ascii && decodeUtf8(bytes.subarray(at, at + len), true) === undefined) return 'name is not valid UTF-8';
  return undefined;
}

/** compareNameBytes on two names inside one buffer. */
function compareAt(bytes: Uint8Array, a: number, aLen: number, b: number, bLen: number): number {
  const n = Math.min(aLen, bLen);
  for (let i = 0; i < n; i++) if (bytes[a + i] !== bytes[b + i]) return bytes[a + i]! - bytes[b + i]!;
  return aLen - bLen;
}
