// Tunables of the TCP layer with their defaults and why, and the counters it keeps. Every
// duration is in milliseconds of the injected clock. A TcpLayer takes a partial override.

export interface TcpConfig {
  /** Receive buffer per connection, advertised with window scaling (RFC 7323 §2). */
  rcvBuf: number;
  /** Send buffer per connection: write() takes at most this many unacknowledged bytes. */
  sndBuf: number;
  /** Maximum segment lifetime; TIME-WAIT lasts 2·MSL. */
  mslMs: number;
  /** RFC 6298 §2.1 initial RTO, and the clamp of every later one. */
  rtoInitialMs: number;
  rtoMinMs: number;
  rtoMaxMs: number;
  /** RFC 6298 §5.7: the RTO once data flows after a SYN or SYN-ACK was retransmitted (no RTT sample). */
  rtoAfterSynTimeoutMs: number;
  /** Retransmissions of a SYN or SYN-ACK before giving up (ETIMEDOUT). */
  synRetries: number;
  /** Retransmissions (or unanswered zero-window probes) of data before giving up (ETIMEDOUT). */
  dataRetries: number;
  /** Longest an ACK is delayed (RFC 9293 §3.8.6.3 allows up to 500 ms). */
  delayedAckMs: number;
  /** How long an orphaned connection (close() called) may wait in FIN-WAIT-2 for the peer's FIN. */
  finWait2TimeoutMs: number;
  /** Keep-alive idle time when setKeepAlive(true) names none, probe interval and probe count. */
  keepAliveIdleMs: number;
  keepAliveIntervalMs: number;
  keepAliveProbes: number;
  /** At most one RFC 5961 challenge ACK per connection per this interval. */
  challengeAckIntervalMs: number;
  /** Half-open (SYN-RECEIVED) connections per listener; a SYN beyond evicts the oldest. */
  synBacklog: number;
  /** SYN-ACK retransmissions while the listener is under pressure (more than synBacklog/2 half-open). */
  synAckRetriesUnderPressure: number;
  /** TIME-WAIT connections per layer; one more ends the oldest TIME-WAIT early. */
  timeWaitMax: number;
  /** Accept-queue length when listen() names none. */
  defaultBacklog: number;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = {
  rcvBuf: 64 * 1024,
  sndBuf: 64 * 1024,
  mslMs: 30_000, // TIME-WAIT 60 s, Linux's TCP_TIMEWAIT_LEN
  rtoInitialMs: 1000, // RFC 6298 §2.1
  rtoMinMs: 200, // Linux's TCP_RTO_MIN (RFC 6298 says 1 s; 200 ms is the deployed practice)
  rtoMaxMs: 60_000, // RFC 6298 §2.5 allows a maximum of at least 60 s
  rtoAfterSynTimeoutMs: 3000, // RFC 6298 §5.7 (Linux's TCP_TIMEOUT_FALLBACK)
  synRetries: 6, // 1+2+4+8+16+32+64 s: gives up after ~127 s, as Linux's tcp_syn_retries
  dataRetries: 12, // from a 200 ms RTO: ~6 min of backed-off retries (Linux's tcp_retries2=15: ~15 min)
  delayedAckMs: 40, // Linux's TCP_DELACK_MIN
  finWait2TimeoutMs: 60_000, // Linux's tcp_fin_timeout
  keepAliveIdleMs: 2 * 3600_000, // RFC 1122 §4.2.3.6: no less than two hours by default
  keepAliveIntervalMs: 75_000, // Linux's tcp_keepalive_intvl
  keepAliveProbes: 9, // Linux's tcp_keepalive_probes
  challengeAckIntervalMs: 500, // per connection, like Linux's tcp_invalid_ratelimit
  synBacklog: 256,
  synAckRetriesUnderPressure: 2, // 1+2+4 s: a spoofed SYN holds its slot ~7 s, not ~127 s (Linux prunes likewise)
  timeWaitMax: 4096, // like a small Linux's tcp_max_tw_buckets; ~1 KiB each once the buffers are released
  defaultBacklog: 128,
};

/** Counters since the layer was created. */
export interface TcpStats {
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
  resetsIn: number;
  resetsOut: number;
  checksumErrors: number;
  /** Segments that failed to parse (bad lengths, data offset or options). */
  malformed: number;
  /** Well-formed segments thrown away: not for a local address, no acceptable sequence number, SYN with a full queue, … */
  dropped: number;
  challengeAcks: number;
  activeOpens: number;
  passiveOpens: number;
  /** Connections given up on (retransmission, persist or keep-alive), each reported as ETIMEDOUT. */
  timeouts: number;
  /** Half-open connections dropped to make room for a new SYN (synBacklog reached). */
  halfOpenEvicted: number;
  /** TIME-WAIT connections ended early to stay within timeWaitMax. */
  timeWaitEvicted: number;
}

export function newTcpStats(): TcpStats {
  return {
    segmentsIn: 0, segmentsOut: 0, retransmits: 0, resetsIn: 0, resetsOut: 0, checksumErrors: 0,
    malformed: 0, dropped: 0, challengeAcks: 0, activeOpens: 0, passiveOpens: 0, timeouts: 0,
    halfOpenEvicted: 0, timeWaitEvicted: 0,
  };
}
