// ARP packets (RFC 826) for IPv4 over Ethernet, the only pair Kiln speaks: hardware type 1,
// protocol 0x0800, address lengths 6 and 4. Anything else parses to null. A gratuitous ARP
// (RFC 5227 §3) is a request whose sender and target protocol addresses are both ours.

import { ETHERTYPE_IPV4, readMac, writeMac, type MacAddr } from './ethernet.ts';
import { readIpv4, writeIpv4, type Ipv4Addr } from './ipv4.ts';

export const ARP_LEN = 28;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

/** Byte offsets of the fields. */
export const ArpField = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OPER: 6, SHA: 8, SPA: 14, THA: 18, TPA: 24 } as const;

const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** A checked view of one Ethernet/IPv4 ARP packet. */
export class ArpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  static check(buffer: Uint8Array): ArpPacket | null {
    if (buffer.length < ARP_LEN) return null;
    if (be16(buffer, ArpField.HTYPE) !== ARP_HTYPE_ETHERNET || be16(buffer, ArpField.PTYPE) !== ETHERTYPE_IPV4) return null;
    if (buffer[ArpField.HLEN] !== 6 || buffer[ArpField.PLEN] !== 4) return null;
    return new ArpPacket(buffer);
  }

  get operation(): number {
    return be16(this.buffer, ArpField.OPER);
  }
  get senderMac(): MacAddr {
    return readMac(this.buffer, ArpField.SHA);
  }
  get senderIp(): Ipv4Addr {
    return readIpv4(this.buffer, ArpField.SPA);
  }
  get targetMac(): MacAddr {
    return readMac(this.buffer, ArpField.THA);
  }
  get targetIp(): Ipv4Addr {
    return readIpv4(this.buffer, ArpField.TPA);
  }
}

export interface ArpRepr {
  operation: typeof ARP_OP_REQUEST | typeof ARP_OP_REPLY;
  senderMac: MacAddr;
  senderIp: Ipv4Addr;
  targetMac: MacAddr;
  targetIp: Ipv4Addr;
}

export function parseArp(buffer: Uint8Array): ArpRepr | null {
  const p = ArpPacket.check(buffer);
  if (!p) return null;
  const op = p.operation;
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return null;
  return { operation: op, senderMac: p.senderMac, senderIp: p.senderIp, targetMac: p.targetMac, targetIp: p.targetIp };
}

export function arpBufferLen(): number {
  return ARP_LEN;
}

export function emitArp(repr: ArpRepr, buffer: Uint8Array): void {
  buffer[ArpField.HTYPE] = 0;
  buffer[ArpField.HTYPE + 1] = ARP_HTYPE_ETHERNET;
  buffer[ArpField.PTYPE] = ETHERTYPE_IPV4 >>> 8;
  buffer[ArpField.PTYPE + 1] = ETHERTYPE_IPV4 & 0xff;
  buffer[ArpField.HLEN] = 6;
  buffer[ArpField.PLEN] = 4;
  buffer[ArpField.OPER] = 0;
  buffer[ArpField.OPER + 1] = repr.operation;
  writeMac(buffer, ArpField.SHA, repr.senderMac);
  writeIpv4(buffer, ArpField.SPA, repr.senderIp);
  writeMac(buffer, ArpField.THA, repr.targetMac);
  writeIpv4(buffer, ArpField.TPA, repr.targetIp);
}
