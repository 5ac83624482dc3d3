// The thin glue between a sans-IO NetStack and the world: frames from a NetDevice (kiln:netdev's
// shape) go into the stack as they arrive, frames out go to device.send (copied into a free
// transmit slot at once; while none is free, a queue of at most TX_QUEUE_MAX frames, sent as
// slots free, then drops, counted — TCP retransmits), and one timer is armed at the stack's earliest deadline,
// re-computed once per event-loop turn after the work of that turn (a microtask). Keep-alive:
// the driver listens to the device (which holds a ref) and arms its timer only while somebody
// holds it (hold/release: listeners, open connections, pending waits in kiln:net), so a
// program that closed everything exits. Clock, timers and randomness come from NetEnv: the
// guest's in units/net.ts, a simulated one in tests.

import { macFromBytes } from '@kiln/common/wire/ethernet.ts';
import type { IpConfig } from './ip_config.ts';
import { NetStack, type TcpLayerFactory } from './stack.ts';
import { NetError, type Random } from './types.ts';

/** Frames waiting for a free slot before new ones are dropped. */
export const TX_QUEUE_MAX = 256;
/** Deadlines already due are run at the end of a turn this many times before yielding to a timer. */
const DUE_POLLS_PER_TURN = 4;

/** The NetDevice shape the driver needs. send copies the frame before it returns, or returns false (nothing sent) while no transmit slot is free; onRoom's callback runs once one frees. */
export interface FrameDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  send(frame: Uint8Array): boolean;
  onRoom(cb: () => void): () => void;
  listen(cb: (frame: Uint8Array) => void): () => void;
}

export interface NetEnv {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` after the current task (before the next timer or device event). */
  queueMicrotask(fn: () => void): void;
  random: Random;
}

export class StackDriver {
  readonly stack: NetStack;
  readonly stats = { txQueued: 0, txDropped: 0, txErrors: 0, timerRuns: 0 };
  private holds = 0;
  private unlisten: (() => void) | undefined;
  private timer: unknown;
  private timerAt = Infinity;
  private turnScheduled = false;
  private readonly txQueue: Uint8Array[] = [];
  private readonly onFrame = (frame: Uint8Array): void => {
    this.stack.receive(frame);
    this.kick();
  };
  /** A transmit slot freed: send what waits, in order. */
  private readonly onRoom = (): void => {
    while (this.txQueue.length > 0 && this.send(this.txQueue[0]!)) this.txQueue.shift();
  };
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.stats.timerRuns++;
    this.stack.poll();
    this.endTurn();
  };
  private readonly endTurnJob = (): void => this.endTurn();
  /** Checks run at the end of every turn until they return true (closing connections waiting for their FIN's ACK). */
  private readonly turnChecks: (() => boolean)[] = [];
  private readonly configWaiters: (() => void)[] = [];

  constructor(private readonly device: FrameDevice, readonly env: NetEnv, config: IpConfig, tcp: TcpLayerFactory) {
    this.stack = new NetStack({
      mac: macFromBytes(device.mac), mtu: device.mtu, now: env.now, random: env.random, transmit: (f) => this.transmit(f), config, tcp,
    });
    this.stack.onAddressChange = () => this.addressChanged();
    device.onRoom(this.onRoom);
    // a static address is there at once (and announced); DHCP starts with the first hold, when replies can be heard
    if (config.method === 'static') this.stack.start();
  }

  /** Resolves once the interface has an address; ENETUNREACH with ip=off. Callers hold the driver while they wait (DHCP needs it). */
  whenConfigured(): Promise<void> {
    if (this.stack.configured) return Promise.resolve();
    if (this.stack.method === 'off') return Promise.reject(new NetError('ENETUNREACH', 'the network interface has no address (ip=off)'));
    return new Promise((resolve) => this.configWaiters.push(resolve));
  }

  /** Runs `check` at the end of each turn (while held) until it returns true. */
  afterTurn(check: () => boolean): void {
    this.turnChecks.push(check);
    this.kick();
  }

  private addressChanged(): void {
    if (!this.stack.configured) return;
    for (const resolve of this.configWaiters.splice(0)) resolve();
  }

  /** Something needs the network: listen to the device and keep the timer armed until release(). */
  hold(): void {
    if (this.holds++ === 0) {
      this.unlisten = this.device.listen(this.onFrame);
      this.stack.start();
    }
    this.kick();
  }

  release(): void {
    if (this.holds <= 0) throw new Error('kiln:net: release without hold');
    if (--this.holds > 0) return;
    this.unlisten?.();
    this.unlisten = undefined;
    if (this.timer !== undefined) this.env.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  get held(): boolean {
    return this.holds > 0;
  }

  /** Sockets changed state outside a device event or timer (an app call): re-arm at the end of this turn. */
  kick(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    this.env.queueMicrotask(this.endTurnJob);
  }

  private endTurn(): void {
    this.turnScheduled = false;
    for (let i = 0; i < this.turnChecks.length; ) {
      if (this.turnChecks[i]!()) this.turnChecks.splice(i, 1);
      else i++;
    }
    if (this.holds === 0) return;
    let next = this.stack.nextDeadline();
    for (let i = 0; i < DUE_POLLS_PER_TURN && next !== undefined && next <= this.env.now(); i++) {
      this.stack.poll();
      next = this.stack.nextDeadline();
    }
    const at = next ?? Infinity;
    // A timer armed earlier than needed stays (onTimer polls, finds nothing due and re-arms):
    // deadlines that move later on every turn (RTO, delayed ACK) cost no clear-and-set per turn.
    if (at >= this.timerAt && this.timer !== undefined) return;
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.env.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at !== Infinity) this.timer = this.env.setTimeout(this.onTimer, Math.max(0, at - this.env.now()));
  }

  private transmit(frame: Uint8Array): void {
    if (this.txQueue.length === 0 && this.send(frame)) return;
    if (this.txQueue.length < TX_QUEUE_MAX) {
      this.stats.txQueued++;
      this.txQueue.push(frame.slice()); // the stack reuses its transmit buffer
    } else {
      this.stats.txDropped++;
    }
  }

  /** device.send; a frame the device refuses (it never should: the stack keeps to the MTU) is counted and dropped, as sent. */
  private send(frame: Uint8Array): boolean {
    try {
      return this.device.send(frame);
    } catch {
      this.stats.txErrors++;
      return true;
    }
  }
}
