// UDP datagrams (RFC 768). The checksum covers the IPv4 pseudo-header (source, destination,
// protocol 17, UDP length), the header and the payload; a zero checksum means "none" on
// receive, and a computed zero is sent as 0xffff. The view checks the length field against
// the buffer; `payload` ends at that length.

import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.ts';
import { IP_PROTO_UDP, type Ipv4Addr } from './ipv4.ts';

export const UDP_HEADER_LEN = 8;

/** Byte offsets of the header fields. */
export const UdpField = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6, PAYLOAD: 8 } as const;

const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** A checked view of one datagram. */
export class UdpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  static check(buffer: Uint8Array): UdpPacket | null {
    if (buffer.length < UDP_HEADER_LEN) return null;
    const len = be16(buffer, UdpField.LENGTH);
    return len >= UDP_HEADER_LEN && len <= buffer.length ? new UdpPacket(buffer) : null;
  }

  get srcPort(): number {
    return be16(this.buffer, UdpField.SRC_PORT);
  }
  get dstPort(): number {
    return be16(this.buffer, UdpField.DST_PORT);
  }
  get length(): number {
    return be16(this.buffer, UdpField.LENGTH);
  }
  get checksum(): number {
    return be16(this.buffer, UdpField.CHECKSUM);
  }
  get payload(): Uint8Array {
    return this.buffer.subarray(UDP_HEADER_LEN, this.length);
  }
  /** True when the checksum is right or absent (0). */
  verifyChecksum(src: Ipv4Addr, dst: Ipv4Addr): boolean {
    if (this.checksum === 0) return true;
    const len = this.length;
    return finishChecksum(sumWords(this.buffer, 0, len, pseudoHeaderSum(src, dst, IP_PROTO_UDP, len))) === 0;
  }
}

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** A view into the parsed buffer. */
  payload: Uint8Array;
}

/** Repr of a datagram whose checksum (with the pseudo-header of src/dst) is right or absent, or null. */
export function parseUdp(buffer: Uint8Array, src: Ipv4Addr, dst: Ipv4Addr): UdpRepr | null {
  const p = UdpPacket.check(buffer);
  if (!p || !p.verifyChecksum(src, dst)) return null;
  return { srcPort: p.srcPort, dstPort: p.dstPort, payload: p.payload };
}

export function udpBufferLen(repr: Pick<UdpRepr, 'payload'>): number {
  return UDP_HEADER_LEN + repr.payload.length;
}

/** Writes header and payload into buffer[0, udpBufferLen(repr)) with the checksum. */
export function emitUdp(repr: UdpRepr, buffer: Uint8Array, src: Ipv4Addr, dst: Ipv4Addr): void {
  buffer.set(repr.payload, UDP_HEADER_LEN);
  writeUdpHeader(buffer, 0, repr.srcPort, repr.dstPort, repr.payload.length, src, dst);
}

/** Writes the header at `at` for a payload already in place after it, and the checksum. */
export function writeUdpHeader(b: Uint8Array, at: number, srcPort: number, dstPort: number, payloadLen: number, src: Ipv4Addr, dst: Ipv4Addr): void {
  const len = UDP_HEADER_LEN + payloadLen;
  b[at + UdpField.SRC_PORT] = srcPort >>> 8;
  b[at + UdpField.SRC_PORT + 1] = srcPort;
  b[at + UdpField.DST_PORT] = dstPort >>> 8;
  b[at + UdpField.DST_PORT + 1] = dstPort;
  b[at + UdpField.LENGTH] = len >>> 8;
  b[at + UdpField.LENGTH + 1] = len;
  b[at + UdpField.CHECKSUM] = 0;
  b[at + UdpField.CHECKSUM + 1] = 0;
  const sum = finishChecksum(sumWords(b, at, at + len, pseudoHeaderSum(src, dst, IP_PROTO_UDP, len))) || 0xffff;
  b[at + UdpField.CHECKSUM] = sum >>> 8;
  b[at + UdpField.CHECKSUM + 1] = sum;
}
