// virtio-net with one receiveq/transmitq pair and no offloads: VIRTIO_NET_F_MAC (a locally
// administered address), VIRTIO_NET_F_MTU and VIRTIO_NET_F_STATUS (link always up). Every buffer
// starts with the 12-byte virtio_net_hdr (num_buffers included, VIRTIO_F_VERSION_1). Frames come
// from and go to a NetBackend (net_backend.ts: TAP or passt). Frames from the backend wait in a
// bounded FIFO until the driver posts receive buffers (tail drop past RX_BACKLOG_MAX); each frame
// takes one whole chain (no MRG_RXBUF), a chain too small for the frame is returned with length
// 0 and the frame dropped. Transmit copies the frame out of the chain's device-readable buffers.
// A backend with `vnetHdr` (TAP with IFF_VNET_HDR) carries the 12-byte header with each frame.
// Transmit hands the backend an all-zero header (no offloads are offered, so a conforming guest's
// is zero anyway, and a hostile guest's flags or GSO fields never reach the host's TAP); receive
// passes the backend's header to the guest with num_buffers set to 1 and DATA_VALID cleared.
// Both queues go through serveQueue (device.ts), so a guest that keeps refilling a ring cannot
// hold the main thread: each turn handles at most QUEUE_TURN_BUDGET chains.
// Spec: virtio 1.2 §5.1 (network device), §5.1.6 (device operation).

import { ETHERNET_MAX_OVERHEAD } from '@kiln/common/wire/ethernet.ts';
import { featureBit, VIRTIO_ID_NET } from '@kiln/common/virtio/constants.ts';
import {
  VIRTIO_NET_CFG_MAC, VIRTIO_NET_CFG_MAX_VIRTQUEUE_PAIRS, VIRTIO_NET_CFG_MTU, VIRTIO_NET_CFG_STATUS, VIRTIO_NET_CONFIG_SIZE,
  VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU, VIRTIO_NET_F_STATUS, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_FLAGS, VIRTIO_NET_HDR_NUM_BUFFERS,
  VIRTIO_NET_HDR_SIZE, VIRTIO_NET_RECEIVEQ,
  VIRTIO_NET_S_LINK_UP, VIRTIO_NET_TRANSMITQ,
} from '@kiln/common/virtio/devices.ts';
import { readConfigBytes, serveQueue, type DeviceContext, type VirtioDevice } from './device.ts';

export const NET_QUEUE_SIZE = 256;
export const NET_DEFAULT_MTU = 1500;
/** Frames kept while the guest has no receive buffers (newer ones are dropped past this). */
export const RX_BACKLOG_MAX = 256;

/** Where frames go to and come from: a TAP device, passt, or a test double. */
export interface NetBackend {
  readonly name: string;
  /**
   * true: every frame given to send() and to the onFrame callback starts with the 12-byte
   * virtio_net_hdr (TAP with IFF_VNET_HDR); the device may modify received frames in place.
   */
  readonly vnetHdr?: boolean;
  /** One Ethernet frame from the guest (the backend may drop it when congested). */
  send(frame: Uint8Array): void;
  /** Frames for the guest; one callback. */
  onFrame(cb: (frame: Uint8Array) => void): void;
  close(): void | Promise<void>;
}

/** A locally administered, unicast MAC (52:54:00 is QEMU's; Kiln uses 02:4b:4c then `n`). */
export function defaultMac(n = 0): Uint8Array {
  return new Uint8Array([0x02, 0x4b, 0x4c, 0x4e, (n >> 8) & 0xff, n & 0xff]);
}

export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export class VirtioNet implements VirtioDevice {
  readonly name: string;
  readonly deviceId = VIRTIO_ID_NET;
  readonly deviceFeatures = featureBit(VIRTIO_NET_F_MAC) | featureBit(VIRTIO_NET_F_MTU) | featureBit(VIRTIO_NET_F_STATUS);
  readonly queueSizes = [NET_QUEUE_SIZE, NET_QUEUE_SIZE];
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly stats = { rxFrames: 0, rxBytes: 0, rxDropped: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  readonly #backend: NetBackend;
  readonly #config = new Uint8Array(VIRTIO_NET_CONFIG_SIZE);
  readonly #rx: Uint8Array[] = [];
  #ctx: DeviceContext | undefined;

  constructor(backend: NetBackend, o: { mac?: Uint8Array; mtu?: number; name?: string } = {}) {
    this.#backend = backend;
    this.name = o.name ?? 'virtio-net';
    this.mac = (o.mac ?? defaultMac()).slice(0, 6);
    this.mtu = o.mtu ?? NET_DEFAULT_MTU;
    if (this.mac.length !== 6) throw new RangeError('virtio-net: a MAC address is 6 bytes');
    if (!Number.isInteger(this.mtu) || this.mtu < 68 || this.mtu > 65535) throw new RangeError(`virtio-net: bad MTU ${this.mtu}`);
    const v = new DataView(this.#config.buffer);
    this.#config.set(this.mac, VIRTIO_NET_CFG_MAC);
    v.setUint16(VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP, true);
    v.setUint16(VIRTIO_NET_CFG_MAX_VIRTQUEUE_PAIRS, 1, true);
    v.setUint16(VIRTIO_NET_CFG_MTU, this.mtu, true);
    backend.onFrame((f) => this.receive(f));
  }

  get backend(): NetBackend {
    return this.#backend;
  }

  /** Frames waiting for receive buffers. */
  get backlog(): number {
    return this.#rx.length;
  }

  readConfig(offset: number, data: Uint8Array): void {
    readConfigBytes(this.#config, offset, data);
  }
  writeConfig(): void {} // the MAC is writable only without VIRTIO_F_VERSION_1 (legacy); ignore
  activate(ctx: DeviceContext): void {
    this.#ctx = ctx;
    this.#fillReceive();
  }
  reset(): void {
    this.#ctx = undefined;
    this.#rx.length = 0;
  }

  /** A frame for the guest (from the backend). */
  receive(frame: Uint8Array): void {
    const len = this.#backend.vnetHdr ? frame.length - VIRTIO_NET_HDR_SIZE : frame.length;
    if (len <= 0 || len > this.mtu + ETHERNET_MAX_OVERHEAD || this.#rx.length >= RX_BACKLOG_MAX) {
      this.stats.rxDropped++;
      return;
    }
    this.#rx.push(frame);
    this.#fillReceive();
  }

  notify(q: number): void {
    if (q === VIRTIO_NET_TRANSMITQ) this.#drainTransmit();
    else if (q === VIRTIO_NET_RECEIVEQ) this.#fillReceive();
  }

  #drainTransmit(): void {
    if (!this.#ctx) return;
    serveQueue(this.#ctx, VIRTIO_NET_TRANSMITQ, (vq, chain) => {
      const len = chain.readableLen - VIRTIO_NET_HDR_SIZE;
      if (len <= 0 || len > this.mtu + ETHERNET_MAX_OVERHEAD) {
        this.stats.txDropped++;
        return 0;
      }
      const withHdr = this.#backend.vnetHdr === true;
      const frame = new Uint8Array(withHdr ? VIRTIO_NET_HDR_SIZE + len : len);
      vq.readFrom(chain, frame, withHdr ? 0 : VIRTIO_NET_HDR_SIZE);
      // No offload was negotiated, so a conforming header is all zero: zero it rather than let a
      // hostile guest's flags or GSO fields reach the host kernel's TAP.
      if (withHdr) frame.fill(0, 0, VIRTIO_NET_HDR_SIZE);
      this.stats.txFrames++;
      this.stats.txBytes += len;
      try {
        this.#backend.send(frame);
      } catch {
        this.stats.txDropped++;
      }
      return 0;
    });
  }

  #fillReceive(): void {
    if (!this.#ctx) return;
    const hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
    new DataView(hdr.buffer).setUint16(VIRTIO_NET_HDR_NUM_BUFFERS, 1, true);
    serveQueue(this.#ctx, VIRTIO_NET_RECEIVEQ, (vq, chain) => {
      const frame = this.#rx.shift()!;
      const withHdr = this.#backend.vnetHdr === true;
      const total = withHdr ? frame.length : VIRTIO_NET_HDR_SIZE + frame.length;
      if (chain.writableLen < total) {
        this.stats.rxDropped++;
        return 0;
      }
      if (withHdr) {
        // The backend's header, with num_buffers (not written by TAP) and DATA_VALID (meaningful only
        // with VIRTIO_NET_F_GUEST_CSUM, which is not offered) fixed.
        frame[VIRTIO_NET_HDR_FLAGS] = frame[VIRTIO_NET_HDR_FLAGS]! & ~VIRTIO_NET_HDR_F_DATA_VALID;
        frame.set(hdr.subarray(VIRTIO_NET_HDR_NUM_BUFFERS, VIRTIO_NET_HDR_NUM_BUFFERS + 2), VIRTIO_NET_HDR_NUM_BUFFERS);
        vq.writeTo(chain, frame);
      } else {
        vq.writeTo(chain, hdr);
        vq.writeTo(chain, frame, VIRTIO_NET_HDR_SIZE);
      }
      this.stats.rxFrames++;
      this.stats.rxBytes += total - VIRTIO_NET_HDR_SIZE;
      return total;
    }, { ready: () => this.#rx.length > 0 });
  }
}
