// StackDriver's transmit path over a device with few transmit slots: frames go to device.send at
// once while a slot is free, wait in order (copied: the stack reuses its buffer) while none is,
// go out as onRoom reports freed slots, and past TX_QUEUE_MAX are dropped and counted; a frame
// the device throws on, even while frames wait behind it, is counted as an error and does not
// stop the queue.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { SimClock } from '../testing/sim_net.ts';
import { StackDriver, TX_QUEUE_MAX, type FrameDevice } from './driver.ts';
import type { TcpLayerApi } from './types.ts';

const noTcp = (): TcpLayerApi => ({
  input() {}, listen: () => assert.fail('no TCP here'), connect: () => assert.fail('no TCP here'), poll() {}, nextDeadline: () => undefined,
});

/** A device with `slots` transmit slots that free only when the test says so. */
function slowDevice(slots: number) {
  const sent: Uint8Array[] = [];
  let busy = 0;
  let throwNext = false;
  const rooms: (() => void)[] = [];
  const device: FrameDevice = {
    mac: new Uint8Array([2, 0, 0, 0, 0, 1]),
    mtu: 1500,
    send(frame) {
      if (throwNext) {
        throwNext = false;
        throw new Error('EINVAL: refused');
      }
      if (busy >= slots) return false;
      busy++;
      sent.push(frame.slice());
      return true;
    },
    onRoom: (cb) => {
      rooms.push(cb);
      return () => {};
    },
    listen: () => () => {},
  };
  return {
    device, sent,
    free(n: number) {
      busy = Math.max(0, busy - n);
      for (const r of rooms) r();
    },
    refuseNext() {
      throwNext = true;
    },
  };
}

/** The UDP payload's first two bytes: the datagram's number. */
const tagOf = (frame: Uint8Array): number => frame[42]! | (frame[43]! << 8);

test('driver: frames wait in order for a free slot, go out as slots free, and past the queue bound are dropped and counted', () => {
  const dev = slowDevice(4);
  const d = new StackDriver(dev.device, new SimClock().env(1), { method: 'static', address: 0x0a00020f, netmask: 0xffffff00, gateway: 0, hostname: 'sim', dns: [] }, noTcp);
  dev.free(4);
  dev.sent.length = 0; // the address announcement
  const total = 4 + TX_QUEUE_MAX + 5;
  const payload = new Uint8Array(32);
  for (let i = 0; i < total; i++) {
    payload[0] = i & 0xff;
    payload[1] = i >> 8;
    assert.equal(d.stack.iface.sendUdp(0x0a00020f, 4000, 0xffffffff, 9, payload), undefined);
  }
  assert.equal(dev.sent.length, 4, 'the free slots took the first frames at once');
  assert.equal(d.stats.txQueued, TX_QUEUE_MAX);
  assert.equal(d.stats.txDropped, 5);
  for (let i = 0; i < 100 && dev.sent.length < 4 + TX_QUEUE_MAX; i++) dev.free(3);
  assert.equal(dev.sent.length, 4 + TX_QUEUE_MAX);
  assert.deepEqual(dev.sent.map(tagOf), [...Array(4 + TX_QUEUE_MAX).keys()], 'in order, each its own bytes');
  dev.free(8);
  dev.refuseNext();
  payload[0] = 0xaa;
  d.stack.iface.sendUdp(0x0a00020f, 4000, 0xffffffff, 9, payload);
  assert.equal(d.stats.txErrors, 1);
  payload[0] = 0xbb;
  d.stack.iface.sendUdp(0x0a00020f, 4000, 0xffffffff, 9, payload);
  assert.equal(tagOf(dev.sent.at(-1)!) & 0xff, 0xbb, 'the next frame goes out');
  // a refused frame while others wait: it is counted, and the queue drains on past it in order
  dev.free(100);
  const before = dev.sent.length;
  for (let i = 0; i < 4 + 6; i++) {
    payload[0] = i;
    payload[1] = 0x40;
    d.stack.iface.sendUdp(0x0a00020f, 4000, 0xffffffff, 9, payload);
  }
  assert.equal(dev.sent.length, before + 4, 'four slots were free');
  dev.refuseNext();
  dev.free(4);
  assert.equal(d.stats.txErrors, 2);
  for (let i = 0; i < 10 && dev.sent.length < before + 9; i++) dev.free(4);
  assert.deepEqual(dev.sent.slice(before).map(tagOf), [0, 1, 2, 3, 5, 6, 7, 8, 9].map((i) => i | 0x4000), 'the refused frame (4) is dropped, the rest go out in order');
});
