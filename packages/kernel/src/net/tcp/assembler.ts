// Out-of-order bookkeeping for the receive side (smoltcp's Assembler): the sequence ranges
// received beyond RCV.NXT, as sorted, disjoint [start, end) pairs. The bytes themselves sit in
// the receive ring at their final offsets; this only remembers which are there. At most
// MAX_RANGES holes are tracked: a segment that would need more is not stored (the peer
// retransmits it), which bounds the work per segment.

import { seqGe, seqGt, seqLe, seqLt, seqMax } from './seq.ts';

const MAX_RANGES = 8;

export class Assembler {
  /** starts[i], ends[i]: the i-th range, in ascending sequence order. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  get isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /** Records [start, end); false if that would need more than MAX_RANGES ranges (not recorded). */
  add(start: number, end: number): boolean {
    const s = this.starts, e = this.ends;
    let i = 0;
    while (i < s.length && seqLt(e[i]!, start)) i++; // first range that ends at or after start
    let j = i;
    while (j < s.length && seqLe(s[j]!, end)) j++; // ranges i..j-1 touch [start, end)
    if (i === j) {
      if (s.length >= MAX_RANGES) return false;
      s.splice(i, 0, start);
      e.splice(i, 0, end);
      return true;
    }
    const mergedStart = seqLt(s[i]!, start) ? s[i]! : start;
    const mergedEnd = seqMax(e[j - 1]!, end);
    s.splice(i, j - i, mergedStart);
    e.splice(i, j - i, mergedEnd);
    return true;
  }

  /** With everything before `next` received: removes the ranges that now join it and returns the new contiguous end. */
  advance(next: number): number {
    const s = this.starts, e = this.ends;
    let k = 0;
    while (k < s.length && seqLe(s[k]!, next)) {
      if (seqGt(e[k]!, next)) next = e[k]!;
      k++;
    }
    if (k > 0) {
      s.splice(0, k);
      e.splice(0, k);
    }
    return next;
  }

  /** True if [start, end) is entirely recorded already. */
  contains(start: number, end: number): boolean {
    for (let i = 0; i < this.starts.length; i++) {
      if (seqLe(this.starts[i]!, start) && seqGe(this.ends[i]!, end)) return true;
    }
    return false;
  }

  clear(): void {
    this.starts.length = 0;
    this.ends.length = 0;
  }
}
