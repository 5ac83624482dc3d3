// TCP segment wire format (RFC 9293 §3.1) with the options Kiln's stack reads or writes: MSS
// (§3.7.1), window scale (RFC 7323 §2), SACK-permitted (RFC 2018; parsed and emitted, the
// stack does not negotiate it) and timestamps (RFC 7323 §3; parsed, ignored by the stack).
// smoltcp's shape: `TcpPacket.checked` is a view whose accessors cannot read out of bounds
// once the header length was checked; `parseTcp` turns it into a plain `TcpRepr`, or a typed
// error string for anything malformed (it never throws); `emitTcp` writes a repr back.
// The checksum covers the IPv4 pseudo-header (checksum.ts). Sequence numbers are u32 numbers.

import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.ts';

export const IP_PROTOCOL_TCP = 6;

// Header field offsets (RFC 9293 §3.1, Figure 1).
export const TCP_SRC_PORT = 0;
export const TCP_DST_PORT = 2;
export const TCP_SEQ = 4;
export const TCP_ACK = 8;
export const TCP_DATA_OFFSET = 12; // high nibble: header length in 32-bit words
export const TCP_FLAGS = 13;
export const TCP_WINDOW = 14;
export const TCP_CHECKSUM = 16;
export const TCP_URGENT = 18;
export const TCP_OPTIONS = 20;
/** Header without options. */
export const TCP_HEADER_MIN = 20;
/** Data offset is 4 bits of 32-bit words. */
export const TCP_HEADER_MAX = 60;

// Control bits (byte 13).
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK_FLAG = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

// Option kinds (IANA "TCP Option Kind Numbers").
export const TCP_OPT_END = 0;
export const TCP_OPT_NOP = 1;
export const TCP_OPT_MSS = 2;
export const TCP_OPT_WINDOW_SCALE = 3;
export const TCP_OPT_SACK_PERMITTED = 4;
export const TCP_OPT_SACK = 5;
export const TCP_OPT_TIMESTAMPS = 8;
/** RFC 7323 §2.3: a shift above 14 is treated as 14. */
export const TCP_MAX_WINDOW_SHIFT = 14;

export type TcpWireError =
  | 'truncated' // shorter than 20 bytes or than its data offset
  | 'bad-data-offset' // data offset below 5 words
  | 'bad-option' // an option runs past the header, has length < 2, or a known kind has the wrong length
  | 'bad-checksum';

/** A decoded segment. `payload` is a view into the parsed bytes (no copy). */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Control bits, TCP_FIN | TCP_SYN | … */
  flags: number;
  /** The raw 16-bit window field (unscaled). */
  window: number;
  urgent: number;
  /** MSS option value, 0 when absent. */
  mss: number;
  /** Window scale shift (0..14), -1 when absent. */
  windowScale: number;
  sackPermitted: boolean;
  /** Timestamps option present: tsVal/tsEcr are meaningful. */
  timestamp: boolean;
  tsVal: number;
  tsEcr: number;
  payload: Uint8Array;
}

/** A repr with every field zero/absent (fill in what a segment needs). */
export function tcpRepr(fields: Partial<TcpRepr> = {}): TcpRepr {
  return {
    srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, urgent: 0,
    mss: 0, windowScale: -1, sackPermitted: false, timestamp: false, tsVal: 0, tsEcr: 0,
    payload: EMPTY, ...fields,
  };
}

const EMPTY = new Uint8Array(0);

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** A TCP segment whose header length was checked against the buffer: accessors stay in bounds. */
export class TcpPacket {
  private constructor(readonly bytes: Uint8Array, readonly headerLen: number) {}

  /** The view, or why `bytes` cannot be a TCP segment (options and checksum are not checked here). */
  static checked(bytes: Uint8Array): TcpPacket | TcpWireError {
    if (bytes.length < TCP_HEADER_MIN) return 'truncated';
    const headerLen = (bytes[TCP_DATA_OFFSET]! >>> 4) * 4;
    if (headerLen < TCP_HEADER_MIN) return 'bad-data-offset';
    if (headerLen > bytes.length) return 'truncated';
    return new TcpPacket(bytes, headerLen);
  }

  get srcPort(): number { return u16(this.bytes, TCP_SRC_PORT); }
  get dstPort(): number { return u16(this.bytes, TCP_DST_PORT); }
  get seq(): number { return u32(this.bytes, TCP_SEQ); }
  get ack(): number { return u32(this.bytes, TCP_ACK); }
  get flags(): number { return this.bytes[TCP_FLAGS]!; }
  get window(): number { return u16(this.bytes, TCP_WINDOW); }
  get checksum(): number { return u16(this.bytes, TCP_CHECKSUM); }
  get urgent(): number { return u16(this.bytes, TCP_URGENT); }
  get options(): Uint8Array { return this.bytes.subarray(TCP_OPTIONS, this.headerLen); }
  get payload(): Uint8Array { return this.bytes.subarray(this.headerLen); }

  /** True if the checksum over the pseudo-header of src/dst and the whole segment is right. */
  checksumOk(src: number, dst: number): boolean {
    const b = this.bytes;
    return finishChecksum(sumWords(b, 0, b.length, pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, b.length))) === 0;
  }
}

/**
 * Decodes a checked segment into `out` (a fresh repr when omitted). The checksum is verified
 * against src/dst unless `verifyChecksum` is false (a device that validated it already).
 */
export function parseTcp(packet: TcpPacket, src: number, dst: number, out: TcpRepr = tcpRepr(), verifyChecksum = true): TcpRepr | TcpWireError {
  if (verifyChecksum && !packet.checksumOk(src, dst)) return 'bad-checksum';
  const b = packet.bytes;
  out.mss = 0;
  out.windowScale = -1;
  out.sackPermitted = false;
  out.timestamp = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  const end = packet.headerLen;
  let i = TCP_OPTIONS;
  while (i < end) {
    const kind = b[i]!;
    if (kind === TCP_OPT_END) break;
    if (kind === TCP_OPT_NOP) { i++; continue; }
    if (i + 1 >= end) return 'bad-option';
    const len = b[i + 1]!;
    if (len < 2 || i + len > end) return 'bad-option';
    switch (kind) {
      case TCP_OPT_MSS:
        if (len !== 4) return 'bad-option';
        out.mss = u16(b, i + 2);
        break;
      case TCP_OPT_WINDOW_SCALE:
        if (len !== 3) return 'bad-option';
        out.windowScale = Math.min(b[i + 2]!, TCP_MAX_WINDOW_SHIFT);
        break;
      case TCP_OPT_SACK_PERMITTED:
        if (len !== 2) return 'bad-option';
        out.sackPermitted = true;
        break;
      case TCP_OPT_SACK:
        if ((len - 2) % 8 !== 0 || len === 2) return 'bad-option';
        break;
      case TCP_OPT_TIMESTAMPS:
        if (len !== 10) return 'bad-option';
        out.timestamp = true;
        out.tsVal = u32(b, i + 2);
        out.tsEcr = u32(b, i + 6);
        break;
      default:
        break; // unknown options are skipped (RFC 9293 §3.1)
    }
    i += len;
  }
  out.srcPort = u16(b, TCP_SRC_PORT);
  out.dstPort = u16(b, TCP_DST_PORT);
  out.seq = u32(b, TCP_SEQ);
  out.ack = u32(b, TCP_ACK);
  out.flags = b[TCP_FLAGS]!;
  out.window = u16(b, TCP_WINDOW);
  out.urgent = u16(b, TCP_URGENT);
  out.payload = b.subarray(end);
  return out;
}

/** Bytes of header the options of `repr` need: each option is padded with NOPs to 4 bytes. */
export function tcpHeaderLen(repr: TcpRepr): number {
  let n = TCP_HEADER_MIN;
  if (repr.mss !== 0) n += 4;
  if (repr.windowScale >= 0) n += 4;
  if (repr.sackPermitted) n += 4;
  if (repr.timestamp) n += 12;
  return n;
}

/** Bytes emitTcp writes for `repr`. */
export function tcpBufferLen(repr: TcpRepr): number {
  return tcpHeaderLen(repr) + repr.payload.length;
}

/**
 * Writes the header and options of `repr` into buf[0, tcpHeaderLen) and the checksum over
 * buf[0, tcpHeaderLen + payloadLen), whose payload part the caller has already filled in
 * (the send path copies from its ring straight into the segment). `repr.payload` is not read.
 * Returns the segment length.
 */
export function emitTcpHeader(repr: TcpRepr, payloadLen: number, buf: Uint8Array, src: number, dst: number): number {
  const headerLen = tcpHeaderLen(repr);
  put16(buf, TCP_SRC_PORT, repr.srcPort);
  put16(buf, TCP_DST_PORT, repr.dstPort);
  put32(buf, TCP_SEQ, repr.seq);
  put32(buf, TCP_ACK, repr.ack);
  buf[TCP_DATA_OFFSET] = (headerLen / 4) << 4;
  buf[TCP_FLAGS] = repr.flags;
  put16(buf, TCP_WINDOW, repr.window);
  put16(buf, TCP_CHECKSUM, 0);
  put16(buf, TCP_URGENT, repr.urgent);
  let i = TCP_OPTIONS;
  if (repr.mss !== 0) {
    buf[i] = TCP_OPT_MSS; buf[i + 1] = 4; put16(buf, i + 2, repr.mss);
    i += 4;
  }
  if (repr.windowScale >= 0) {
    buf[i] = TCP_OPT_NOP; buf[i + 1] = TCP_OPT_WINDOW_SCALE; buf[i + 2] = 3; buf[i + 3] = repr.windowScale;
    i += 4;
  }
  if (repr.sackPermitted) {
    buf[i] = TCP_OPT_NOP; buf[i + 1] = TCP_OPT_NOP; buf[i + 2] = TCP_OPT_SACK_PERMITTED; buf[i + 3] = 2;
    i += 4;
  }
  if (repr.timestamp) {
    buf[i] = TCP_OPT_NOP; buf[i + 1] = TCP_OPT_NOP; buf[i + 2] = TCP_OPT_TIMESTAMPS; buf[i + 3] = 10;
    put32(buf, i + 4, repr.tsVal); put32(buf, i + 8, repr.tsEcr);
    i += 12;
  }
  const length = headerLen + payloadLen;
  put16(buf, TCP_CHECKSUM, finishChecksum(sumWords(buf, 0, length, pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, length))));
  return length;
}

/** Writes `repr` (header, options, payload, checksum) into buf, which has tcpBufferLen(repr) bytes or more. Returns the length. */
export function emitTcp(repr: TcpRepr, buf: Uint8Array, src: number, dst: number): number {
  buf.set(repr.payload, tcpHeaderLen(repr));
  return emitTcpHeader(repr, repr.payload.length, buf, src, dst);
}
