// IPv4 headers (RFC 791) and addresses. Addresses are unsigned 32-bit numbers (10.0.2.15 =
// 0x0a00020f). The view checks version, IHL and total length against the buffer, so no accessor
// reads out of bounds and `payload` ends at the total length (Ethernet padding is cut off).
// emit writes a 20-byte header without options and fills in the header checksum.

import { internetChecksum } from './checksum.ts';

export type Ipv4Addr = number;

export const IPV4_HEADER_LEN = 20;
export const IPV4_MIN_MTU = 68;
export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;
export const IPV4_BROADCAST: Ipv4Addr = 0xffff_ffff;
export const IPV4_UNSPECIFIED: Ipv4Addr = 0;

/** Byte offsets of the header fields. */
export const Ipv4Field = {
  VER_IHL: 0, DSCP_ECN: 1, LENGTH: 2, IDENT: 4, FLAGS_FRAG: 6, TTL: 8, PROTOCOL: 9, CHECKSUM: 10, SRC: 12, DST: 16, OPTIONS: 20,
} as const;

export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAG_OFFSET_MASK = 0x1fff;

export function readIpv4(b: Uint8Array, at: number): Ipv4Addr {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function writeIpv4(b: Uint8Array, at: number, addr: Ipv4Addr): void {
  b[at] = addr >>> 24;
  b[at + 1] = addr >>> 16;
  b[at + 2] = addr >>> 8;
  b[at + 3] = addr;
}

/** Dotted quad → address, or undefined when the text is not exactly four decimal octets. */
export function parseIpv4Addr(text: string): Ipv4Addr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = v * 256 + o;
  }
  return v;
}

export function formatIpv4Addr(addr: Ipv4Addr): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Netmask of a prefix length (0..32). */
export function prefixToNetmask(prefix: number): Ipv4Addr {
  return prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

/** Prefix length of a contiguous netmask, or undefined when its ones are not contiguous. */
export function netmaskToPrefix(mask: Ipv4Addr): number | undefined {
  let prefix = 0;
  while (prefix < 32 && (mask & (0x8000_0000 >>> prefix)) !== 0) prefix++;
  return prefixToNetmask(prefix) === mask >>> 0 ? prefix : undefined;
}

export function isMulticastIpv4(addr: Ipv4Addr): boolean {
  return addr >>> 28 === 0xe;
}

/** A checked view of one IPv4 packet. */
export class Ipv4Packet {
  private constructor(readonly buffer: Uint8Array) {}

  static check(buffer: Uint8Array): Ipv4Packet | null {
    if (buffer.length < IPV4_HEADER_LEN) return null;
    const verIhl = buffer[Ipv4Field.VER_IHL]!;
    const headerLen = (verIhl & 0x0f) * 4;
    const totalLen = (buffer[Ipv4Field.LENGTH]! << 8) | buffer[Ipv4Field.LENGTH + 1]!;
    if (verIhl >> 4 !== 4 || headerLen < IPV4_HEADER_LEN || totalLen < headerLen || totalLen > buffer.length) return null;
    return new Ipv4Packet(buffer);
  }

  get headerLen(): number {
    return (this.buffer[Ipv4Field.VER_IHL]! & 0x0f) * 4;
  }
  get dscpEcn(): number {
    return this.buffer[Ipv4Field.DSCP_ECN]!;
  }
  get totalLen(): number {
    return (this.buffer[Ipv4Field.LENGTH]! << 8) | this.buffer[Ipv4Field.LENGTH + 1]!;
  }
  get ident(): number {
    return (this.buffer[Ipv4Field.IDENT]! << 8) | this.buffer[Ipv4Field.IDENT + 1]!;
  }
  private get flagsFrag(): number {
    return (this.buffer[Ipv4Field.FLAGS_FRAG]! << 8) | this.buffer[Ipv4Field.FLAGS_FRAG + 1]!;
  }
  get dontFragment(): boolean {
    return (this.flagsFrag & IPV4_FLAG_DF) !== 0;
  }
  get moreFragments(): boolean {
    return (this.flagsFrag & IPV4_FLAG_MF) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (this.flagsFrag & IPV4_FRAG_OFFSET_MASK) * 8;
  }
  /** A fragment of a larger datagram (MF set or a non-zero offset). */
  get isFragment(): boolean {
    return (this.flagsFrag & (IPV4_FLAG_MF | IPV4_FRAG_OFFSET_MASK)) !== 0;
  }
  get ttl(): number {
    return this.buffer[Ipv4Field.TTL]!;
  }
  get protocol(): number {
    return this.buffer[Ipv4Field.PROTOCOL]!;
  }
  get checksum(): number {
    return (this.buffer[Ipv4Field.CHECKSUM]! << 8) | this.buffer[Ipv4Field.CHECKSUM + 1]!;
  }
  get src(): Ipv4Addr {
    return readIpv4(this.buffer, Ipv4Field.SRC);
  }
  get dst(): Ipv4Addr {
    return readIpv4(this.buffer, Ipv4Field.DST);
  }
  /** The header checksum is right (the header sums to 0). */
  verifyChecksum(): boolean {
    return internetChecksum(this.buffer, 0, this.headerLen) === 0;
  }
  /** The header (with options): what ICMP errors quote, with the first 8 payload bytes. */
  get header(): Uint8Array {
    return this.buffer.subarray(0, this.headerLen);
  }
  /** The payload up to the total length (link-layer padding excluded). */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen, this.totalLen);
  }
}

export interface Ipv4Repr {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  protocol: number;
  payloadLen: number;
  ttl: number;
  /** DSCP and ECN bits (0 unless set). */
  dscpEcn?: number;
  ident?: number;
  /** Set on everything Kiln sends (no fragmentation on the way out). */
  dontFragment?: boolean;
}

/** Repr of an unfragmented packet with a right header checksum, or null. Options are skipped. */
export function parseIpv4(buffer: Uint8Array): Ipv4Repr | null {
  const p = Ipv4Packet.check(buffer);
  if (!p || !p.verifyChecksum() || p.isFragment) return null;
  return {
    src: p.src, dst: p.dst, protocol: p.protocol, payloadLen: p.totalLen - p.headerLen, ttl: p.ttl,
    dscpEcn: p.dscpEcn, ident: p.ident, dontFragment: p.dontFragment,
  };
}

export function ipv4BufferLen(repr: Pick<Ipv4Repr, 'payloadLen'>): number {
  return IPV4_HEADER_LEN + repr.payloadLen;
}

/** Writes a 20-byte header (no options) at buffer[0, 20) with its checksum. */
export function emitIpv4(repr: Ipv4Repr, buffer: Uint8Array): void {
  writeIpv4Header(buffer, 0, repr.src, repr.dst, repr.protocol, repr.payloadLen, repr.ttl, repr.ident ?? 0, repr.dontFragment ?? true, repr.dscpEcn ?? 0);
}

/** emitIpv4 without a repr object, at `at` (the transmit path writes after the Ethernet header). */
export function writeIpv4Header(
  b: Uint8Array, at: number, src: Ipv4Addr, dst: Ipv4Addr, protocol: number, payloadLen: number, ttl: number, ident: number, dontFragment: boolean, dscpEcn = 0,
): void {
  const total = IPV4_HEADER_LEN + payloadLen;
  b[at + Ipv4Field.VER_IHL] = 0x45;
  b[at + Ipv4Field.DSCP_ECN] = dscpEcn;
  b[at + Ipv4Field.LENGTH] = total >>> 8;
  b[at + Ipv4Field.LENGTH + 1] = total;
  b[at + Ipv4Field.IDENT] = ident >>> 8;
  b[at + Ipv4Field.IDENT + 1] = ident;
  b[at + Ipv4Field.FLAGS_FRAG] = dontFragment ? IPV4_FLAG_DF >>> 8 : 0;
  b[at + Ipv4Field.FLAGS_FRAG + 1] = 0;
  b[at + Ipv4Field.TTL] = ttl;
  b[at + Ipv4Field.PROTOCOL] = protocol;
  b[at + Ipv4Field.CHECKSUM] = 0;
  b[at + Ipv4Field.CHECKSUM + 1] = 0;
  writeIpv4(b, at + Ipv4Field.SRC, src);
  writeIpv4(b, at + Ipv4Field.DST, dst);
  const sum = internetChecksum(b, at, at + IPV4_HEADER_LEN);
  b[at + Ipv4Field.CHECKSUM] = sum >>> 8;
  b[at + Ipv4Field.CHECKSUM + 1] = sum;
}
