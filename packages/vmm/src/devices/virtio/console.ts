// virtio-console with one port and no optional features: bytes from the transmitq go to the
// same console sink the serial port uses; input given to feed() (stdin, optional) fills the
// receiveq's device-writable buffers in order, waiting for buffers when the driver has none.
// Host memory per chain is bounded: transmit bytes are copied through a 64 KiB buffer and a
// chain gives at most CONSOLE_MAX_REQUEST bytes.
// Spec: virtio 1.2 §5.3 (receiveq 0, transmitq 1; config cols/rows/max_nr_ports/emerg_wr).

import { VIRTIO_ID_CONSOLE } from '@kiln/common/virtio/constants.ts';
import { VIRTIO_CONSOLE_CONFIG_SIZE, VIRTIO_CONSOLE_RECEIVEQ, VIRTIO_CONSOLE_TRANSMITQ } from '@kiln/common/virtio/devices.ts';
import type { ByteSink } from '../serial.ts';
import { readConfigBytes, serveQueue, type DeviceContext, type VirtioDevice } from './device.ts';

export const CONSOLE_QUEUE_SIZE = 256;
/** Input kept while the driver offers no receive buffers (older bytes are dropped past this). */
export const CONSOLE_INPUT_MAX = 64 * 1024;
/** Bytes taken from one transmit chain (the guest's driver sends far smaller buffers). */
export const CONSOLE_MAX_REQUEST = 1024 * 1024;
/** Host buffer the transmit bytes are copied through. */
const CONSOLE_CHUNK = 64 * 1024;

export class VirtioConsole implements VirtioDevice {
  readonly name = 'virtio-console';
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly deviceFeatures = 0n;
  readonly queueSizes = [CONSOLE_QUEUE_SIZE, CONSOLE_QUEUE_SIZE];
  bytesOut = 0;
  /** Transmit bytes past CONSOLE_MAX_REQUEST in one chain (a hostile or broken driver). */
  bytesDropped = 0;
  readonly #sink: ByteSink;
  readonly #config = new Uint8Array(VIRTIO_CONSOLE_CONFIG_SIZE);
  #input: Uint8Array[] = [];
  #inputLen = 0;
  #ctx: DeviceContext | undefined;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  readConfig(offset: number, data: Uint8Array): void {
    readConfigBytes(this.#config, offset, data);
  }
  writeConfig(): void {} // emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, not offered
  activate(ctx: DeviceContext): void {
    this.#ctx = ctx;
    this.#fillReceive();
  }
  reset(): void {
    this.#ctx = undefined;
  }

  /** Queues host input for the guest. */
  feed(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#input.push(bytes.slice());
    this.#inputLen += bytes.length;
    while (this.#inputLen > CONSOLE_INPUT_MAX && this.#input.length > 1) this.#inputLen -= this.#input.shift()!.length;
    this.#fillReceive();
  }

  notify(q: number): void {
    if (q === VIRTIO_CONSOLE_TRANSMITQ) this.#drainTransmit();
    else if (q === VIRTIO_CONSOLE_RECEIVEQ) this.#fillReceive();
  }

  #drainTransmit(): void {
    if (!this.#ctx) return;
    serveQueue(this.#ctx, VIRTIO_CONSOLE_TRANSMITQ, (vq, chain) => {
      // Copied out in CONSOLE_CHUNK pieces (overlapping descriptors can make readableLen far
      // larger than guest RAM); past CONSOLE_MAX_REQUEST the chain's bytes are dropped, counted.
      const len = Math.min(chain.readableLen, CONSOLE_MAX_REQUEST);
      this.bytesDropped += chain.readableLen - len;
      for (let at = 0; at < len; at += CONSOLE_CHUNK) {
        const out = new Uint8Array(Math.min(CONSOLE_CHUNK, len - at));
        vq.readFrom(chain, out, at);
        this.#sink.write(out);
      }
      this.bytesOut += len;
      return 0;
    });
  }

  #fillReceive(): void {
    if (!this.#ctx) return;
    serveQueue(this.#ctx, VIRTIO_CONSOLE_RECEIVEQ, (vq, chain) => {
      let n = 0;
      while (this.#input.length && n < chain.writableLen) {
        const head = this.#input[0]!;
        const w = vq.writeTo(chain, head, n);
        n += w;
        this.#inputLen -= w;
        if (w === head.length) this.#input.shift();
        else {
          this.#input[0] = head.subarray(w);
          break;
        }
      }
      return n;
    }, { ready: () => this.#inputLen > 0 });
  }
}
