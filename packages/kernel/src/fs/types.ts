// The seam between the VFS (fs/vfs.ts, kiln:fs) and the filesystems mounted in it: bootfs,
// FAT on a block device, virtio-fs. A FileSystem sees paths relative to its own root, already
// normalised by the VFS ("/" is the root, "/a/b" a child; never ".", "..", "//" or a trailing
// "/"). Errors are FsError with errno names so kiln:fs can report them as Node does.

export type FsErrorCode =
  | 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'ENOSPC' | 'EROFS' | 'EINVAL' | 'EIO'
  | 'EBADF' | 'ENAMETOOLONG' | 'EACCES' | 'EPERM' | 'EXDEV' | 'EBUSY' | 'ELOOP' | 'EFBIG' | 'ENODEV';

export class FsError extends Error {
  constructor(readonly code: FsErrorCode, readonly syscall: string, readonly path: string, detail?: string) {
    super(`${code}: ${detail ?? describe(code)}, ${syscall} '${path}'`);
    this.name = 'FsError';
  }
}

/** `e` with `path` as the app named it (filesystems report paths relative to their root); other errors unchanged. */
export function rebase(e: unknown, syscall: string, path: string): unknown {
  if (!(e instanceof FsError)) return e;
  // The constructor's message is `${code}: ${detail}, ${syscall} '${path}'`: keep the detail.
  const tail = `, ${e.syscall} '${e.path}'`;
  const detail = e.message.endsWith(tail) ? e.message.slice(e.code.length + 2, e.message.length - tail.length) : undefined;
  return new FsError(e.code, syscall, path, detail);
}

function describe(code: FsErrorCode): string {
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EEXIST': return 'file already exists';
    case 'ENOTDIR': return 'not a directory';
    case 'EISDIR': return 'illegal operation on a directory';
    case 'ENOTEMPTY': return 'directory not empty';
    case 'ENOSPC': return 'no space left on device';
    case 'EROFS': return 'read-only file system';
    case 'EINVAL': return 'invalid argument';
    case 'EIO': return 'i/o error';
    case 'EBADF': return 'bad file descriptor';
    case 'ENAMETOOLONG': return 'name too long';
    case 'EACCES': return 'permission denied';
    case 'EPERM': return 'operation not permitted';
    case 'EXDEV': return 'cross-device link not permitted';
    case 'EBUSY': return 'resource busy or locked';
    case 'ELOOP': return 'too many symbolic links encountered';
    case 'EFBIG': return 'file too large';
    case 'ENODEV': return 'no such device';
  }
}

export type FileType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileStat {
  type: FileType;
  size: number;
  /** Modification and creation times in ms since the epoch (0 when the filesystem has none). */
  mtimeMs: number;
  birthtimeMs: number;
  /** POSIX permission bits and type as st_mode (0o100644 for a plain file where the fs has no modes). */
  mode: number;
  /** A number unique per file within this filesystem while it is mounted. */
  ino: number;
  nlink: number;
}

export interface DirEntry {
  name: string;
  type: FileType;
}

export interface OpenFlags {
  read: boolean;
  write: boolean;
  /** Create if missing. */
  create: boolean;
  /** With create: EEXIST if it exists. */
  exclusive: boolean;
  /** Truncate to 0 on open (needs write). */
  truncate: boolean;
}

/** An open file of a FileSystem. Positions are byte offsets; files are at most 2^53-1 bytes. */
export interface FileNode {
  /** Reads up to `length` bytes at `position` into buf[offset..]; returns the count (0 at end of file). */
  read(position: number, buf: Uint8Array, offset: number, length: number): Promise<number>;
  /** Writes all of `data` at `position` (extending the file, zero-filling any gap); EFBIG/ENOSPC as the fs limits. */
  write(position: number, data: Uint8Array): Promise<number>;
  truncate(size: number): Promise<void>;
  stat(): Promise<FileStat>;
  /** Makes this file's data and metadata durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FsUsage {
  blockSize: number;
  totalBlocks: number;
  freeBlocks: number;
}

export interface FileSystem {
  /** "bootfs", "vfat", "virtiofs". */
  readonly type: string;
  readonly readOnly: boolean;
  stat(path: string): Promise<FileStat>;
  readdir(path: string): Promise<DirEntry[]>;
  mkdir(path: string): Promise<void>;
  /** Removes a file (EISDIR for a directory). */
  unlink(path: string): Promise<void>;
  /** Removes an empty directory (ENOTEMPTY otherwise). */
  rmdir(path: string): Promise<void>;
  /** Renames within this filesystem, replacing a file at `to` as POSIX rename does. */
  rename(from: string, to: string): Promise<void>;
  open(path: string, flags: OpenFlags): Promise<FileNode>;
  /** Writes every cached change back and flushes the device. Called by fsync of the VFS and at exit. */
  sync(): Promise<void>;
  usage(): Promise<FsUsage>;
  /** sync(), then no further calls. */
  unmount(): Promise<void>;
}
