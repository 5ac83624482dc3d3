// Retransmission timeout estimation (RFC 6298): SRTT/RTTVAR from one timed segment at a time
// (the caller applies Karn's rule: no samples from retransmitted segments), RTO clamped to
// [min, max], doubled on each expiry, and kept backed off until a fresh sample arrives.

/** RFC 6298 §2: K = 4, alpha = 1/8, beta = 1/4; G is our clock granularity (1 ms). */
const K = 4;
const GRANULARITY_MS = 1;

export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  rto: number;
  private sampledOnce = false;

  constructor(initialMs: number, private readonly minMs: number, private readonly maxMs: number) {
    this.rto = initialMs;
  }

  /** A round-trip measurement in milliseconds. */
  sample(rttMs: number): void {
    if (!this.sampledOnce) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      this.sampledOnce = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.rto = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + Math.max(GRANULARITY_MS, K * this.rttvar)));
  }

  /** Whether any round trip was measured yet. */
  get sampled(): boolean {
    return this.sampledOnce;
  }

  /** §5.7: a SYN timed out and no sample came since: data starts with RTO = `ms`, not the backed-off value. */
  restart(ms: number): void {
    if (!this.sampledOnce) this.rto = Math.min(this.maxMs, Math.max(this.minMs, ms));
  }

  /** §5.5: the timer expired; RTO = RTO * 2, up to the maximum. */
  backOff(): void {
    this.rto = Math.min(this.maxMs, this.rto * 2);
  }
}
