// Ethernet II frames (IEEE 802.3 with an EtherType, no FCS: virtio-net and TAP carry frames
// without it). smoltcp's wire shape: field offsets in one table, a checked view, a plain repr,
// parse/emit/bufferLen. MAC addresses are 48-bit numbers (exact in a double, no BigInt in the
// guest), so the ARP cache and the receive path compare them without allocating.

/** A MAC address as a 48-bit unsigned number: 02:4b:4c:4e:00:01 = 0x024b4c4e0001. */
export type MacAddr = number;

export const ETHERNET_HEADER_LEN = 14;
/** Ethernet header plus one 802.1Q tag: a frame (without FCS) is at most MTU + this. */
export const ETHERNET_MAX_OVERHEAD = 18;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;
export const MAC_BROADCAST: MacAddr = 0xffff_ffff_ffff;

/** Byte offsets of the header fields. */
export const EthernetField = { DST: 0, SRC: 6, ETHERTYPE: 12, PAYLOAD: 14 } as const;

const U32 = 0x1_0000_0000;

export function readMac(b: Uint8Array, at: number): MacAddr {
  return ((b[at]! << 8) | b[at + 1]!) * U32 + (((b[at + 2]! << 24) | (b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!) >>> 0);
}

export function writeMac(b: Uint8Array, at: number, mac: MacAddr): void {
  const hi = Math.floor(mac / U32);
  const lo = mac >>> 0;
  b[at] = hi >>> 8;
  b[at + 1] = hi;
  b[at + 2] = lo >>> 24;
  b[at + 3] = lo >>> 16;
  b[at + 4] = lo >>> 8;
  b[at + 5] = lo;
}

export function macFromBytes(b: Uint8Array): MacAddr {
  if (b.length !== 6) throw new RangeError(`a MAC address has 6 bytes, got ${b.length}`);
  return readMac(b, 0);
}

export function formatMac(mac: MacAddr): string {
  const b = new Uint8Array(6);
  writeMac(b, 0, mac);
  let s = '';
  for (let i = 0; i < 6; i++) s += (i > 0 ? ':' : '') + (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

/** Group (multicast or broadcast) addresses have the I/G bit, the low bit of the first byte. */
export function isMulticastMac(mac: MacAddr): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

/** A checked view of one frame: `check` guarantees the header is there. */
export class EthernetFrame {
  private constructor(readonly buffer: Uint8Array) {}

  static check(buffer: Uint8Array): EthernetFrame | null {
    return buffer.length >= ETHERNET_HEADER_LEN ? new EthernetFrame(buffer) : null;
  }

  get dst(): MacAddr {
    return readMac(this.buffer, EthernetField.DST);
  }
  get src(): MacAddr {
    return readMac(this.buffer, EthernetField.SRC);
  }
  get ethertype(): number {
    return (this.buffer[EthernetField.ETHERTYPE]! << 8) | this.buffer[EthernetField.ETHERTYPE + 1]!;
  }
  get payload(): Uint8Array {
    return this.buffer.subarray(EthernetField.PAYLOAD);
  }
}

export interface EthernetRepr {
  dst: MacAddr;
  src: MacAddr;
  ethertype: number;
}

export function parseEthernet(buffer: Uint8Array): EthernetRepr | null {
  const f = EthernetFrame.check(buffer);
  return f ? { dst: f.dst, src: f.src, ethertype: f.ethertype } : null;
}

/** Header length; the payload follows at ETHERNET_HEADER_LEN. */
export function ethernetBufferLen(payloadLen: number): number {
  return ETHERNET_HEADER_LEN + payloadLen;
}

/** Writes the header into buffer[0, 14). */
export function emitEthernet(repr: EthernetRepr, buffer: Uint8Array): void {
  writeEthernetHeader(buffer, repr.dst, repr.src, repr.ethertype);
}

/** emitEthernet without a repr object (the transmit path). */
export function writeEthernetHeader(buffer: Uint8Array, dst: MacAddr, src: MacAddr, ethertype: number): void {
  writeMac(buffer, EthernetField.DST, dst);
  writeMac(buffer, EthernetField.SRC, src);
  buffer[EthernetField.ETHERTYPE] = ethertype >>> 8;
  buffer[EthernetField.ETHERTYPE + 1] = ethertype;
}
