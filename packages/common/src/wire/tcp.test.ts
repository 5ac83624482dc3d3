// Tests of the TCP wire format: golden bytes of a SYN with options and of a data segment
// (checksums computed independently of this code, RFC 1071 over pseudo-header + segment),
// deconstruct/construct/round trip, impossible lengths and data offsets, malformed options,
// and a property test that parsing any bytes never throws.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import {
  TCP_ACK_FLAG, TCP_PSH, TCP_SYN, TcpPacket, emitTcp, parseTcp, tcpBufferLen, tcpHeaderLen, tcpRepr, type TcpRepr,
} from './tcp.ts';

const GUEST = 0x0a00020f; // 10.0.2.15
const GATEWAY = 0x0a000202; // 10.0.2.2

// 10.0.2.15:49152 → 10.0.2.2:80, seq 0x01020304, SYN, window 65535, <mss 1460, nop, wscale 7>.
const SYN_BYTES = Uint8Array.from([
  0xc0, 0x00, 0x00, 0x50, // ports 49152, 80
  0x01, 0x02, 0x03, 0x04, // seq
  0x00, 0x00, 0x00, 0x00, // ack
  0x70, 0x02, 0xff, 0xff, // data offset 7 words, SYN, window
  0xa7, 0xb1, 0x00, 0x00, // checksum, urgent
  0x02, 0x04, 0x05, 0xb4, // MSS 1460
  0x01, 0x03, 0x03, 0x07, // NOP, window scale 7
]);

// 10.0.2.2:80 → 10.0.2.15:49152, seq 0xfffffffe, ack 0x01020305, PSH|ACK, window 1024, "hello".
const DATA_BYTES = Uint8Array.from([
  0x00, 0x50, 0xc0, 0x00,
  0xff, 0xff, 0xff, 0xfe,
  0x01, 0x02, 0x03, 0x05,
  0x50, 0x18, 0x04, 0x00,
  0x8b, 0x8e, 0x00, 0x00,
  0x68, 0x65, 0x6c, 0x6c, 0x6f,
]);

function parse(bytes: Uint8Array, src: number, dst: number): TcpRepr {
  const p = TcpPacket.checked(bytes);
  assert.ok(typeof p !== 'string', `checked: ${String(p)}`);
  const r = parseTcp(p, src, dst);
  assert.ok(typeof r !== 'string', `parse: ${String(r)}`);
  return r;
}

test('syn_with_options_deconstruct_golden', () => {
  const p = TcpPacket.checked(SYN_BYTES);
  assert.ok(p instanceof TcpPacket);
  assert.equal(p.srcPort, 49152);
  assert.equal(p.dstPort, 80);
  assert.equal(p.seq, 0x01020304);
  assert.equal(p.headerLen, 28);
  assert.equal(p.flags, TCP_SYN);
  assert.equal(p.window, 65535);
  assert.equal(p.checksum, 0xa7b1);
  assert.ok(p.checksumOk(GUEST, GATEWAY));
  assert.ok(!p.checksumOk(GUEST, GATEWAY + 1));
  const r = parse(SYN_BYTES, GUEST, GATEWAY);
  assert.equal(r.mss, 1460);
  assert.equal(r.windowScale, 7);
  assert.equal(r.sackPermitted, false);
  assert.equal(r.timestamp, false);
  assert.equal(r.payload.length, 0);
});

test('syn_with_options_construct_golden', () => {
  const r = tcpRepr({ srcPort: 49152, dstPort: 80, seq: 0x01020304, flags: TCP_SYN, window: 65535, mss: 1460, windowScale: 7 });
  assert.equal(tcpBufferLen(r), 28);
  const buf = new Uint8Array(28);
  assert.equal(emitTcp(r, buf, GUEST, GATEWAY), 28);
  assert.deepEqual(buf, SYN_BYTES);
});

test('data_segment_deconstruct_construct_golden', () => {
  const r = parse(DATA_BYTES, GATEWAY, GUEST);
  assert.equal(r.seq, 0xfffffffe);
  assert.equal(r.ack, 0x01020305);
  assert.equal(r.flags, TCP_PSH | TCP_ACK_FLAG);
  assert.equal(r.window, 1024);
  assert.equal(String.fromCharCode(...r.payload), 'hello');
  const out = new Uint8Array(tcpBufferLen(r));
  emitTcp(r, out, GATEWAY, GUEST);
  assert.deepEqual(out, DATA_BYTES);
});

test('all_options_round_trip', () => {
  const r = tcpRepr({
    srcPort: 1, dstPort: 65535, seq: 0xffffffff, ack: 0x80000000, flags: 0xff, window: 7, urgent: 9,
    mss: 536, windowScale: 14, sackPermitted: true, timestamp: true, tsVal: 0xdeadbeef, tsEcr: 1,
    payload: Uint8Array.from([1, 2, 3]),
  });
  assert.equal(tcpHeaderLen(r), 44);
  const buf = new Uint8Array(tcpBufferLen(r));
  emitTcp(r, buf, GUEST, GATEWAY);
  assert.deepEqual(parse(buf, GUEST, GATEWAY), r);
});

test('checksum_error_detected', () => {
  const bad = DATA_BYTES.slice();
  bad[bad.length - 1]! ^= 0x01;
  const p = TcpPacket.checked(bad);
  assert.ok(p instanceof TcpPacket);
  assert.equal(parseTcp(p, GATEWAY, GUEST), 'bad-checksum');
  assert.ok(typeof parseTcp(p, GATEWAY, GUEST, tcpRepr(), false) !== 'string');
});

test('impossible_lengths_and_data_offsets', () => {
  assert.equal(TcpPacket.checked(new Uint8Array(0)), 'truncated');
  assert.equal(TcpPacket.checked(SYN_BYTES.subarray(0, 19)), 'truncated');
  assert.equal(TcpPacket.checked(SYN_BYTES.subarray(0, 27)), 'truncated'); // offset says 28
  for (const words of [0, 1, 4]) {
    const b = SYN_BYTES.slice();
    b[12] = words << 4;
    assert.equal(TcpPacket.checked(b), 'bad-data-offset');
  }
  const b = new Uint8Array(40);
  b[12] = 0xf0; // 60-byte header in 40 bytes
  assert.equal(TcpPacket.checked(b), 'truncated');
});

test('malformed_options_rejected', () => {
  const withOptions = (opts: number[]): string | TcpRepr => {
    const b = new Uint8Array(20 + opts.length);
    b.set(opts, 20);
    b[12] = ((20 + opts.length) / 4) << 4;
    const p = TcpPacket.checked(b);
    assert.ok(p instanceof TcpPacket);
    return parseTcp(p, 0, 0, tcpRepr(), false);
  };
  assert.equal(withOptions([2, 0, 0, 0]), 'bad-option'); // length 0
  assert.equal(withOptions([1, 1, 1, 2]), 'bad-option'); // kind without length byte
  assert.equal(withOptions([2, 8, 5, 0xb4]), 'bad-option'); // runs past the header
  assert.equal(withOptions([3, 4, 7, 0]), 'bad-option'); // window scale of length 4
  assert.equal(withOptions([5, 2, 0, 0]), 'bad-option'); // SACK with no blocks
  const unknown = withOptions([30, 4, 0, 0, 3, 3, 20, 0]);
  assert.ok(typeof unknown !== 'string');
  assert.equal(unknown.windowScale, 14); // shift above 14 is clamped
  const ended = withOptions([0, 99, 99, 99]); // after END the rest is padding
  assert.ok(typeof ended !== 'string');
});

test('parsing_any_bytes_never_throws', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), fc.nat(), (bytes, src, dst) => {
      const p = TcpPacket.checked(bytes);
      if (typeof p === 'string') return;
      const r = parseTcp(p, src >>> 0, dst >>> 0, tcpRepr(), false);
      if (typeof r === 'string') return;
      assert.ok(r.payload.length + p.headerLen === bytes.length);
    }),
    { numRuns: runs(5000) },
  );
});

test('tcp_round_trip_property', () => {
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  fc.assert(
    fc.property(u16, u16, u32, u32, fc.integer({ min: 0, max: 0xff }), u16, u16, fc.option(fc.integer({ min: 1, max: 0xffff }), { nil: 0 }),
      fc.integer({ min: -1, max: 14 }), fc.boolean(), fc.option(fc.tuple(u32, u32), { nil: undefined }), fc.uint8Array({ maxLength: 100 }), u32, u32,
      (srcPort, dstPort, seq, ack, flags, window, urgent, mss, windowScale, sackPermitted, ts, payload, src, dst) => {
        const r = tcpRepr({ srcPort, dstPort, seq, ack, flags, window, urgent, mss, windowScale, sackPermitted, payload,
          timestamp: ts !== undefined, tsVal: ts?.[0] ?? 0, tsEcr: ts?.[1] ?? 0 });
        const b = new Uint8Array(tcpBufferLen(r));
        emitTcp(r, b, src, dst);
        assert.deepEqual(parse(b, src, dst), r);
      }),
  );
});

test('options_area_fuzz_never_throws', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (opts) => {
      const n = opts.length & ~3;
      const b = new Uint8Array(20 + n);
      b.set(opts.subarray(0, n), 20);
      b[12] = ((20 + n) / 4) << 4;
      const p = TcpPacket.checked(b);
      assert.ok(p instanceof TcpPacket);
      parseTcp(p, 0, 0, tcpRepr(), false);
    }),
    { numRuns: runs(100) },
  );
});
