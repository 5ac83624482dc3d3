// Congestion control: slow start and congestion avoidance (RFC 5681 §3.1), fast retransmit
// and fast recovery with NewReno's partial-ACK handling (RFC 6582 §3.2, "slow-but-steady"
// timer variant). Sequence numbers are u32 (seq.ts); `recover` holds one past the highest
// sequence number sent when recovery started, so "the ACK covers recover" is ack ≥ recover.

import { seqGe } from './seq.ts';

/** cwnd never grows past this (bytes): it is only an upper bound next to the peer's window. */
const CWND_CAP = 0x3fffffff;

export class NewReno {
  cwnd = 0;
  ssthresh = CWND_CAP;
  dupAcks = 0;
  inRecovery = false;
  recover = 0;

  /** RFC 5681 §3.1 initial window; one segment if the SYN or SYN-ACK had to be retransmitted. */
  start(mss: number, iss: number, synRetransmitted: boolean): void {
    this.cwnd = synRetransmitted ? mss : mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss;
    this.recover = iss;
  }

  /**
   * A duplicate ACK (RFC 5681 §2 definition, checked by the caller). Returns true on the third
   * one outside recovery when the cumulative ACK covers `recover`: retransmit now.
   */
  onDupAck(mss: number, ack: number, flight: number, sndMax: number): boolean {
    this.dupAcks++;
    if (this.inRecovery) {
      this.cwnd = Math.min(CWND_CAP, this.cwnd + mss); // inflate: one more segment has left the network
      return false;
    }
    if (this.dupAcks !== 3 || !seqGe(ack, this.recover)) return false;
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.recover = sndMax;
    this.cwnd = this.ssthresh + 3 * mss;
    this.inRecovery = true;
    return true;
  }

  /**
   * An ACK that advanced SND.UNA by `acked` bytes to `ack`; `flight` is what is still
   * outstanding. Returns true for a NewReno partial ACK: retransmit the first unacknowledged
   * segment now.
   */
  onNewAck(mss: number, acked: number, ack: number, flight: number): boolean {
    if (this.inRecovery) {
      if (seqGe(ack, this.recover)) {
        this.cwnd = Math.min(this.ssthresh, Math.max(flight, mss) + mss); // full ACK: deflate
        this.inRecovery = false;
        this.dupAcks = 0;
        return false;
      }
      this.cwnd = Math.max(mss, this.cwnd - acked + (acked >= mss ? mss : 0));
      return true;
    }
    this.dupAcks = 0;
    if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, mss);
    else this.cwnd += Math.max(1, Math.floor((mss * mss) / this.cwnd));
    if (this.cwnd > CWND_CAP) this.cwnd = CWND_CAP;
    return false;
  }

  /** RFC 5681 §3.1 eq. 4 and RFC 6582 §4: a retransmission timeout. */
  onTimeout(mss: number, flight: number, sndMax: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.cwnd = mss;
    this.inRecovery = false;
    this.dupAcks = 0;
    this.recover = sndMax;
  }
}
