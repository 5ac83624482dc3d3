// A FAT block device over a host file (Node only): what `kiln mkfs fat` formats and fills, and
// what host-side tests mount. Synchronous file I/O behind the async interface: the CLI does
// nothing else meanwhile, and it keeps each request one system call. flush() is fdatasync.

import { closeSync, fdatasyncSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { checkRange, DeviceError, type FatBlockDevice } from '@kiln/kernel/fs/fat/device.ts';

export class FileBlockDevice implements FatBlockDevice {
  readonly size: number;
  private fd: number;

  /** Opens `path` (read-write unless readOnly); its size must be a multiple of 512. */
  constructor(readonly path: string, readonly readOnly = false) {
    this.fd = openSync(path, readOnly ? 'r' : 'r+');
    const size = fstatSync(this.fd).size;
    if (size % 512 !== 0) {
      closeSync(this.fd);
      throw new DeviceError('EINVAL', `${path}: size ${size} is not a multiple of 512`);
    }
    this.size = size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new DeviceError('EIO', `${this.path}: short read at ${offset + done}`);
      done += n;
    }
    return buf;
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    if (this.readOnly) throw new DeviceError('EROFS', `${this.path} is open read-only`);
    checkRange(this.size, offset, bytes.length);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
  }

  async flush(): Promise<void> {
    if (!this.readOnly) fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
