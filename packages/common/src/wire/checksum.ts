// The Internet checksum (RFC 1071) and the IPv4 pseudo-header sum that TCP and UDP fold into
// theirs (RFC 9293 §3.1, RFC 768). Sums are kept unfolded as plain numbers (the guest engine
// has no BigInt); fold with finishChecksum. Shared by every wire format in this folder.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Below this many bytes the plain loop is as fast as setting up the 32-bit view. */
const BULK_MIN = 64;

/**
 * Adds the 16-bit big-endian words of b[start, end) to `sum` (an odd tail byte is padded with
 * zero). Hot path (every TCP segment, on an interpreter): an even-aligned range is summed four
 * bytes per step through a Uint32Array view in native order, folded to 16 bits and byte-swapped
 * on little-endian machines — RFC 1071 §2(B): the sum is byte-order independent up to that swap.
 */
export function sumWords(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  const addr = b.byteOffset + i;
  if (end - i >= BULK_MIN && (addr & 1) === 0) {
    if ((addr & 2) !== 0) {
      sum += (b[i]! << 8) | b[i + 1]!;
      i += 2;
    }
    const words = (end - i) >> 2;
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    let s = 0;
    for (let k = 0; k < words; k++) s += w[k]!;
    i += words * 4;
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
    sum += LITTLE_ENDIAN ? ((s & 0xff) << 8) | (s >>> 8) : s;
  }
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it: the value to store in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** RFC 1071 checksum of b[start, end). A buffer whose checksum field is right sums to 0. */
export function internetChecksum(b: Uint8Array, start = 0, end = b.length): number {
  return finishChecksum(sumWords(b, start, end));
}

/** Sum of the IPv4 pseudo-header (source, destination, protocol, upper-layer length). Addresses are u32 numbers. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
