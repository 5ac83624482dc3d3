// The guest core's symbols for the profiler: the image's payload symbol table (kind 2, which
// kiln build copies from the core's ELF symbols, functions and objects) as a sorted table, for
// naming sampled code addresses and finding the core's `kiln_profile` descriptor. A corrupt or
// missing table is not an error: samples then show addresses (the warning says why).

import { PAYLOAD_KIND_SYMBOLS, decodeSymbols } from '@kiln/common/image/payload.ts';
import { readImagePayload } from '@kiln/common/image/assemble.ts';

export class ImageSymbols {
  readonly #addrs: number[];
  readonly #ends: number[];
  readonly #names: string[];
  /** Why the image gave no symbols, if it gave none. */
  readonly warning: string | undefined;

  constructor(symbols: readonly { address: number; size: number; name: string }[], warning?: string) {
    const sorted = [...symbols].sort((a, b) => a.address - b.address);
    this.#addrs = sorted.map((s) => s.address);
    this.#ends = sorted.map((s) => s.address + s.size);
    this.#names = sorted.map((s) => s.name);
    this.warning = warning;
  }

  static fromImage(image: Uint8Array): ImageSymbols {
    try {
      const section = readImagePayload(image).sections.find((s) => s.kind === PAYLOAD_KIND_SYMBOLS);
      if (!section) return new ImageSymbols([], 'the image has no symbol table: native frames show addresses');
      return new ImageSymbols(decodeSymbols(section.data));
    } catch (e) {
      return new ImageSymbols([], `the image's symbol table cannot be read (${(e as Error).message}): native frames show addresses`);
    }
  }

  /** The symbol whose [address, address + size) holds `addr`. */
  nameAt(addr: number): string | undefined {
    let lo = 0;
    let hi = this.#addrs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.#addrs[mid]! <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    // hi: the last symbol starting at or below addr; a zero-size one (a label) holds nothing
    for (let i = hi; i >= 0 && this.#addrs[i] === this.#addrs[hi]; i--) if (addr < this.#ends[i]!) return this.#names[i];
    return undefined;
  }

  /** The address of symbol `name`. */
  addressOf(name: string): number | undefined {
    const i = this.#names.indexOf(name);
    return i < 0 ? undefined : this.#addrs[i];
  }
}
