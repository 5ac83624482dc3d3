// Initial sequence numbers per RFC 6528 §3: ISN = M + F(localip, localport, remoteip,
// remoteport, secretkey), M a clock ticking every 4 µs and F the first 32 bits of SHA-256
// over a 16-byte random key followed by the 4-tuple. Guessing the ISN of a connection thus
// needs the key; the clock keeps ISNs for one tuple moving forward between incarnations.
// SHA-256 is noble's, the one WebCrypto's SHA-256 uses too (web/crypto/sha256.ts).

import { sha256 } from '@noble/hashes/sha2.js';
import type { Random } from '../types.ts';

const KEY_BYTES = 16;
/** 4-µs ticks per millisecond. */
const TICKS_PER_MS = 250;

export class IsnGenerator {
  private readonly input = new Uint8Array(KEY_BYTES + 12);

  constructor(random: Random) {
    random(this.input.subarray(0, KEY_BYTES));
  }

  isn(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, nowMs: number): number {
    const b = this.input;
    const o = KEY_BYTES;
    b[o] = localAddr >>> 24; b[o + 1] = localAddr >>> 16; b[o + 2] = localAddr >>> 8; b[o + 3] = localAddr;
    b[o + 4] = remoteAddr >>> 24; b[o + 5] = remoteAddr >>> 16; b[o + 6] = remoteAddr >>> 8; b[o + 7] = remoteAddr;
    b[o + 8] = localPort >>> 8; b[o + 9] = localPort; b[o + 10] = remotePort >>> 8; b[o + 11] = remotePort;
    const h = sha256(b);
    const f = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
    const m = Math.floor(nowMs * TICKS_PER_MS) % 0x1_0000_0000;
    return (f + m) >>> 0;
  }
}
