// The FUSE protocol as virtio-fs carries it (protocol 7.31 and later, the subset virtiofsd and
// Kiln's server speak): opcodes, flags, Linux errno and open-flag numbers, and codecs for the
// request and reply structs. Shared by the guest driver (packages/kernel/src/fs/virtiofs) and
// the VMM's server (packages/vmm/src/devices/virtio/fs), so both read the same layouts.
// Pure TS with no BigInt (the guest engine has none): a u64 field is a number, exact below 2^53;
// a larger value decodes to U64_UNSAFE (-1), which no node id, handle or offset ever equals.
// Decoders take (bytes, at) and return null when the bytes are too short; they never throw.
// Layouts: Linux include/uapi/linux/fuse.h; virtio 1.2 §5.11 (device type 26).

// ───────────── numbers ─────────────

export const FUSE_KERNEL_VERSION = 7;
/** The oldest minor version Kiln speaks (virtiofsd's baseline: 64-byte init_out, flags2 ignored). */
export const FUSE_MIN_MINOR_VERSION = 31;
/** The minor version Kiln's server announces (fuse.h 7.38). */
export const FUSE_KERNEL_MINOR_VERSION = 38;
export const FUSE_ROOT_ID = 1;

export const FUSE_LOOKUP = 1;
export const FUSE_FORGET = 2;
export const FUSE_GETATTR = 3;
export const FUSE_SETATTR = 4;
export const FUSE_READLINK = 5;
export const FUSE_SYMLINK = 6;
export const FUSE_MKNOD = 8;
export const FUSE_MKDIR = 9;
export const FUSE_UNLINK = 10;
export const FUSE_RMDIR = 11;
export const FUSE_RENAME = 12;
export const FUSE_LINK = 13;
export const FUSE_OPEN = 14;
export const FUSE_READ = 15;
export const FUSE_WRITE = 16;
export const FUSE_STATFS = 17;
export const FUSE_RELEASE = 18;
export const FUSE_FSYNC = 20;
export const FUSE_SETXATTR = 21;
export const FUSE_GETXATTR = 22;
export const FUSE_LISTXATTR = 23;
export const FUSE_REMOVEXATTR = 24;
export const FUSE_FLUSH = 25;
export const FUSE_INIT = 26;
export const FUSE_OPENDIR = 27;
export const FUSE_READDIR = 28;
export const FUSE_RELEASEDIR = 29;
export const FUSE_FSYNCDIR = 30;
export const FUSE_ACCESS = 34;
export const FUSE_CREATE = 35;
export const FUSE_INTERRUPT = 36;
export const FUSE_DESTROY = 38;
export const FUSE_BATCH_FORGET = 42;
export const FUSE_FALLOCATE = 43;
export const FUSE_READDIRPLUS = 44;
export const FUSE_RENAME2 = 45;
export const FUSE_LSEEK = 46;
export const FUSE_COPY_FILE_RANGE = 47;
export const FUSE_SYNCFS = 50;
export const FUSE_TMPFILE = 51;

// fuse_init flags (the ones Kiln negotiates; the rest are refused by leaving them clear)
export const FUSE_ASYNC_READ = 1 << 0;
export const FUSE_ATOMIC_O_TRUNC = 1 << 3;
export const FUSE_BIG_WRITES = 1 << 5;
export const FUSE_DO_READDIRPLUS = 1 << 13;
export const FUSE_PARALLEL_DIROPS = 1 << 18;
export const FUSE_MAX_PAGES = 1 << 22;
export const FUSE_INIT_EXT = 1 << 30;

// setattr valid bits
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;
export const FATTR_LOCKOWNER = 1 << 9;
export const FATTR_CTIME = 1 << 10;
export const FATTR_KILL_SUIDGID = 1 << 11;

export const FUSE_GETATTR_FH = 1 << 0;
export const FUSE_FSYNC_FDATASYNC = 1 << 0;
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;

/** Linux open(2) flags as FUSE carries them (x86-64 numbers). */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;

/** renameat2(2) flags. */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

/** st_mode type bits and d_type values. */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const DT_UNKNOWN = 0;
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

/** Linux errno numbers (FUSE replies carry them negated in fuse_out_header.error). */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, ENXIO: 6, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ETXTBSY: 26, EFBIG: 27,
  ENOSPC: 28, EROFS: 30, EMLINK: 31, ERANGE: 34, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  EPROTO: 71, EOVERFLOW: 75, EOPNOTSUPP: 95, ESTALE: 116, EDQUOT: 122,
} as const;
export type ErrnoName = keyof typeof ERRNO;

/** The errno name of a positive errno number, or undefined for one outside ERRNO. */
export function errnoName(n: number): ErrnoName | undefined {
  for (const k in ERRNO) if (ERRNO[k as ErrnoName] === n) return k as ErrnoName;
  return undefined;
}

/** NAME_MAX: the longest name a request may carry, in bytes. */
export const FUSE_NAME_MAX = 255;

// ───────────── u64 as a number ─────────────

/** What a u64 of 2^53 or more decodes to. */
export const U64_UNSAFE = -1;
const U32 = 0x1_0000_0000;

export function getU64(v: DataView, off: number): number {
  const lo = v.getUint32(off, true);
  const hi = v.getUint32(off + 4, true);
  return hi < 0x20_0000 ? hi * U32 + lo : U64_UNSAFE;
}

/** Writes a non-negative safe integer; U64_UNSAFE writes 2^64-1, anything else negative writes 0. */
export function setU64(v: DataView, off: number, n: number): void {
  if (n === U64_UNSAFE) {
    v.setUint32(off, 0xffff_ffff, true);
    v.setUint32(off + 4, 0xffff_ffff, true);
    return;
  }
  const x = n > 0 ? Math.floor(n) : 0;
  v.setUint32(off, x % U32, true);
  v.setUint32(off + 4, Math.floor(x / U32) % U32, true);
}

// ───────────── table-driven structs ─────────────

type Kind = 'u16' | 'u32' | 'i32' | 'u64';
/** A field: [name, kind], or [null, n] for n bytes of padding (written as zero, not decoded). */
type Field = readonly [string, Kind] | readonly [null, number];
type Names<F extends readonly Field[]> = Extract<F[number], readonly [string, Kind]>[0];
export type Repr<F extends readonly Field[]> = { [K in Names<F>]: number };

const WIDTH: Record<Kind, number> = { u16: 2, u32: 4, i32: 4, u64: 8 };

export interface Codec<T> {
  readonly size: number;
  /** Reads the struct at b[at..]; null if fewer than `size` bytes are there. */
  decode(b: Uint8Array, at?: number): T | null;
  /** Writes `r` at out[at..] (caller provides `size` bytes); returns at + size. */
  encode(r: T, out: Uint8Array, at?: number): number;
}
export type Struct<F extends readonly Field[]> = Codec<Repr<F>>;
/** The repr type of a codec. */
export type ReprOf<C> = C extends Codec<infer T> ? T : never;

function struct<const F extends readonly Field[]>(fields: F): Struct<F> {
  const offs: [string, Kind, number][] = [];
  let size = 0;
  for (const [name, k] of fields) {
    if (name === null) size += k as number;
    else {
      offs.push([name, k as Kind, size]);
      size += WIDTH[k as Kind];
    }
  }
  return {
    size,
    decode(b, at = 0) {
      if (at < 0 || b.length - at < size) return null;
      const v = new DataView(b.buffer, b.byteOffset + at, size);
      const r: Record<string, number> = {};
      for (let i = 0; i < offs.length; i++) {
        const [name, k, o] = offs[i]!;
        r[name] = k === 'u64' ? getU64(v, o) : k === 'u32' ? v.getUint32(o, true) : k === 'i32' ? v.getInt32(o, true) : v.getUint16(o, true);
      }
      return r as Repr<F>;
    },
    encode(r, out, at = 0) {
      out.fill(0, at, at + size);
      const v = new DataView(out.buffer, out.byteOffset + at, size);
      const rec = r as Record<string, number>;
      for (let i = 0; i < offs.length; i++) {
        const [name, k, o] = offs[i]!;
        const x = rec[name]!;
        if (k === 'u64') setU64(v, o, x);
        else if (k === 'u32') v.setUint32(o, x >>> 0, true);
        else if (k === 'i32') v.setInt32(o, x | 0, true);
        else v.setUint16(o, x & 0xffff, true);
      }
      return at + size;
    },
  };
}

// ───────────── structs (fuse.h) ─────────────

export const IN_HEADER = struct([
  ['len', 'u32'], ['opcode', 'u32'], ['unique', 'u64'], ['nodeid', 'u64'], ['uid', 'u32'], ['gid', 'u32'], ['pid', 'u32'],
  ['totalExtlen', 'u16'], [null, 2],
] as const);
export type FuseInHeader = ReprOf<typeof IN_HEADER>;

export const OUT_HEADER = struct([['len', 'u32'], ['error', 'i32'], ['unique', 'u64']] as const);
export type FuseOutHeader = ReprOf<typeof OUT_HEADER>;

export const ATTR = struct([
  ['ino', 'u64'], ['size', 'u64'], ['blocks', 'u64'], ['atime', 'u64'], ['mtime', 'u64'], ['ctime', 'u64'],
  ['atimensec', 'u32'], ['mtimensec', 'u32'], ['ctimensec', 'u32'], ['mode', 'u32'], ['nlink', 'u32'], ['uid', 'u32'],
  ['gid', 'u32'], ['rdev', 'u32'], ['blksize', 'u32'], ['flags', 'u32'],
] as const);
export type FuseAttr = ReprOf<typeof ATTR>;

const ENTRY_HEAD = struct([
  ['nodeid', 'u64'], ['generation', 'u64'], ['entryValid', 'u64'], ['attrValid', 'u64'], ['entryValidNsec', 'u32'], ['attrValidNsec', 'u32'],
] as const);
const ATTR_OUT_HEAD = struct([['attrValid', 'u64'], ['attrValidNsec', 'u32'], [null, 4]] as const);

export interface FuseEntryOut extends ReprOf<typeof ENTRY_HEAD> {
  attr: FuseAttr;
}
export interface FuseAttrOut extends ReprOf<typeof ATTR_OUT_HEAD> {
  attr: FuseAttr;
}

/** A struct followed by a fuse_attr, decoded as { ...head, attr }. */
function withAttr<H extends object>(head: Codec<H>): Codec<H & { attr: FuseAttr }> {
  return {
    size: head.size + ATTR.size,
    decode(b, at = 0) {
      const h = head.decode(b, at);
      const attr = h && ATTR.decode(b, at + head.size);
      return h && attr ? { ...h, attr } : null;
    },
    encode(r, out, at = 0) {
      return ATTR.encode(r.attr, out, head.encode(r, out, at));
    },
  };
}

/** fuse_entry_out (128 bytes): LOOKUP, MKDIR, CREATE (then fuse_open_out), READDIRPLUS. */
export const ENTRY_OUT: Codec<FuseEntryOut> = withAttr(ENTRY_HEAD);
/** fuse_attr_out (104 bytes): GETATTR, SETATTR. */
export const ATTR_OUT: Codec<FuseAttrOut> = withAttr(ATTR_OUT_HEAD);

export const INIT_IN = struct([['major', 'u32'], ['minor', 'u32'], ['maxReadahead', 'u32'], ['flags', 'u32'], ['flags2', 'u32'], [null, 44]] as const);
/** Protocol 7.x before 7.36 sent a 16-byte init_in (no flags2, no unused words): the minimum accepted. */
export const INIT_IN_MIN_SIZE = 16;
export const INIT_OUT = struct([
  ['major', 'u32'], ['minor', 'u32'], ['maxReadahead', 'u32'], ['flags', 'u32'], ['maxBackground', 'u16'], ['congestionThreshold', 'u16'],
  ['maxWrite', 'u32'], ['timeGran', 'u32'], ['maxPages', 'u16'], ['mapAlignment', 'u16'], ['flags2', 'u32'], [null, 28],
] as const);
export const FORGET_IN = struct([['nlookup', 'u64']] as const);
export const FORGET_ONE = struct([['nodeid', 'u64'], ['nlookup', 'u64']] as const);
export const BATCH_FORGET_IN = struct([['count', 'u32'], [null, 4]] as const);
export const GETATTR_IN = struct([['getattrFlags', 'u32'], [null, 4], ['fh', 'u64']] as const);
export const SETATTR_IN = struct([
  ['valid', 'u32'], [null, 4], ['fh', 'u64'], ['size', 'u64'], ['lockOwner', 'u64'], ['atime', 'u64'], ['mtime', 'u64'], ['ctime', 'u64'],
  ['atimensec', 'u32'], ['mtimensec', 'u32'], ['ctimensec', 'u32'], ['mode', 'u32'], [null, 4], ['uid', 'u32'], ['gid', 'u32'], [null, 4],
] as const);
export const MKDIR_IN = struct([['mode', 'u32'], ['umask', 'u32']] as const);
export const RENAME_IN = struct([['newdir', 'u64']] as const);
export const RENAME2_IN = struct([['newdir', 'u64'], ['flags', 'u32'], [null, 4]] as const);
export const OPEN_IN = struct([['flags', 'u32'], ['openFlags', 'u32']] as const);
export const CREATE_IN = struct([['flags', 'u32'], ['mode', 'u32'], ['umask', 'u32'], ['openFlags', 'u32']] as const);
export const OPEN_OUT = struct([['fh', 'u64'], ['openFlags', 'u32'], [null, 4]] as const);
export const RELEASE_IN = struct([['fh', 'u64'], ['flags', 'u32'], ['releaseFlags', 'u32'], ['lockOwner', 'u64']] as const);
export const FLUSH_IN = struct([['fh', 'u64'], [null, 8], ['lockOwner', 'u64']] as const);
export const READ_IN = struct([['fh', 'u64'], ['offset', 'u64'], ['size', 'u32'], ['readFlags', 'u32'], ['lockOwner', 'u64'], ['flags', 'u32'], [null, 4]] as const);
export const WRITE_IN = struct([['fh', 'u64'], ['offset', 'u64'], ['size', 'u32'], ['writeFlags', 'u32'], ['lockOwner', 'u64'], ['flags', 'u32'], [null, 4]] as const);
export const WRITE_OUT = struct([['size', 'u32'], [null, 4]] as const);
export const STATFS_OUT = struct([
  ['blocks', 'u64'], ['bfree', 'u64'], ['bavail', 'u64'], ['files', 'u64'], ['ffree', 'u64'], ['bsize', 'u32'], ['namelen', 'u32'],
  ['frsize', 'u32'], [null, 28],
] as const);
export const FSYNC_IN = struct([['fh', 'u64'], ['fsyncFlags', 'u32'], [null, 4]] as const);
export const SYNCFS_IN = struct([[null, 8]] as const);
export const DIRENT_HEAD = struct([['ino', 'u64'], ['off', 'u64'], ['namelen', 'u32'], ['type', 'u32']] as const);

export type FuseInitIn = ReprOf<typeof INIT_IN>;
export type FuseInitOut = ReprOf<typeof INIT_OUT>;
export type FuseSetattrIn = ReprOf<typeof SETATTR_IN>;
export type FuseReadIn = ReprOf<typeof READ_IN>;
export type FuseWriteIn = ReprOf<typeof WRITE_IN>;
export type FuseStatfsOut = ReprOf<typeof STATFS_OUT>;

// ───────────── names and directory records ─────────────

/** Rounds up to the 8-byte record alignment (FUSE_REC_ALIGN). */
export const recAlign = (n: number): number => (n + 7) & ~7;

/**
 * The NUL-terminated name at b[at..end): its bytes (a view) and where the next field starts,
 * or null when there is no NUL before `end`.
 */
export function readCString(b: Uint8Array, at: number, end: number = b.length): { name: Uint8Array; next: number } | null {
  if (at < 0 || end > b.length || at >= end) return null;
  const nul = b.subarray(at, end).indexOf(0);
  if (nul < 0) return null;
  return { name: b.subarray(at, at + nul), next: at + nul + 1 };
}

/**
 * Why a name may not be used as one path component, or undefined if it may: empty, "." or "..",
 * containing "/" or NUL, or longer than NAME_MAX bytes. The server resolves names one component
 * at a time relative to a directory, so these are the only ways a name could leave it.
 */
export function badComponent(name: Uint8Array): 'EINVAL' | 'ENAMETOOLONG' | undefined {
  if (name.length === 0) return 'EINVAL';
  if (name.length > FUSE_NAME_MAX) return 'ENAMETOOLONG';
  if (name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e))) return 'EINVAL';
  if (name.indexOf(0x2f) >= 0 || name.indexOf(0) >= 0) return 'EINVAL';
  return undefined;
}

export interface FuseDirent {
  ino: number;
  off: number;
  type: number;
  name: Uint8Array;
  /** READDIRPLUS only. */
  entry?: FuseEntryOut;
}

/** Bytes one record takes: fuse_dirent (24 + name, aligned), plus 128 for READDIRPLUS. */
export function direntSize(nameLen: number, plus: boolean): number {
  return recAlign((plus ? ENTRY_OUT.size : 0) + DIRENT_HEAD.size + nameLen);
}

/** Writes one record at out[at..]; returns the next offset, or -1 if it does not fit before `end`. */
export function encodeDirent(d: FuseDirent, out: Uint8Array, at: number, end: number = out.length): number {
  const plus = d.entry !== undefined;
  const size = direntSize(d.name.length, plus);
  if (at + size > end) return -1;
  let o = at;
  if (d.entry) o = ENTRY_OUT.encode(d.entry, out, o);
  o = DIRENT_HEAD.encode({ ino: d.ino, off: d.off, namelen: d.name.length, type: d.type }, out, o);
  out.set(d.name, o);
  out.fill(0, o + d.name.length, at + size);
  return at + size;
}

/**
 * Parses a READDIR (plus = false) or READDIRPLUS reply body. Stops at the first record that does
 * not fit or has an impossible name length and says so in `malformed`; never throws.
 */
export function parseDirents(b: Uint8Array, plus: boolean): { entries: FuseDirent[]; malformed: boolean } {
  const entries: FuseDirent[] = [];
  let at = 0;
  while (at < b.length) {
    const entry = plus ? ENTRY_OUT.decode(b, at) : null;
    if (plus && !entry) return { entries, malformed: true };
    const h = DIRENT_HEAD.decode(b, at + (plus ? ENTRY_OUT.size : 0));
    if (!h || h.namelen === 0 || h.namelen > FUSE_NAME_MAX) return { entries, malformed: true };
    const nameAt = at + (plus ? ENTRY_OUT.size : 0) + DIRENT_HEAD.size;
    const size = direntSize(h.namelen, plus);
    if (nameAt + h.namelen > b.length) return { entries, malformed: true };
    const d: FuseDirent = { ino: h.ino, off: h.off, type: h.type, name: b.subarray(nameAt, nameAt + h.namelen) };
    if (entry) d.entry = entry;
    entries.push(d);
    at += size;
  }
  return { entries, malformed: false };
}
