// bootfs as a FileSystem: the read-only files `kiln build --assets DIR` baked into the image,
// read in place from the loaded payload (op_payload_section: no copy of the section; reads copy
// into the caller's buffer, so the image itself is never handed out). Every change is EROFS.
// Format and validation: @kiln/common image/bootfs.ts.

import { BootfsImage } from '@kiln/common/image/bootfs.ts';
import { encodeUtf8 } from '@kiln/common/text/utf8.ts';
import { FsError, type DirEntry, type FileNode, type FileStat, type FileSystem, type FsUsage, type OpenFlags } from './types.ts';

const BLOCK = 4096;

export class BootFs implements FileSystem {
  readonly type = 'bootfs';
  readonly readOnly = true;

  constructor(readonly image: BootfsImage) {}

  private lookup(path: string, syscall: string): number {
    let index = 0;
    if (path === '/') return index;
    for (const part of path.slice(1).split('/')) {
      if (this.image.node(index).type !== 'dir') throw new FsError('ENOTDIR', syscall, path);
      index = this.image.childNamed(index, encodeUtf8(part));
      if (index < 0) throw new FsError('ENOENT', syscall, path);
    }
    return index;
  }

  private statOf(index: number): FileStat {
    const n = this.image.node(index);
    const file = n.type === 'file';
    return {
      type: file ? 'file' : 'directory',
      size: file ? n.size : BLOCK,
      mtimeMs: n.mtimeMs,
      birthtimeMs: n.mtimeMs,
      mode: file ? 0o100444 : 0o40555,
      ino: index + 1,
      nlink: file ? 1 : 2,
    };
  }

  async stat(path: string): Promise<FileStat> {
    return this.statOf(this.lookup(path, 'stat'));
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const index = this.lookup(path, 'scandir');
    if (this.image.node(index).type !== 'dir') throw new FsError('ENOTDIR', 'scandir', path);
    return this.image.children(index).map((c) => {
      const n = this.image.node(c);
      return { name: n.name, type: n.type === 'dir' ? 'directory' : 'file' };
    });
  }

  async mkdir(path: string): Promise<void> {
    throw new FsError('EROFS', 'mkdir', path);
  }

  async unlink(path: string): Promise<void> {
    throw new FsError('EROFS', 'unlink', path);
  }

  async rmdir(path: string): Promise<void> {
    throw new FsError('EROFS', 'rmdir', path);
  }

  async rename(from: string): Promise<void> {
    throw new FsError('EROFS', 'rename', from);
  }

  async open(path: string, flags: OpenFlags): Promise<FileNode> {
    if (flags.write || flags.truncate) throw new FsError('EROFS', 'open', path);
    let index: number;
    try {
      index = this.lookup(path, 'open');
    } catch (e) {
      if (flags.create && e instanceof FsError && e.code === 'ENOENT') throw new FsError('EROFS', 'open', path);
      throw e;
    }
    if (flags.create && flags.exclusive) throw new FsError('EEXIST', 'open', path);
    const isFile = this.image.node(index).type === 'file';
    const data = this.image.data(index);
    let closed = false;
    const live = (syscall: string): void => {
      if (closed) throw new FsError('EBADF', syscall, path);
    };
    return {
      read: async (position, buf, offset, length) => {
        live('read');
        if (!isFile) throw new FsError('EISDIR', 'read', path);
        if (position >= data.length) return 0;
        const n = Math.min(length, data.length - position);
        buf.set(data.subarray(position, position + n), offset);
        return n;
      },
      write: async () => {
        throw new FsError('EBADF', 'write', path);
      },
      truncate: async () => {
        throw new FsError('EROFS', 'ftruncate', path);
      },
      stat: async () => {
        live('fstat');
        return this.statOf(index);
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
    let bytes = 0;
    for (let i = 0; i < this.image.nodeCount; i++) bytes += this.image.data(i).length;
    const blocks = Math.ceil(bytes / BLOCK);
    return { blockSize: BLOCK, totalBlocks: blocks, freeBlocks: 0 };
  }

  async unmount(): Promise<void> {}
}
