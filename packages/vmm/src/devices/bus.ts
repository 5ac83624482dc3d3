// Address buses that route a vCPU's port I/O or MMIO exit to a device model: non-overlapping
// [base, base+len) ranges, lookup by address. Accesses nobody claims read as all-ones and are
// counted (as an unclaimed ISA/PCI access would float high), writes are dropped and counted.
// Shape from Firecracker's vmm/src/devices/bus.rs.

export interface BusDevice {
  /** Fills `data` (length = access size) with the bytes read at `offset` from the range base. */
  read(offset: number, data: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
}

interface Range {
  base: number;
  len: number;
  name: string;
  device: BusDevice;
}

export class BusError extends Error {
  override readonly name = 'BusError';
  readonly code = 'EBUSOVERLAP';
}

export class Bus {
  readonly kind: string;
  readonly #ranges: Range[] = [];
  unknownReads = 0;
  unknownWrites = 0;
  /** Last few unclaimed addresses (for debugging a guest), newest last. */
  readonly unknownLog: string[] = [];

  constructor(kind: 'pio' | 'mmio') {
    this.kind = kind;
  }

  add(base: number, len: number, name: string, device: BusDevice): void {
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(len) || base < 0 || len <= 0) {
      throw new RangeError(`bad ${this.kind} range for ${name}`);
    }
    for (const r of this.#ranges) {
      if (base < r.base + r.len && r.base < base + len) {
        throw new BusError(`${this.kind} range ${name} [0x${base.toString(16)}, +0x${len.toString(16)}) overlaps ${r.name} [0x${r.base.toString(16)}, +0x${r.len.toString(16)})`);
      }
    }
    this.#ranges.push({ base, len, name, device });
    this.#ranges.sort((a, b) => a.base - b.base);
  }

  find(addr: number): { device: BusDevice; offset: number; name: string } | undefined {
    for (const r of this.#ranges) {
      if (addr >= r.base && addr < r.base + r.len) return { device: r.device, offset: addr - r.base, name: r.name };
    }
    return undefined;
  }

  read(addr: number, data: Uint8Array): boolean {
    const hit = this.find(addr);
    if (!hit) {
      data.fill(0xff);
      this.unknownReads++;
      this.#log('R', addr, data.length);
      return false;
    }
    hit.device.read(hit.offset, data);
    return true;
  }

  write(addr: number, data: Uint8Array): boolean {
    const hit = this.find(addr);
    if (!hit) {
      this.unknownWrites++;
      this.#log('W', addr, data.length);
      return false;
    }
    hit.device.write(hit.offset, data);
    return true;
  }

  #log(op: string, addr: number, len: number): void {
    this.unknownLog.push(`${op} 0x${addr.toString(16)}/${len}`);
    if (this.unknownLog.length > 16) this.unknownLog.shift();
  }
}
