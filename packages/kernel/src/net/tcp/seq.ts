// 32-bit TCP sequence-number arithmetic (RFC 9293 §3.4) on plain numbers: values are kept as
// unsigned 32-bit (`>>> 0`) and compared through the signed 32-bit difference, which is right
// as long as the two numbers are less than 2^31 apart (windows are at most 2^30, RFC 7323 §2.3).

/** a + n modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The signed distance a - b (negative when a is "before" b). */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of a and b. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}
