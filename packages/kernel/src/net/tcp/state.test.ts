// State-machine tests of the TCP layer, named <state>_<event>_<variant>: each feeds one
// segment (or moves the fake clock) and asserts exactly the segments sent in reply, in
// tcpdump-style relative numbers (testing/tcp_harness.ts). The peer's ISN sits just below
// 2^32, so every test also crosses the sequence-number wrap.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LOCAL_ADDR, PEER_ADDR, PEER_ISS, PEER_PORT, TcpHarness, pattern } from '../../testing/tcp_harness.ts';
import type { TcpSocket } from '../types.ts';
import type { TcpConfig } from './config.ts';

function record(sock: TcpSocket): string[] {
  const log: string[] = [];
  sock.events = {
    onConnected: () => log.push('connected'),
    onReadable: () => log.push('readable'),
    onWritable: () => log.push('writable'),
    onClosed: (e) => log.push(e ? `closed ${e.code}` : 'closed'),
  };
  return log;
}

/** A connection accepted on port 80 (peer: MSS 1460, window scale 0, window 65535). */
function passive(config: Partial<TcpConfig> = {}) {
  const h = new TcpHarness(config);
  const listener = h.layer.listen({ addr: 0, port: 80 });
  const synAck = h.feed('S seq=0 mss=1460 ws=0');
  if (Object.keys(config).length === 0) assert.deepEqual(synAck, ['SA seq=0 ack=1 win=65535 mss=1460 ws=1']);
  assert.deepEqual(h.feed('A seq=1 ack=1'), []);
  const sock = listener.accept()!;
  assert.equal(sock.state, 'ESTABLISHED');
  return { h, listener, sock, log: record(sock) };
}

/** A connection opened by connect() (peer: MSS 1460, window scale 0, window 65535). */
function active(config: Partial<TcpConfig> = {}) {
  const h = new TcpHarness(config);
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  const log = record(sock);
  h.localPort = sock.local.port;
  assert.deepEqual(h.replies(), ['S seq=0 win=65535 mss=1460 ws=1']);
  assert.deepEqual(h.feed('SA seq=0 ack=1 mss=1460 ws=0'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.state, 'ESTABLISHED');
  assert.deepEqual(log.splice(0), ['connected']);
  return { h, sock, log };
}

function text(sock: TcpSocket): string {
  const buf = new Uint8Array(4096);
  const n = sock.read(buf);
  return n < 0 ? '<eof>' : String.fromCharCode(...buf.subarray(0, n));
}

// ───────────── CLOSED (no connection, no listener) ─────────────

test('closed_syn_rst_ack', () => {
  const h = new TcpHarness();
  assert.deepEqual(h.feed('S seq=0 port=81'), ['AR seq=0 ack=1 win=0']);
});

test('closed_ack_rst_from_their_ack', () => {
  const h = new TcpHarness();
  assert.deepEqual(h.feed('A seq=0 ack=5 port=81'), ['R seq=5 win=0']);
});

test('closed_data_fin_rst_acks_everything', () => {
  const h = new TcpHarness();
  assert.deepEqual(h.feed('PF seq=0 len=10 port=81'), ['AR seq=0 ack=11 win=0']);
});

test('closed_rst_no_reply', () => {
  const h = new TcpHarness();
  assert.deepEqual(h.feed('R seq=0 port=81'), []);
  assert.equal(h.layer.stats().resetsOut, 0);
});

test('closed_bad_checksum_counted_no_reply', () => {
  const h = new TcpHarness();
  const seg = new Uint8Array(20);
  seg[12] = 0x50;
  seg[13] = 0x02;
  h.layer.input(PEER_ADDR, LOCAL_ADDR, seg);
  assert.deepEqual(h.replies(), []);
  assert.equal(h.layer.stats().checksumErrors, 1);
});

// ───────────── LISTEN ─────────────

test('listen_syn_synack_with_mss_and_window_scale', () => {
  const h = new TcpHarness();
  h.layer.listen({ addr: 0, port: 80 });
  assert.deepEqual(h.feed('S seq=0 mss=1000 ws=7'), ['SA seq=0 ack=1 win=65535 mss=1460 ws=1']);
});

test('listen_syn_without_window_scale_not_negotiated', () => {
  const h = new TcpHarness();
  const listener = h.layer.listen({ addr: 0, port: 80 });
  assert.deepEqual(h.feed('S seq=0 mss=1460 win=500'), ['SA seq=0 ack=1 win=65535 mss=1460']);
  h.feed('A seq=1 ack=1 win=500');
  const sock = listener.accept()!;
  // The peer's window is taken unscaled: 500 bytes go out of a 2000-byte write.
  sock.setNoDelay(true);
  assert.equal(sock.write(pattern(2000)), 2000);
  assert.deepEqual(h.replies(), ['A seq=1 ack=1 win=65535 len=500']);
});

test('listen_ack_rst', () => {
  const h = new TcpHarness();
  h.layer.listen({ addr: 0, port: 80 });
  assert.deepEqual(h.feed('A seq=0 ack=77'), ['R seq=77 win=0']);
});

test('listen_rst_ignored', () => {
  const h = new TcpHarness();
  h.layer.listen({ addr: 0, port: 80 });
  assert.deepEqual(h.feed('R seq=0'), []);
});

test('listen_syn_queue_full_evicts_the_oldest_half_open', () => {
  const h = new TcpHarness({ synBacklog: 2 });
  const listener = h.layer.listen({ addr: 0, port: 80 }, 1);
  const [first] = h.feedRaw('S seq=0 sport=40001');
  assert.deepEqual(h.feed('S seq=0 sport=40002'), ['SA to 40002']);
  // SYN queue full: the oldest half-open (40001) goes, quietly (its source may be spoofed).
  assert.deepEqual(h.feed('S seq=0 sport=40003'), ['SA to 40003']);
  assert.equal(h.layer.stats().halfOpenEvicted, 1);
  assert.equal(h.layer.stats().passiveOpens, 3);
  assert.deepEqual(h.feed(`A seq=1 rawack=${first!.seq + 1} sport=40001`), ['R to 40001']); // forgotten
  // The second handshake completes into the accept queue (backlog 1)...
  const [second] = h.feedRaw('S seq=0 sport=40002'); // a retransmitted SYN gets the SYN-ACK (and its ISN) again
  assert.deepEqual(h.feed(`A seq=1 rawack=${second!.seq + 1} sport=40002`), []);
  let acceptable = 0;
  listener.onAcceptable = () => acceptable++;
  // ...and while it is full, a new SYN is dropped and a completing ACK is ignored.
  assert.deepEqual(h.feed('S seq=0 sport=40004'), []);
  const [third] = h.feedRaw('S seq=0 sport=40003');
  assert.deepEqual(h.feed(`A seq=1 rawack=${third!.seq + 1} sport=40003`), []);
  assert.equal(acceptable, 0);
  assert.ok(listener.accept());
  assert.equal(listener.accept(), undefined);
  // Room again: the peer's next ACK completes the third handshake.
  assert.deepEqual(h.feed(`A seq=1 rawack=${third!.seq + 1} sport=40003`), []);
  assert.equal(acceptable, 1);
  assert.equal(listener.accept()!.state, 'ESTABLISHED');
});

test('listen_syn_flood_real_clients_still_connect', () => {
  // 100 spoofed SYNs a second for 5 minutes (the attack was 2 a second): never completed,
  // they fill the 256-entry SYN queue over and over; a real client every 10 s, 10 ms away, gets in.
  // Eviction protects a client while the flood sends fewer than 256 SYNs per round trip.
  const h = new TcpHarness();
  const listener = h.layer.listen({ addr: 0, port: 80 });
  let spoofed = 0;
  const accepted: TcpSocket[] = [];
  for (let second = 0; second < 300; second++) {
    for (let i = 0; i < 100; i++) {
      h.feed(`S seq=0 sport=${1024 + (spoofed++ % 30000)}`);
      h.advance(10);
    }
    if (second % 10 === 0) {
      const sport = 40000 + second;
      const [synAck] = h.feedRaw(`S seq=0 sport=${sport}`);
      assert.equal(synAck!.dstPort, sport);
      h.advance(10);
      h.feed(`A seq=1 rawack=${synAck!.seq + 1} sport=${sport}`);
      const conn = listener.accept();
      assert.ok(conn, `second ${second}: the real client's handshake did not complete`);
      assert.equal(conn.remote.port, sport);
      accepted.push(conn);
    }
  }
  assert.equal(accepted.length, 30);
  assert.ok(h.layer.stats().halfOpenEvicted >= spoofed - 256);
  for (const conn of accepted) conn.abort();
  for (let i = 0; i < 200; i++) h.advance(1000); // what the flood left behind times out: nothing is kept
  assert.equal(h.layer.nextDeadline(), undefined);
});

test('listen_syn_queue_under_pressure_fewer_synack_retransmissions', () => {
  // synBacklog 4: with 3 half-open (more than half) each SYN-ACK is retransmitted twice, not 6 times.
  const h = new TcpHarness({ synBacklog: 4 });
  h.layer.listen({ addr: 0, port: 80 });
  for (const sport of [40001, 40002, 40003]) h.feed(`S seq=0 sport=${sport}`);
  const three = ['SA to 40001', 'SA to 40002', 'SA to 40003'];
  assert.deepEqual(h.advance(1000).sort(), three);
  assert.deepEqual(h.advance(2000).sort(), three);
  assert.deepEqual(h.advance(4000), []); // given up: the queue is empty again
  assert.equal(h.layer.stats().timeouts, 3);
  // Without pressure (2 of 4) the full synRetries apply.
  for (const sport of [40001, 40002]) h.feed(`S seq=0 sport=${sport}`);
  assert.deepEqual(h.advance(1000).sort(), three.slice(0, 2));
  assert.deepEqual(h.advance(2000).sort(), three.slice(0, 2));
  assert.deepEqual(h.advance(4000).sort(), three.slice(0, 2));
});

test('listen_close_resets_queued_connections', () => {
  const h = new TcpHarness();
  const listener = h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0');
  h.feed('A seq=1 ack=1');
  h.feed('S seq=0 sport=40001');
  h.replies();
  listener.close();
  assert.deepEqual(h.replies().sort(), ['AR seq=1 ack=1 win=0', 'AR to 40001']);
  assert.deepEqual(h.feed('A seq=1 ack=1'), ['R seq=1 win=0']); // closed port now
});

test('listen_port_in_use_eaddrinuse', () => {
  const h = new TcpHarness();
  h.layer.listen({ addr: 0, port: 80 });
  assert.throws(() => h.layer.listen({ addr: LOCAL_ADDR, port: 80 }), { code: 'EADDRINUSE' });
  assert.throws(() => h.layer.listen({ addr: 0x01020304, port: 81 }), { code: 'EADDRNOTAVAIL' });
  const any = h.layer.listen({ addr: 0, port: 0 });
  assert.ok(any.local.port >= 49152);
});

// ───────────── SYN-SENT ─────────────

test('synsent_synack_established_ack_and_connected', () => {
  active();
});

test('synsent_synack_without_window_scale_unscaled_window', () => {
  const h = new TcpHarness();
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  h.localPort = sock.local.port;
  h.replies();
  assert.deepEqual(h.feed('SA seq=0 ack=1 mss=1460'), ['A seq=1 ack=1 win=65535']);
});

test('synsent_syn_simultaneous_open', () => {
  const h = new TcpHarness();
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  const log = record(sock);
  h.localPort = sock.local.port;
  h.replies();
  assert.deepEqual(h.feed('S seq=0 mss=1460 ws=0'), ['SA seq=0 ack=1 win=65535 mss=1460 ws=1']);
  assert.equal(sock.state, 'SYN-RECEIVED');
  assert.deepEqual(h.feed('SA seq=0 ack=1 mss=1460 ws=0'), []);
  assert.equal(sock.state, 'ESTABLISHED');
  assert.deepEqual(log, ['connected']);
  sock.write(Uint8Array.from([1, 2, 3]));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=1 win=32768 len=3']);
});

test('synsent_rst_ack_refused', () => {
  const h = new TcpHarness();
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  const log = record(sock);
  h.localPort = sock.local.port;
  h.replies();
  assert.deepEqual(h.feed('AR seq=0 ack=1'), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['closed ECONNREFUSED']);
});

test('synsent_rst_with_wrong_ack_ignored', () => {
  const h = new TcpHarness();
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  h.localPort = sock.local.port;
  h.replies();
  assert.deepEqual(h.feed('AR seq=0 ack=9'), []);
  assert.equal(sock.state, 'SYN-SENT');
});

test('synsent_ack_of_unsent_rst', () => {
  const h = new TcpHarness();
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  h.localPort = sock.local.port;
  h.replies();
  assert.deepEqual(h.feed('SA seq=0 ack=5'), ['R seq=5 win=0']);
  assert.equal(sock.state, 'SYN-SENT');
});

test('synsent_rto_backoff_and_give_up', () => {
  const h = new TcpHarness({ synRetries: 3 });
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  const log = record(sock);
  h.localPort = sock.local.port;
  h.replies();
  assert.equal(h.layer.nextDeadline(), 1000);
  assert.deepEqual(h.advance(999), []);
  assert.deepEqual(h.advance(1), ['S seq=0 win=65535 mss=1460 ws=1']);
  assert.deepEqual(h.advance(1999), []);
  assert.deepEqual(h.advance(1), ['S seq=0 win=65535 mss=1460 ws=1']);
  assert.deepEqual(h.advance(4000), ['S seq=0 win=65535 mss=1460 ws=1']);
  assert.deepEqual(h.advance(8000), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['closed ETIMEDOUT']);
  assert.equal(h.layer.nextDeadline(), undefined);
});

test('synsent_syn_timed_out_rto_back_to_3s_for_data', () => {
  // RFC 6298 §5.7: the SYN was retransmitted (RTO backed off to 2 s, no RTT sample by Karn):
  // once data flows the RTO starts again from 3 s.
  const h = new TcpHarness();
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  h.localPort = sock.local.port;
  h.replies();
  assert.deepEqual(h.advance(1000), ['S seq=0 win=65535 mss=1460 ws=1']);
  assert.deepEqual(h.feed('SA seq=0 ack=1 mss=1460 ws=0'), ['A seq=1 ack=1 win=32768']);
  sock.write(pattern(100));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=1 win=32768 len=100']);
  assert.deepEqual(h.advance(2999), []); // the SYN's backed-off RTO was 2 s
  assert.deepEqual(h.advance(1), ['AP seq=1 ack=1 win=32768 len=100']);
});

test('synreceived_synack_timed_out_rto_back_to_3s_for_data', () => {
  const h = new TcpHarness();
  const listener = h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0 mss=1460 ws=0');
  assert.deepEqual(h.advance(1000), ['SA seq=0 ack=1 win=65535 mss=1460 ws=1']);
  h.feed('A seq=1 ack=1');
  const sock = listener.accept()!;
  sock.write(pattern(100));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=1 win=32768 len=100']);
  assert.deepEqual(h.advance(2999), []);
  assert.deepEqual(h.advance(1), ['AP seq=1 ack=1 win=32768 len=100']);
});

test('synsent_data_written_early_goes_with_handshake_ack', () => {
  const h = new TcpHarness();
  const sock = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
  h.localPort = sock.local.port;
  h.replies();
  assert.equal(sock.write(pattern(10)), 10);
  assert.deepEqual(h.replies(), []);
  assert.deepEqual(h.feed('SA seq=0 ack=1 mss=1460 ws=0'), ['AP seq=1 ack=1 win=32768 len=10']);
});

// ───────────── SYN-RECEIVED ─────────────

test('synreceived_dup_syn_resends_synack', () => {
  const h = new TcpHarness();
  h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0 mss=1460 ws=0');
  assert.deepEqual(h.feed('S seq=0 mss=1460 ws=0'), ['SA seq=0 ack=1 win=65535 mss=1460 ws=1']);
});

test('synreceived_bad_ack_rst', () => {
  const h = new TcpHarness();
  h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0');
  assert.deepEqual(h.feed('A seq=1 ack=100'), ['R seq=100 win=0']);
});

test('synreceived_rst_back_to_listen', () => {
  const h = new TcpHarness();
  const listener = h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0');
  assert.deepEqual(h.feed('R seq=1'), []);
  assert.deepEqual(h.feed('A seq=1 ack=1'), ['R seq=1 win=0']);
  assert.equal(listener.accept(), undefined);
  assert.deepEqual(h.feed('S seq=0 ws=0'), ['SA seq=0 ack=1 win=65535 mss=1460 ws=1']);
});

test('synreceived_rto_resends_synack_then_forgets', () => {
  const h = new TcpHarness({ synRetries: 1 });
  const listener = h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0 ws=0');
  assert.deepEqual(h.advance(1000), ['SA seq=0 ack=1 win=65535 mss=1460 ws=1']);
  assert.deepEqual(h.advance(2000), []);
  assert.deepEqual(h.feed('A seq=1 ack=1'), ['R seq=1 win=0']);
  assert.equal(listener.accept(), undefined);
});

test('synreceived_ack_with_data_established_and_readable', () => {
  const h = new TcpHarness();
  const listener = h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0 ws=0');
  assert.deepEqual(h.feed('PA seq=1 ack=1 data=GET'), []);
  const sock = listener.accept()!;
  assert.equal(text(sock), 'GET');
  assert.deepEqual(h.advance(40), ['A seq=1 ack=4 win=32766']); // receiver SWS avoidance: the edge stays until an MSS frees
});

// ───────────── ESTABLISHED ─────────────

test('established_data_delayed_ack_40ms', () => {
  const { h, sock, log } = passive();
  assert.deepEqual(h.feed('PA seq=1 ack=1 len=100'), []);
  assert.deepEqual(log, ['readable']);
  assert.deepEqual(h.advance(39), []);
  assert.deepEqual(h.advance(1), ['A seq=1 ack=101 win=32718']);
  assert.equal(sock.read(new Uint8Array(200)), 100);
});

test('established_second_segment_acked_at_once', () => {
  const { h } = passive();
  assert.deepEqual(h.feed('A seq=1 ack=1 len=1460'), []);
  assert.deepEqual(h.feed('A seq=1461 ack=1 len=1460'), ['A seq=1 ack=2921 win=31308']);
});

test('established_reply_carries_the_delayed_ack', () => {
  const { h, sock } = passive();
  h.feed('PA seq=1 ack=1 data=ping');
  assert.equal(text(sock), 'ping');
  sock.write(Uint8Array.from([0x70, 0x6f, 0x6e, 0x67]));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=5 win=32766 len=4']);
  assert.deepEqual(h.advance(100), []);
});

test('established_out_of_order_dup_ack_then_reassembly', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('PA seq=6 ack=1 data=world'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.read(new Uint8Array(10)), 0);
  assert.deepEqual(h.feed('A seq=1 ack=1 data=hello'), ['A seq=1 ack=11 win=32763']);
  assert.equal(text(sock), 'helloworld');
});

test('established_fin_out_of_order_waits_for_gap', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('FA seq=6 ack=1 data=world'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.state, 'ESTABLISHED');
  assert.deepEqual(h.feed('A seq=1 ack=1 data=hello'), ['A seq=1 ack=12 win=32763']);
  assert.equal(sock.state, 'CLOSE-WAIT');
  assert.equal(text(sock), 'helloworld');
  assert.equal(text(sock), '<eof>');
});

test('established_duplicate_data_acked_again', () => {
  const { h } = passive();
  h.feed('A seq=1 ack=1 len=100');
  h.advance(40);
  assert.deepEqual(h.feed('A seq=1 ack=1 len=100'), ['A seq=1 ack=101 win=32718']);
});

test('established_out_of_window_data_ack_and_drop', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('PA seq=200000 ack=1 len=10'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.read(new Uint8Array(10)), 0);
});

test('established_rst_exact_seq_reset', () => {
  const { h, sock, log } = passive();
  assert.deepEqual(h.feed('R seq=1'), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['closed ECONNRESET']);
  assert.throws(() => sock.write(pattern(1)), { code: 'ECONNRESET' });
  assert.equal(sock.read(new Uint8Array(1)), -1);
});

test('established_rst_in_window_challenge_ack_rate_limited', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('R seq=100'), ['A seq=1 ack=1 win=32768']);
  assert.deepEqual(h.feed('R seq=200'), []);
  h.advance(500);
  assert.deepEqual(h.feed('R seq=300'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.state, 'ESTABLISHED');
  assert.equal(h.layer.stats().challengeAcks, 2);
});

test('established_rst_out_of_window_dropped', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('R seq=100000'), []);
  assert.deepEqual(h.feed('R seq=0'), []);
  assert.equal(sock.state, 'ESTABLISHED');
});

test('established_syn_challenge_ack', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('S seq=5000'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.state, 'ESTABLISHED');
});

test('established_old_ack_challenge_ack', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('A seq=1 ack=-100000'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.state, 'ESTABLISHED');
});

test('established_ack_of_unsent_data_acked_and_dropped', () => {
  const { h, sock } = passive();
  assert.deepEqual(h.feed('PA seq=1 ack=1000 data=x'), ['A seq=1 ack=1 win=32768']);
  assert.equal(sock.read(new Uint8Array(1)), 0);
});

test('established_fin_close_wait', () => {
  const { h, sock, log } = passive();
  assert.deepEqual(h.feed('FA seq=1 ack=1 data=bye'), ['A seq=1 ack=5 win=32766']);
  assert.equal(sock.state, 'CLOSE-WAIT');
  assert.deepEqual(log, ['readable']);
  assert.equal(text(sock), 'bye');
  assert.equal(text(sock), '<eof>');
  sock.write(pattern(2)); // the other direction still works
  assert.deepEqual(h.replies(), ['AP seq=1 ack=5 win=32766 len=2']);
});

test('established_write_nagle_holds_small_segment_until_ack', () => {
  const { h, sock } = active();
  sock.write(pattern(100));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=1 win=32768 len=100']);
  sock.write(pattern(50));
  assert.deepEqual(h.replies(), []);
  assert.deepEqual(h.feed('A seq=1 ack=101'), ['AP seq=101 ack=1 win=32768 len=50']);
  sock.setNoDelay(true);
  sock.write(pattern(10));
  assert.deepEqual(h.replies(), ['AP seq=151 ack=1 win=32768 len=10']);
});

test('established_write_full_segments_and_send_buffer_limit', () => {
  const { h, sock, log } = active({ sndBuf: 4096 });
  assert.equal(sock.write(pattern(5000)), 4096);
  assert.equal(sock.sendRoom, 0);
  // Nagle holds the short tail while data is in flight.
  assert.deepEqual(h.replies(), ['A seq=1 ack=1 win=32768 len=1460', 'A seq=1461 ack=1 win=32768 len=1460']);
  assert.deepEqual(h.feed('A seq=1 ack=1461'), []);
  assert.deepEqual(log, ['writable']);
  assert.equal(sock.sendRoom, 1460);
  assert.deepEqual(h.feed('A seq=1 ack=2921'), ['AP seq=2921 ack=1 win=32768 len=1176']);
});

test('established_rto_backoff_and_give_up', () => {
  const { h, sock, log } = active({ dataRetries: 3 });
  sock.write(pattern(100));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=1 win=32768 len=100']);
  assert.equal(h.layer.nextDeadline(), 200); // RTT sample 0 ms → RTO clamped to 200 ms
  assert.deepEqual(h.advance(200), ['AP seq=1 ack=1 win=32768 len=100']);
  assert.deepEqual(h.advance(399), []);
  assert.deepEqual(h.advance(1), ['AP seq=1 ack=1 win=32768 len=100']);
  assert.deepEqual(h.advance(800), ['AP seq=1 ack=1 win=32768 len=100']);
  assert.deepEqual(h.advance(1600), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['closed ETIMEDOUT']);
  assert.equal(h.layer.stats().retransmits, 3);
});

test('established_rto_capped_at_max', () => {
  const { h, sock } = active({ rtoMaxMs: 1000 });
  sock.write(pattern(100));
  h.replies();
  for (const wait of [200, 400, 800, 1000, 1000]) {
    assert.deepEqual(h.advance(wait - 1), []);
    assert.deepEqual(h.advance(1), ['AP seq=1 ack=1 win=32768 len=100']);
  }
});

test('established_fast_retransmit_after_three_dup_acks', () => {
  const { h, sock } = active();
  sock.write(pattern(7300));
  assert.deepEqual(h.replies(), [ // initial window: 3 segments
    'A seq=1 ack=1 win=32768 len=1460', 'A seq=1461 ack=1 win=32768 len=1460', 'A seq=2921 ack=1 win=32768 len=1460',
  ]);
  assert.deepEqual(h.feed('A seq=1 ack=1'), []);
  assert.deepEqual(h.feed('A seq=1 ack=1'), []);
  assert.deepEqual(h.feed('A seq=1 ack=1'), [
    'A seq=1 ack=1 win=32768 len=1460', // fast retransmit; cwnd = ssthresh + 3 MSS lets two new segments out
    'A seq=4381 ack=1 win=32768 len=1460', 'AP seq=5841 ack=1 win=32768 len=1460',
  ]);
  // A partial ACK (NewReno) retransmits the next hole at once.
  assert.deepEqual(h.feed('A seq=1 ack=1461'), ['A seq=1461 ack=1 win=32768 len=1460']);
  assert.equal(sock.state, 'ESTABLISHED');
  assert.equal(h.layer.stats().retransmits, 2);
});

test('established_zero_window_persist_probes', () => {
  const { h, sock } = active();
  assert.deepEqual(h.feed('A seq=1 ack=1 win=0'), []);
  sock.write(pattern(10));
  assert.deepEqual(h.replies(), []);
  assert.deepEqual(h.advance(200), ['A seq=1 ack=1 win=32768 len=1']);
  assert.deepEqual(h.feed('A seq=1 ack=1 win=0'), []);
  assert.deepEqual(h.advance(399), []);
  assert.deepEqual(h.advance(1), ['A seq=1 ack=1 win=32768 len=1']);
  assert.deepEqual(h.feed('A seq=1 ack=1 win=1000'), ['AP seq=1 ack=1 win=32768 len=10']);
  assert.equal(sock.state, 'ESTABLISHED');
});

test('established_zero_window_probe_accepted_byte', () => {
  const { h, sock } = active();
  h.feed('A seq=1 ack=1 win=0');
  sock.write(pattern(10));
  assert.deepEqual(h.advance(200), ['A seq=1 ack=1 win=32768 len=1']);
  assert.deepEqual(h.feed('A seq=1 ack=2 win=1000'), ['AP seq=2 ack=1 win=32768 len=9']);
});

test('established_zero_window_probes_unanswered_give_up', () => {
  const { h, sock, log } = active({ dataRetries: 2 });
  h.feed('A seq=1 ack=1 win=0');
  sock.write(pattern(10));
  assert.deepEqual(h.advance(200), ['A seq=1 ack=1 win=32768 len=1']);
  assert.deepEqual(h.advance(400), ['A seq=1 ack=1 win=32768 len=1']);
  assert.deepEqual(h.advance(800), []);
  assert.deepEqual(log, ['closed ETIMEDOUT']);
});

test('established_zero_window_receiver_acks_probe_keeps_window_closed', () => {
  const { h, sock } = passive({ rcvBuf: 4096 });
  // Fill our 4 KiB buffer; the advertised window drops to 0.
  h.feed('A seq=1 ack=1 len=2048');
  assert.deepEqual(h.feed('A seq=2049 ack=1 len=2048'), ['A seq=1 ack=4097 win=0']);
  assert.deepEqual(h.feed('A seq=4097 ack=1 len=1'), ['A seq=1 ack=4097 win=0']); // a probe
  assert.equal(sock.read(new Uint8Array(4096)), 4096);
  assert.deepEqual(h.replies(), ['A seq=1 ack=4097 win=4096']); // window update
});

// RFC 9293 §3.10.7.4: with RCV.WND = 0 "special allowance should be made to accept valid ACKs".
// A peer whose segments we dropped (a full receive ring) acknowledges with SEG.SEQ past RCV.NXT,
// and a retransmission carries SEG.SEQ below it: both ACKs count, or we resend data the peer has.
test('established_zero_window_takes_ack_of_segment_ahead', () => {
  const { h, sock } = passive({ rcvBuf: 4096 });
  h.feed('A seq=1 ack=1 len=2048');
  assert.deepEqual(h.feed('A seq=2049 ack=1 len=2048'), ['A seq=1 ack=4097 win=0']);
  sock.write(pattern(100));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=4097 win=0 len=100']);
  assert.deepEqual(h.feed('A seq=6000 ack=101'), ['A seq=101 ack=4097 win=0']);
  assert.deepEqual(h.advance(60_000), []); // nothing left to retransmit
  assert.equal(h.layer.stats().retransmits, 0);
});

test('established_zero_window_takes_ack_of_retransmission', () => {
  const { h, sock } = passive({ rcvBuf: 4096 });
  h.feed('A seq=1 ack=1 len=2048');
  h.feed('A seq=2049 ack=1 len=2048');
  sock.write(pattern(100));
  h.replies();
  assert.deepEqual(h.feed('A seq=2049 ack=101 len=2048'), ['A seq=101 ack=4097 win=0']);
  assert.deepEqual(h.advance(60_000), []);
});

test('established_zero_window_ack_far_outside_ignored', () => {
  // The allowance stops at the largest window we advertised: a blind ACK from anywhere is dropped.
  const { h, sock } = passive({ rcvBuf: 4096 });
  h.feed('A seq=1 ack=1 len=2048');
  h.feed('A seq=2049 ack=1 len=2048');
  sock.write(pattern(100));
  h.replies();
  assert.deepEqual(h.feed('A seq=2000000 ack=101'), ['A seq=101 ack=4097 win=0']);
  assert.deepEqual(h.advance(200), ['AP seq=1 ack=4097 win=0 len=100']); // still unacknowledged
});

test('established_zero_window_bare_fin_accepted', () => {
  // A FIN takes no buffer (Linux's tcp_data_queue accepts it too): the close goes on.
  const { h, sock, log } = passive({ rcvBuf: 4096 });
  h.feed('A seq=1 ack=1 len=2048');
  h.feed('A seq=2049 ack=1 len=2048');
  assert.deepEqual(h.feed('AF seq=4097 ack=1'), ['A seq=1 ack=4098 win=0']);
  assert.equal(sock.state, 'CLOSE-WAIT');
  assert.equal(sock.read(new Uint8Array(8192)), 4096);
  assert.equal(sock.read(new Uint8Array(8192)), -1);
  assert.ok(log.includes('readable'));
});

test('established_pure_ack_at_the_right_edge_overtaking_data_takes_its_ack', () => {
  // passt fills our window, then its ACK of our data (SEG.SEQ = RCV.NXT + RCV.WND) overtakes the
  // data: the ACK counts (Linux's tcp_sequence), so we do not resend what the peer has.
  const { h, sock } = passive({ rcvBuf: 4096 });
  sock.write(pattern(100));
  assert.deepEqual(h.replies(), ['AP seq=1 ack=1 win=4096 len=100']);
  assert.deepEqual(h.feed('A seq=4097 ack=101'), ['A seq=101 ack=1 win=4096']); // where we are
  h.feed('A seq=1 ack=1 len=2048'); // the data it overtook, with an older ACK
  h.feed('A seq=2049 ack=1 len=2048');
  assert.deepEqual(h.advance(60_000), []);
  assert.equal(h.layer.stats().retransmits, 0);
});

test('established_old_retransmission_with_a_new_ack_takes_the_ack', () => {
  const { h, sock } = passive();
  h.feed('A seq=1 ack=1 len=100');
  sock.write(pattern(50));
  h.replies();
  assert.deepEqual(h.feed('A seq=1 ack=51 len=100'), ['A seq=51 ack=101 win=32718']);
  assert.deepEqual(h.advance(60_000), []);
});

test('established_old_segment_window_does_not_override_a_newer_one', () => {
  const { h, sock } = passive();
  sock.setNoDelay(true);
  h.feed('A seq=1 ack=1 len=100 win=1000'); // window 1000 at seq 1
  assert.deepEqual(h.feed('A seq=101 ack=1 win=0'), []); // newer: window 0
  h.feed('A seq=1 ack=1 len=100 win=1000'); // a duplicate of the older segment
  sock.write(pattern(10));
  assert.deepEqual(h.replies(), [], 'the window is still 0');
});

test('established_keepalive_probes_then_death', () => {
  const { h, sock, log } = passive({ keepAliveIntervalMs: 1000, keepAliveProbes: 3 });
  sock.setKeepAlive(true, 5000);
  assert.deepEqual(h.advance(4999), []);
  assert.deepEqual(h.advance(1), ['A seq=0 ack=1 win=32768']);
  assert.deepEqual(h.feed('A seq=1 ack=1'), []); // answered: idle again
  assert.deepEqual(h.advance(4999), []);
  assert.deepEqual(h.advance(1), ['A seq=0 ack=1 win=32768']);
  assert.deepEqual(h.advance(1000), ['A seq=0 ack=1 win=32768']);
  assert.deepEqual(h.advance(1000), ['A seq=0 ack=1 win=32768']);
  assert.deepEqual(h.advance(1000), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['closed ETIMEDOUT']);
});

test('established_keepalive_off_by_default', () => {
  const { h } = passive();
  h.advance(1000); // nextDeadline is a lower bound: the SYN-ACK's retransmission timer, until a poll
  assert.equal(h.layer.nextDeadline(), undefined);
  assert.deepEqual(h.advance(10 * 3600_000), []);
});

test('established_window_scale_applied_to_peer_window', () => {
  const h = new TcpHarness();
  const listener = h.layer.listen({ addr: 0, port: 80 });
  h.feed('S seq=0 mss=1460 ws=2 win=500');
  h.feed('A seq=1 ack=1 win=500');
  const sock = listener.accept()!;
  sock.setNoDelay(true);
  sock.write(pattern(2000));
  // 500 << 2 = 2000 bytes of window.
  assert.deepEqual(h.replies(), ['A seq=1 ack=1 win=32768 len=1460', 'AP seq=1461 ack=1 win=32768 len=540']);
});

test('established_abort_sends_rst', () => {
  const { h, sock, log } = passive();
  sock.abort();
  assert.deepEqual(h.replies(), ['AR seq=1 ack=1 win=0']);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['closed']);
  assert.deepEqual(h.feed('A seq=1 ack=1'), ['R seq=1 win=0']);
});

test('established_close_with_unread_data_discards_and_sinks', () => {
  const { h, sock } = passive();
  h.feed('PA seq=1 ack=1 data=unread');
  sock.close();
  assert.deepEqual(h.replies(), ['AF seq=1 ack=7 win=32765']);
  assert.equal(sock.state, 'FIN-WAIT-1');
  assert.deepEqual(h.feed('PA seq=7 ack=2 len=100'), []); // acked (delayed), discarded
  assert.deepEqual(h.advance(40), ['A seq=2 ack=107 win=32715']);
});

// ───────────── FIN-WAIT-1, FIN-WAIT-2, CLOSING, TIME-WAIT ─────────────

test('finwait1_ack_of_fin_finwait2', () => {
  const { h, sock } = passive();
  sock.closeWrite();
  assert.deepEqual(h.replies(), ['AF seq=1 ack=1 win=32768']);
  assert.equal(sock.state, 'FIN-WAIT-1');
  assert.deepEqual(h.feed('A seq=1 ack=2'), []);
  assert.equal(sock.state, 'FIN-WAIT-2');
  assert.throws(() => sock.write(pattern(1)), { code: 'EPIPE' });
});

test('finwait1_fin_retransmitted_on_rto', () => {
  const { h, sock } = passive();
  sock.close();
  h.replies();
  assert.deepEqual(h.advance(200), ['AF seq=1 ack=1 win=32768']);
});

test('finwait1_fin_simultaneous_close_closing_then_time_wait', () => {
  const { h, sock, log } = passive();
  sock.close();
  assert.deepEqual(h.replies(), ['AF seq=1 ack=1 win=32768']);
  assert.deepEqual(h.feed('FA seq=1 ack=1'), ['A seq=2 ack=2 win=32768']);
  assert.equal(sock.state, 'CLOSING');
  assert.deepEqual(h.feed('A seq=2 ack=2'), []);
  assert.equal(sock.state, 'TIME-WAIT');
  assert.deepEqual(log, ['readable', 'closed']);
});

test('finwait1_finack_time_wait', () => {
  const { h, sock, log } = passive();
  sock.close();
  h.replies();
  assert.deepEqual(h.feed('FA seq=1 ack=2'), ['A seq=2 ack=2 win=32768']);
  assert.equal(sock.state, 'TIME-WAIT');
  assert.deepEqual(log, ['readable', 'closed']);
});

test('finwait2_data_then_fin_time_wait', () => {
  const { h, sock } = passive();
  sock.closeWrite();
  h.feed('A seq=1 ack=2');
  assert.deepEqual(h.feed('PA seq=1 ack=2 data=late'), []);
  assert.deepEqual(h.feed('FA seq=5 ack=2'), ['A seq=2 ack=6 win=32766']);
  assert.equal(sock.state, 'TIME-WAIT');
  assert.equal(text(sock), 'late');
  assert.equal(text(sock), '<eof>');
});

test('finwait2_orphan_times_out', () => {
  const { h, sock, log } = passive();
  sock.close();
  h.feed('A seq=1 ack=2');
  assert.equal(sock.state, 'FIN-WAIT-2');
  assert.deepEqual(h.advance(60_000), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['closed']);
});

test('closing_ack_time_wait', () => {
  const { h, sock } = active();
  sock.close();
  h.replies();
  h.feed('FA seq=1 ack=1');
  assert.equal(sock.state, 'CLOSING');
  assert.deepEqual(h.feed('A seq=2 ack=2'), []);
  assert.equal(sock.state, 'TIME-WAIT');
});

test('timewait_fin_retransmission_acked_and_timer_restarted', () => {
  const { h, sock } = passive();
  sock.close();
  h.feed('FA seq=1 ack=2');
  h.replies();
  assert.deepEqual(h.advance(59_000), []);
  assert.deepEqual(h.feed('FA seq=1 ack=2'), ['A seq=2 ack=2 win=32768']);
  assert.deepEqual(h.advance(59_000), []);
  assert.equal(sock.state, 'TIME-WAIT');
  assert.deepEqual(h.advance(1_000), []);
  assert.equal(sock.state, 'CLOSED');
});

test('timewait_expiry_then_reopen_from_listen', () => {
  const { h, sock } = passive();
  sock.close();
  h.feed('FA seq=1 ack=2');
  h.replies();
  assert.deepEqual(h.advance(200), []); // past the FIN's retransmission time: nextDeadline is exact again
  assert.equal(h.layer.nextDeadline(), 60_000);
  assert.deepEqual(h.advance(59_800), []);
  assert.equal(sock.state, 'CLOSED');
  // The tuple is free: the same peer port opens a new connection.
  const replies = h.feed('S seq=1000 mss=1460 ws=0');
  assert.equal(replies.length, 1);
  assert.match(replies[0]!, /^SA .* ack=1001 win=65535 mss=1460 ws=1$/);
});

test('timewait_syn_with_higher_seq_reopens', () => {
  const { h, sock } = passive();
  sock.close();
  h.feed('FA seq=1 ack=2');
  h.replies();
  // ISN of the new incarnation: old SND.NXT (2) + 65537.
  assert.deepEqual(h.feed('S seq=100000 mss=1460 ws=0'), ['SA seq=65539 ack=100001 win=65535 mss=1460 ws=1']);
});

test('timewait_syn_with_old_seq_challenged', () => {
  const { h, sock } = passive();
  sock.close();
  h.feed('FA seq=1 ack=2');
  h.replies();
  assert.deepEqual(h.feed('S seq=0'), ['A seq=2 ack=2 win=32768']);
  assert.equal(sock.state, 'TIME-WAIT');
});

test('timewait_rst_ignored_rfc1337', () => {
  // RFC 1337 (TIME-WAIT assassination): an RST, even at exactly RCV.NXT, does not end TIME-WAIT early.
  const { h, sock } = passive();
  sock.close();
  h.feed('FA seq=1 ack=2');
  h.replies();
  assert.deepEqual(h.feed('R seq=2'), []);
  assert.deepEqual(h.feed('AR seq=2 ack=2'), []);
  assert.equal(sock.state, 'TIME-WAIT');
  assert.equal(h.layer.stats().resetsIn, 0);
  assert.deepEqual(h.advance(60_000), []);
  assert.equal(sock.state, 'CLOSED');
});

test('timewait_cap_ends_the_oldest_early', () => {
  // The server closes first on every connection (`Connection: close`): at most timeWaitMax wait.
  const h = new TcpHarness({ timeWaitMax: 2 });
  const listener = h.layer.listen({ addr: 0, port: 80 });
  const socks: TcpSocket[] = [];
  for (const sport of [40001, 40002, 40003]) {
    const [sa] = h.feedRaw(`S seq=0 sport=${sport}`);
    const iss = sa!.seq;
    h.feed(`A seq=1 rawack=${iss + 1} sport=${sport}`);
    const sock = listener.accept()!;
    sock.close();
    h.replies();
    assert.deepEqual(h.feed(`FA seq=1 rawack=${iss + 2} sport=${sport}`), [`A to ${sport}`]);
    socks.push(sock);
  }
  assert.deepEqual(socks.map((s) => s.state), ['CLOSED', 'TIME-WAIT', 'TIME-WAIT']);
  assert.equal(h.layer.timeWaitCount, 2);
  assert.equal(h.layer.stats().timeWaitEvicted, 1);
  // The tuple let go of is free again: its SYN starts a new connection.
  assert.deepEqual(h.feed('S seq=0 sport=40001'), ['SA to 40001']);
  assert.deepEqual(h.advance(60_000), ['SA to 40001']);
  assert.equal(h.layer.timeWaitCount, 0);
});

// ───────────── CLOSE-WAIT, LAST-ACK ─────────────

test('closewait_close_last_ack_then_closed', () => {
  const { h, sock, log } = passive();
  h.feed('FA seq=1 ack=1');
  assert.equal(text(sock), '<eof>');
  sock.close();
  assert.deepEqual(h.replies(), ['AF seq=1 ack=2 win=32767']);
  assert.equal(sock.state, 'LAST-ACK');
  assert.deepEqual(h.feed('A seq=2 ack=2'), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['readable', 'closed']);
  h.advance(200);
  assert.equal(h.layer.nextDeadline(), undefined);
});

test('lastack_fin_retransmitted_then_rst_closes_quietly', () => {
  const { h, sock, log } = passive();
  h.feed('FA seq=1 ack=1');
  sock.close();
  h.replies();
  assert.deepEqual(h.advance(200), ['AF seq=1 ack=2 win=32767']);
  assert.deepEqual(h.feed('R seq=2'), []);
  assert.equal(sock.state, 'CLOSED');
  assert.deepEqual(log, ['readable', 'closed']);
});

// ───────────── layer ─────────────

test('connect_ephemeral_ports_random_and_distinct', () => {
  const h = new TcpHarness();
  const ports = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const s = h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: PEER_PORT });
    assert.ok(s.local.port >= 49152 && s.local.port <= 65535);
    ports.add(s.local.port);
  }
  assert.equal(ports.size, 50);
  assert.throws(() => h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port: 0 }), { code: 'EINVAL' });
  assert.throws(() => h.layer.connect(0x01020304, { addr: PEER_ADDR, port: 1 }), { code: 'EADDRNOTAVAIL' });
});

test('connect_isn_differs_per_tuple', () => {
  const h = new TcpHarness();
  const isn = (port: number): number => {
    h.layer.connect(LOCAL_ADDR, { addr: PEER_ADDR, port });
    return h.takeRaw()[0]!.seq;
  };
  const a = isn(1);
  const b = isn(2);
  assert.notEqual(a, b);
  assert.notEqual(PEER_ISS, a);
});
