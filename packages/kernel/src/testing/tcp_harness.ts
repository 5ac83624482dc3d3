// A TCP layer under test with a fake clock and a capturing TcpLower, driven one segment at a
// time: `feed('SA seq=0 ack=1 win=1000')` delivers a segment from the peer and returns the
// replies the layer sent, formatted the same way (tcpdump-style relative numbers: our
// sequence numbers count from our ISN, the peer's from its ISN). Also a seeded PRNG for
// deterministic `random` and the simulation. Pure TS (no Node APIs).

import { TCP_ACK_FLAG, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpPacket, emitTcp, parseTcp, tcpBufferLen, tcpRepr, type TcpRepr } from '@kiln/common/wire/tcp.ts';
import type { TcpConfig } from '../net/tcp/config.ts';
import { TcpLayer } from '../net/tcp/layer.ts';
import type { TcpLower } from '../net/types.ts';

export const LOCAL_ADDR = 0x0a000001; // 10.0.0.1: the layer under test
export const PEER_ADDR = 0x0a000002; // 10.0.0.2: the segments the test writes
export const PEER_PORT = 40000;
/** The peer's ISN, close to the 2^32 wrap so every test crosses it. */
export const PEER_ISS = 0xfffffff0;

/** xorshift32: a small seeded generator for deterministic tests and simulations. */
export class SeededRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** A uniformly distributed u32. */
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 0x1_0000_0000;
  }
  fill = (bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.u32() & 0xff;
  };
}

export interface SentSegment {
  src: number;
  dst: number;
  bytes: Uint8Array;
}

/** A TcpLower that records every segment. */
export class CapturingLower implements TcpLower {
  sent: SentSegment[] = [];
  constructor(private readonly localAddr: number, private readonly mss = 1460) {}
  sendSegment(src: number, dst: number, segment: Uint8Array): void {
    this.sent.push({ src, dst, bytes: segment });
  }
  mssFor(): number {
    return this.mss;
  }
  isLocalAddr(addr: number): boolean {
    return addr === this.localAddr;
  }
}

const FLAG_LETTERS: [number, string][] = [[TCP_SYN, 'S'], [TCP_ACK_FLAG, 'A'], [TCP_FIN, 'F'], [TCP_RST, 'R'], [TCP_PSH, 'P']];

export class TcpHarness {
  clock = 0;
  readonly lower: CapturingLower;
  readonly layer: TcpLayer;
  /** Our ISN, learned from the first SYN the layer sends (0 until then). */
  ourIss = 0;
  /** The port the peer's segments go to (a listener's port, or the ephemeral port of connect()). */
  localPort = 80;

  constructor(config: Partial<TcpConfig> = {}, mss = 1460) {
    this.lower = new CapturingLower(LOCAL_ADDR, mss);
    this.layer = new TcpLayer({ lower: this.lower, random: new SeededRandom(1).fill, now: () => this.clock, config });
  }

  /** Delivers one segment from the peer; returns the replies. */
  feed(spec: string): string[] {
    this.deliver(spec);
    return this.replies();
  }

  /** Delivers one segment from the peer; returns the replies parsed. */
  feedRaw(spec: string): TcpRepr[] {
    this.deliver(spec);
    return this.takeRaw();
  }

  private deliver(spec: string): void {
    const r = this.parseSpec(spec);
    const buf = new Uint8Array(tcpBufferLen(r));
    emitTcp(r, buf, PEER_ADDR, LOCAL_ADDR);
    this.layer.input(PEER_ADDR, LOCAL_ADDR, buf);
  }

  /** Moves the clock by `ms`, polls, and returns the replies. */
  advance(ms: number): string[] {
    this.clock += ms;
    this.layer.poll();
    return this.replies();
  }

  /** The segments sent since the last call, formatted. */
  replies(): string[] {
    const out = this.lower.sent.map((s) => this.format(s));
    this.lower.sent = [];
    return out;
  }

  /** The last segments sent, parsed (for payload checks). */
  takeRaw(): TcpRepr[] {
    const out = this.lower.sent.map((s) => this.parse(s));
    this.lower.sent = [];
    return out;
  }

  private parse(s: SentSegment): TcpRepr {
    const p = TcpPacket.checked(s.bytes);
    if (typeof p === 'string') throw new Error(`layer sent a bad segment: ${p}`);
    const r = parseTcp(p, s.src, s.dst);
    if (typeof r === 'string') throw new Error(`layer sent a bad segment: ${r}`);
    return r;
  }

  private format(s: SentSegment): string {
    const r = this.parse(s);
    if (r.flags & TCP_SYN && this.ourIss === 0) this.ourIss = r.seq;
    let f = '';
    for (const [bit, letter] of FLAG_LETTERS) if (r.flags & bit) f += letter;
    if (r.dstPort !== PEER_PORT) return `${f} to ${r.dstPort}`; // another connection: its numbers are not relative to ours
    let out = `${f} seq=${(r.seq - this.ourIss) | 0}`;
    if (r.flags & TCP_ACK_FLAG) out += ` ack=${(r.ack - PEER_ISS) | 0}`;
    out += ` win=${r.window}`;
    if (r.payload.length) out += ` len=${r.payload.length}`;
    if (r.mss) out += ` mss=${r.mss}`;
    if (r.windowScale >= 0) out += ` ws=${r.windowScale}`;
    return out;
  }

  /**
   * "FLAGS key=value …": seq/ack relative to the peer's/our ISN (rawack: absolute); len=N (N
   * pattern bytes) or data=text; win, mss, ws; port/sport override the destination/source port.
   */
  private parseSpec(spec: string): TcpRepr {
    const [flags, ...fields] = spec.trim().split(/\s+/);
    const r = tcpRepr({ srcPort: PEER_PORT, dstPort: this.localPort, seq: PEER_ISS, window: 65535 });
    for (const [bit, letter] of FLAG_LETTERS) if (flags!.includes(letter)) r.flags |= bit;
    for (const field of fields) {
      const [key, value] = field.split('=') as [string, string];
      const n = Number(value);
      switch (key) {
        case 'seq': r.seq = (PEER_ISS + n) >>> 0; break;
        case 'ack': r.ack = (this.ourIss + n) >>> 0; break;
        case 'win': r.window = n; break;
        case 'mss': r.mss = n; break;
        case 'ws': r.windowScale = n; break;
        case 'len': r.payload = pattern(n); break;
        case 'data': r.payload = Uint8Array.from(value, (c) => c.charCodeAt(0)); break;
        case 'rawack': r.ack = n >>> 0; break;
        case 'port': r.dstPort = n; break;
        case 'sport': r.srcPort = n; break;
        default: throw new Error(`unknown field ${key}`);
      }
    }
    return r;
  }
}

/** n bytes of a recognisable pattern. */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}
