// Golden tests of the shared virtio definitions: MMIO register offsets and magic, split-queue
// sizes and offsets for a few queue sizes, header encodings, and vring_need_event cases
// (including 16-bit wrap). Spec: virtio 1.2 §2.7, §4.2.2, §5.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import * as v from './index.ts';

test('mmio_register_offsets_golden', () => {
  assert.equal(v.VIRTIO_MMIO_MAGIC_VALUE, 0x000);
  assert.equal(v.VIRTIO_MMIO_VERSION, 0x004);
  assert.equal(v.VIRTIO_MMIO_DEVICE_ID, 0x008);
  assert.equal(v.VIRTIO_MMIO_VENDOR_ID, 0x00c);
  assert.equal(v.VIRTIO_MMIO_DEVICE_FEATURES, 0x010);
  assert.equal(v.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0x014);
  assert.equal(v.VIRTIO_MMIO_DRIVER_FEATURES, 0x020);
  assert.equal(v.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0x024);
  assert.equal(v.VIRTIO_MMIO_QUEUE_SEL, 0x030);
  assert.equal(v.VIRTIO_MMIO_QUEUE_NUM_MAX, 0x034);
  assert.equal(v.VIRTIO_MMIO_QUEUE_NUM, 0x038);
  assert.equal(v.VIRTIO_MMIO_QUEUE_READY, 0x044);
  assert.equal(v.VIRTIO_MMIO_QUEUE_NOTIFY, 0x050);
  assert.equal(v.VIRTIO_MMIO_INTERRUPT_STATUS, 0x060);
  assert.equal(v.VIRTIO_MMIO_INTERRUPT_ACK, 0x064);
  assert.equal(v.VIRTIO_MMIO_STATUS, 0x070);
  assert.equal(v.VIRTIO_MMIO_QUEUE_DESC_LOW, 0x080);
  assert.equal(v.VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x084);
  assert.equal(v.VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x090);
  assert.equal(v.VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0x094);
  assert.equal(v.VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x0a0);
  assert.equal(v.VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0x0a4);
  assert.equal(v.VIRTIO_MMIO_CONFIG_GENERATION, 0x0fc);
  assert.equal(v.VIRTIO_MMIO_CONFIG, 0x100);
  assert.equal(v.VIRTIO_MMIO_MAGIC, 0x74726976);
  assert.deepEqual([...new TextEncoder().encode('virt')], [0x76, 0x69, 0x72, 0x74]);
  assert.equal(v.VIRTIO_MMIO_VERSION_2, 2);
});

test('feature_bits_and_ids_golden', () => {
  assert.equal(v.VIRTIO_F_VERSION_1, 32);
  assert.equal(v.VIRTIO_F_RING_EVENT_IDX, 29);
  assert.equal(v.VIRTIO_F_INDIRECT_DESC, 28);
  assert.equal(v.featureBit(v.VIRTIO_F_VERSION_1), 0x1_0000_0000n);
  assert.ok(v.hasFeature(0x1_2000_0000n, v.VIRTIO_F_RING_EVENT_IDX));
  assert.deepEqual([v.VIRTIO_ID_NET, v.VIRTIO_ID_BLOCK, v.VIRTIO_ID_CONSOLE, v.VIRTIO_ID_RNG, v.VIRTIO_ID_VSOCK], [1, 2, 3, 4, 19]);
  assert.deepEqual([v.VIRTIO_CONFIG_S_ACKNOWLEDGE, v.VIRTIO_CONFIG_S_DRIVER, v.VIRTIO_CONFIG_S_DRIVER_OK, v.VIRTIO_CONFIG_S_FEATURES_OK, v.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, v.VIRTIO_CONFIG_S_FAILED], [1, 2, 4, 8, 0x40, 0x80]);
  assert.deepEqual([v.VIRTIO_BLK_F_RO, v.VIRTIO_BLK_F_FLUSH], [5, 9]);
  assert.deepEqual([v.VIRTIO_BLK_T_IN, v.VIRTIO_BLK_T_OUT, v.VIRTIO_BLK_T_FLUSH, v.VIRTIO_BLK_T_GET_ID], [0, 1, 4, 8]);
  assert.deepEqual([v.VIRTIO_BLK_S_OK, v.VIRTIO_BLK_S_IOERR, v.VIRTIO_BLK_S_UNSUPP], [0, 1, 2]);
});

test('split_queue_sizes_golden', () => {
  assert.equal(v.descTableSize(256), 4096);
  assert.equal(v.availRingSize(256), 518);
  assert.equal(v.usedRingSize(256), 2054);
  assert.equal(v.availUsedEventOffset(256), 516);
  assert.equal(v.usedAvailEventOffset(256), 2052);
  assert.deepEqual(v.splitQueueLayout(256), { desc: 0, avail: 4096, used: 4616, size: 6670 });
  assert.deepEqual(v.splitQueueLayout(256, true), { desc: 0, avail: 4096, used: 8192, size: 10246 });
  assert.deepEqual(v.splitQueueLayout(1), { desc: 0, avail: 16, used: 24, size: 38 });
  assert.ok(v.isValidQueueSize(1) && v.isValidQueueSize(32768) && !v.isValidQueueSize(0) && !v.isValidQueueSize(3) && !v.isValidQueueSize(65536));
  assert.deepEqual([v.VIRTQ_DESC_F_NEXT, v.VIRTQ_DESC_F_WRITE, v.VIRTQ_DESC_F_INDIRECT], [1, 2, 4]);
});

test('header_sizes_and_encodings_golden', () => {
  assert.equal(v.VIRTIO_NET_HDR_SIZE, 12);
  assert.equal(v.VIRTIO_VSOCK_HDR_SIZE, 44);
  assert.equal(v.VIRTIO_BLK_REQ_HDR_SIZE, 16);
  const blk = v.encodeBlkReqHeader({ type: v.VIRTIO_BLK_T_OUT, reserved: 0, sector: 0x0102030405n });
  assert.equal(Buffer.from(blk).toString('hex'), '01000000' + '00000000' + '0504030201000000');
  assert.deepEqual(v.decodeBlkReqHeader(blk), { type: 1, reserved: 0, sector: 0x0102030405n });
  const h = { srcCid: 3, dstCid: 2, srcPort: 1024, dstPort: 52, len: 7, type: v.VIRTIO_VSOCK_TYPE_STREAM, op: v.VIRTIO_VSOCK_OP_RW, flags: 0, bufAlloc: 65536, fwdCnt: 9 };
  const enc = v.writeVsockHeader(new Uint8Array(44), h);
  assert.equal(Buffer.from(enc).toString('hex'),
    '0300000000000000' + '0200000000000000' + '00040000' + '34000000' + '07000000' + '0100' + '0500' + '00000000' + '00000100' + '09000000');
  assert.deepEqual(v.readVsockHeader(enc), h);
});

test('vring_need_event_cases', () => {
  // Linux semantics: notify if event_idx is in [old, new).
  assert.equal(v.vring_need_event(0, 1, 0), true);
  assert.equal(v.vring_need_event(1, 1, 0), false);
  assert.equal(v.vring_need_event(4, 10, 0), true);
  assert.equal(v.vring_need_event(10, 10, 0), false);
  assert.equal(v.vring_need_event(9, 10, 9), true);
  assert.equal(v.vring_need_event(5, 5, 5), false); // nothing new
  // wrap: old 0xfffe, new 2 covers 0xfffe, 0xffff, 0, 1
  assert.equal(v.vring_need_event(0xffff, 2, 0xfffe), true);
  assert.equal(v.vring_need_event(1, 2, 0xfffe), true);
  assert.equal(v.vring_need_event(2, 2, 0xfffe), false);
  assert.equal(v.vring_need_event(0xfffd, 2, 0xfffe), false);
});

test('vring_need_event_matches_interval_definition', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0x8000 }), (ev, old, step) => {
      const nw = (old + step) & 0xffff;
      let inRange = false;
      for (let i = 0; i < step; i++) if (((old + i) & 0xffff) === ev) inRange = true;
      assert.equal(v.vring_need_event(ev, nw, old), inRange);
    }),
  );
});

test('vsock_header_round_trips_64_bit_cids_and_full_u32_fields', () => {
  const h = { srcCid: 3, dstCid: 0x1_0000_0002, srcPort: 1024, dstPort: 52, len: 7, type: v.VIRTIO_VSOCK_TYPE_STREAM, op: v.VIRTIO_VSOCK_OP_RW, flags: 3, bufAlloc: 65536, fwdCnt: 0xffff_ffff };
  const enc = v.writeVsockHeader(new Uint8Array(44), h);
  assert.equal(Buffer.from(enc.subarray(8, 16)).toString('hex'), '0200000001000000');
  assert.deepEqual(v.readVsockHeader(enc), h);
});
