// Guest RAM as the VMM's boot code sees it: guest-physical addresses translated to views of the
// host mapping, with every access bounds-checked (a range must lie inside one RAM region).
// Guest addresses and host offsets are kept apart by name (rust-vmm vm-memory's habit).

import type { RamRegion } from './layout.ts';

export class GuestRam {
  readonly regions: readonly RamRegion[];
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, regions: readonly RamRegion[]) {
    for (const r of regions) {
      if (r.hostOffset + r.size > bytes.length) throw new RangeError('RAM region outside host memory');
    }
    this.bytes = bytes;
    this.regions = regions;
  }

  /** Host offset of [gpa, gpa+len) if it lies inside one RAM region, else undefined. */
  hostOffset(gpa: number, len: number): number | undefined {
    if (!Number.isSafeInteger(gpa) || !Number.isSafeInteger(len) || gpa < 0 || len < 0) return undefined;
    for (const r of this.regions) {
      if (gpa >= r.guestPhysAddr && gpa + len <= r.guestPhysAddr + r.size) return r.hostOffset + (gpa - r.guestPhysAddr);
    }
    return undefined;
  }

  contains(gpa: number, len: number): boolean {
    return this.hostOffset(gpa, len) !== undefined;
  }

  /** A live view of [gpa, gpa+len); throws RangeError outside RAM. */
  slice(gpa: number, len: number): Uint8Array {
    const off = this.hostOffset(gpa, len);
    if (off === undefined) throw new RangeError(`guest range [0x${gpa.toString(16)}, +0x${len.toString(16)}) is not RAM`);
    return this.bytes.subarray(off, off + len);
  }

  write(gpa: number, data: Uint8Array): void {
    this.slice(gpa, data.length).set(data);
  }

  fill(gpa: number, len: number, value = 0): void {
    this.slice(gpa, len).fill(value);
  }

  view(gpa: number, len: number): DataView {
    const s = this.slice(gpa, len);
    return new DataView(s.buffer, s.byteOffset, s.byteLength);
  }
}
