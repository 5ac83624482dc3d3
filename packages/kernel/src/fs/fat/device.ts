// The block device the FAT driver runs on (MirageOS style: a narrow interface, not a backend).
// kiln:block's BlockDevice satisfies it in the guest; MemoryBlockDevice is the in-memory one
// for tests and for building images in memory; the CLI has a file-backed one for `kiln mkfs`.
// Offsets and lengths are bytes, multiples of 512, inside the device.

export const DEVICE_SECTOR = 512;

export interface FatBlockDevice {
  /** Size in bytes (a multiple of 512). */
  readonly size: number;
  readonly readOnly: boolean;
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** Makes everything written so far durable; also the write barrier the driver orders its writes with. */
  flush(): Promise<void>;
}

/** A FatBlockDevice over one Uint8Array. Reads return copies, so callers may keep or change them. */
export class MemoryBlockDevice implements FatBlockDevice {
  readonly bytes: Uint8Array;
  readonly readOnly: boolean;

  constructor(sizeOrBytes: number | Uint8Array, options: { readOnly?: boolean } = {}) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
    if (this.bytes.length % DEVICE_SECTOR !== 0) throw new RangeError(`device size ${this.bytes.length} is not a multiple of ${DEVICE_SECTOR}`);
    this.readOnly = options.readOnly === true;
  }

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    return this.bytes.slice(offset, offset + length);
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    if (this.readOnly) throw new DeviceError('EROFS', 'read-only device');
    checkRange(this.size, offset, bytes.length);
    this.bytes.set(bytes, offset);
  }

  async flush(): Promise<void> {}
}

/** Errors of the device itself (kiln:block's BlockError has the same shape: a code and a message). */
export class DeviceError extends Error {
  constructor(readonly code: 'EROFS' | 'EINVAL' | 'EIO', message: string) {
    super(`${code}: ${message}`);
    this.name = 'DeviceError';
  }
}

export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset % DEVICE_SECTOR !== 0
    || length % DEVICE_SECTOR !== 0 || offset + length > size) {
    throw new DeviceError('EINVAL', `bad device range ${offset}+${length} (size ${size}, sector ${DEVICE_SECTOR})`);
  }
}
