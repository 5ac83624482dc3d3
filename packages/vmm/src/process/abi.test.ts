// The process platform's ABI: the numbers in abi.ts are arch/process.h's (parsed from the
// header, so a change on one side fails here), and decodeRegRequest takes any 16 bytes from a
// hostile guest without throwing (fast-check, seeded by @kiln/common/testing/property.ts: KILN_SEED).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import * as abi from './abi.ts';

const header = readFileSync(fileURLToPath(new URL('../../../../arch/process.h', import.meta.url)), 'utf8');
const tenderHeader = readFileSync(fileURLToPath(new URL('../../../../arch/tender/tender.h', import.meta.url)), 'utf8');

function cDefine(name: string): number {
  const m = new RegExp(`^#define ${name} (\\w+)`, 'm').exec(header);
  assert.ok(m, `arch/process.h defines ${name}`);
  return Number(m[1]!.replace(/u$/, ''));
}

test('abi.ts and arch/process.h agree on every number', () => {
  for (const name of ['KILN_PROCESS_ABI', 'KILN_NOTE_PROCESS_ENTRY', 'CONTROL_IRQ_PENDING', 'CONTROL_NOTIFY', 'CONTROL_STATUS', 'CONTROL_SLOTS', 'CONTROL_SIZE', 'PROFILE_HZ_MAX', 'PROFILE_RING_MIN', 'REG_HELLO', 'REG_PIO_READ', 'REG_PIO_WRITE', 'REG_MMIO_READ', 'REG_MMIO_WRITE', 'REG_REQUEST_SIZE', 'REG_REPLY_SIZE', 'FD_CONSOLE', 'FD_DIAG', 'FD_CHANNEL', 'FD_RAM', 'FD_WAKE', 'FD_NOTIFY'] as const) {
    assert.equal((abi as Record<string, unknown>)[name], cDefine(name), name);
  }
  assert.equal(abi.PROFILE_RING_OFFSET, abi.CONTROL_SIZE, 'PROFILE_RING_OFFSET');
  assert.equal(abi.PROFILE_RING_MAX, 64 << 20, 'PROFILE_RING_MAX');
  assert.match(header, /#define PROFILE_RING_OFFSET CONTROL_SIZE\n/);
  assert.match(header, /#define PROFILE_RING_MAX \(64 << 20\)\n/);
  const exits = /enum \{ (TENDER_EXIT_[^}]+) \}/.exec(tenderHeader)![1]!;
  for (const m of exits.matchAll(/(TENDER_EXIT_\w+) = (\d+)/g)) assert.equal((abi as Record<string, unknown>)[m[1]!], Number(m[2]), m[1]);
});

test('request frames: golden bytes and round trip', () => {
  const b = abi.encodeRegRequest({ op: abi.REG_MMIO_WRITE, width: 4, value: 0xdeadbeef, addr: 0xc0001050 });
  assert.deepEqual([...b], [4, 4, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0x50, 0x10, 0x00, 0xc0, 0, 0, 0, 0]);
  assert.deepEqual(abi.decodeRegRequest(b, 0), { op: abi.REG_MMIO_WRITE, width: 4, value: 0xdeadbeef, addr: 0xc0001050 });
  assert.deepEqual(abi.decodeRegRequest(abi.encodeRegRequest({ op: abi.REG_HELLO, value: 1 }), 0), { op: abi.REG_HELLO, abi: 1 });
});

test('malformed frames are named, not thrown', () => {
  assert.match(abi.decodeRegRequest(abi.encodeRegRequest({ op: 9, width: 4 }), 0) as string, /unknown op 9/);
  assert.match(abi.decodeRegRequest(abi.encodeRegRequest({ op: abi.REG_PIO_READ, width: 3 }), 0) as string, /width 3/);
  assert.match(abi.decodeRegRequest(abi.encodeRegRequest({ op: abi.REG_PIO_READ, width: 1, reserved: 1 }), 0) as string, /reserved/);
  assert.match(abi.decodeRegRequest(abi.encodeRegRequest({ op: abi.REG_PIO_WRITE, width: 1, addr: 0x10000 }), 0) as string, /port 0x10000/);
  assert.match(abi.decodeRegRequest(abi.encodeRegRequest({ op: abi.REG_MMIO_READ, width: 4, addr: 2n ** 63n }), 0) as string, /address/);
});

test('any 16 bytes decode to a request or a reason, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 40 }), fc.nat(24), (bytes, at) => {
      const off = Math.min(at, bytes.length - 16);
      const r = abi.decodeRegRequest(bytes, off);
      if (typeof r === 'string') return;
      if (r.op === abi.REG_HELLO) return;
      assert.ok([1, 2, 4].includes(r.width) && Number.isSafeInteger(r.addr) && r.value >>> 0 === r.value);
    }),
    { numRuns: 5000 },
  );
});
