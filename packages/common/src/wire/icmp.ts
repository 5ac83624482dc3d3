// ICMPv4 messages (RFC 792, RFC 1122 §3.2.2) Kiln sends or understands: echo request/reply,
// destination unreachable (with RFC 1191's next-hop MTU for "fragmentation needed") and time
// exceeded. parse verifies the checksum over the whole message and returns null for other
// types. Error messages quote the offending IP header and the first 8 bytes of its payload.

import { internetChecksum } from './checksum.ts';

export const ICMP_HEADER_LEN = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

/** Destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1). */
export const ICMP_UNREACH_NET = 0;
export const ICMP_UNREACH_HOST = 1;
export const ICMP_UNREACH_PROTOCOL = 2;
export const ICMP_UNREACH_PORT = 3;
export const ICMP_UNREACH_FRAG_NEEDED = 4;

/** What an error message quotes of the datagram that caused it, beyond its IP header. */
export const ICMP_ERROR_QUOTE_PAYLOAD = 8;

/** Byte offsets of the fields (IDENT/SEQ for echo; MTU is the low half of the unused word for code 4). */
export const IcmpField = { TYPE: 0, CODE: 1, CHECKSUM: 2, IDENT: 4, SEQ: 6, NEXT_HOP_MTU: 6, DATA: 8 } as const;

const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** A checked view of one ICMP message (at least the 8-byte header). */
export class IcmpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  static check(buffer: Uint8Array): IcmpPacket | null {
    return buffer.length >= ICMP_HEADER_LEN ? new IcmpPacket(buffer) : null;
  }

  get type(): number {
    return this.buffer[IcmpField.TYPE]!;
  }
  get code(): number {
    return this.buffer[IcmpField.CODE]!;
  }
  get checksum(): number {
    return be16(this.buffer, IcmpField.CHECKSUM);
  }
  get ident(): number {
    return be16(this.buffer, IcmpField.IDENT);
  }
  get seq(): number {
    return be16(this.buffer, IcmpField.SEQ);
  }
  get nextHopMtu(): number {
    return be16(this.buffer, IcmpField.NEXT_HOP_MTU);
  }
  get data(): Uint8Array {
    return this.buffer.subarray(IcmpField.DATA);
  }
  verifyChecksum(): boolean {
    return internetChecksum(this.buffer) === 0;
  }
}

export type IcmpRepr =
  | { type: 'echoRequest' | 'echoReply'; ident: number; seq: number; data: Uint8Array }
  | { type: 'destUnreachable'; code: number; nextHopMtu: number; data: Uint8Array }
  | { type: 'timeExceeded'; code: number; data: Uint8Array };

/** Repr of a message with a right checksum and a type listed above, or null. `data` is a view into `buffer`. */
export function parseIcmp(buffer: Uint8Array): IcmpRepr | null {
  const p = IcmpPacket.check(buffer);
  if (!p || !p.verifyChecksum()) return null;
  switch (p.type) {
    case ICMP_ECHO_REQUEST:
      return p.code === 0 ? { type: 'echoRequest', ident: p.ident, seq: p.seq, data: p.data } : null;
    case ICMP_ECHO_REPLY:
      return p.code === 0 ? { type: 'echoReply', ident: p.ident, seq: p.seq, data: p.data } : null;
    case ICMP_DEST_UNREACHABLE:
      return { type: 'destUnreachable', code: p.code, nextHopMtu: p.code === ICMP_UNREACH_FRAG_NEEDED ? p.nextHopMtu : 0, data: p.data };
    case ICMP_TIME_EXCEEDED:
      return { type: 'timeExceeded', code: p.code, data: p.data };
    default:
      return null;
  }
}

export function icmpBufferLen(repr: IcmpRepr): number {
  return ICMP_HEADER_LEN + repr.data.length;
}

/** Writes the message into buffer[0, icmpBufferLen(repr)) with its checksum. */
export function emitIcmp(repr: IcmpRepr, buffer: Uint8Array): void {
  const b = buffer;
  let type: number;
  let code = 0;
  let rest = 0; // the second 32-bit word
  switch (repr.type) {
    case 'echoRequest':
    case 'echoReply':
      type = repr.type === 'echoRequest' ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY;
      rest = repr.ident * 0x10000 + repr.seq;
      break;
    case 'destUnreachable':
      type = ICMP_DEST_UNREACHABLE;
      code = repr.code;
      rest = repr.code === ICMP_UNREACH_FRAG_NEEDED ? repr.nextHopMtu : 0;
      break;
    case 'timeExceeded':
      type = ICMP_TIME_EXCEEDED;
      code = repr.code;
      break;
  }
  b[IcmpField.TYPE] = type;
  b[IcmpField.CODE] = code;
  b[IcmpField.CHECKSUM] = 0;
  b[IcmpField.CHECKSUM + 1] = 0;
  b[4] = rest >>> 24;
  b[5] = rest >>> 16;
  b[6] = rest >>> 8;
  b[7] = rest;
  b.set(repr.data, IcmpField.DATA);
  const end = ICMP_HEADER_LEN + repr.data.length;
  const sum = internetChecksum(b, 0, end);
  b[IcmpField.CHECKSUM] = sum >>> 8;
  b[IcmpField.CHECKSUM + 1] = sum;
}
