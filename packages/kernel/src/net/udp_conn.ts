// kiln:net's UDP socket (Deno's DatagramConn, with receive() returning { data, remoteAddr }):
// a port bound on the interface, received datagrams copied into a queue of at most
// UDP_QUEUE_MAX (the rest dropped and counted, as a full socket buffer drops), send() to a
// dotted IPv4 address. An open socket holds the driver (keeps the program alive).

import { formatIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import { checkPort, parseHostname, type NetAddr } from './addr.ts';
import type { StackDriver } from './driver.ts';
import type { UdpBinding } from './interface.ts';
import { NetError, type Ipv4Addr } from './types.ts';

export const UDP_QUEUE_MAX = 64;

export interface Datagram {
  data: Uint8Array;
  remoteAddr: NetAddr;
}

export class UdpConn implements AsyncIterable<Datagram> {
  /** Datagrams dropped because the queue was full. */
  dropped = 0;
  private readonly queue: Datagram[] = [];
  private readonly waiting: { resolve(d: Datagram): void; reject(e: Error): void }[] = [];
  private open = true;

  constructor(private readonly drv: StackDriver, private readonly binding: UdpBinding) {
    drv.hold();
    binding.onDatagram = (payload, src, srcPort) => {
      const d: Datagram = { data: payload.slice(), remoteAddr: { transport: 'udp', hostname: formatIpv4Addr(src), port: srcPort } };
      const w = this.waiting.shift();
      if (w) w.resolve(d);
      else if (this.queue.length < UDP_QUEUE_MAX) this.queue.push(d);
      else this.dropped++;
    };
  }

  get addr(): NetAddr {
    return { transport: 'udp', hostname: formatIpv4Addr(this.binding.addr), port: this.binding.port };
  }

  /** The next datagram; rejects with EBADF once closed. */
  receive(): Promise<Datagram> {
    const d = this.queue.shift();
    if (d) return Promise.resolve(d);
    if (!this.open) return Promise.reject(new NetError('EBADF', `UDP socket on port ${this.binding.port} is closed`));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Sends one datagram to a dotted IPv4 address (resolves with its length once it is on its way or waiting for ARP). */
  send(bytes: Uint8Array, to: { hostname: string; port: number }): Promise<number> {
    if (!this.open) return Promise.reject(new NetError('EBADF', `UDP socket on port ${this.binding.port} is closed`));
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new NetError('EINVAL', 'send needs a Uint8Array'));
    let addr: Ipv4Addr;
    let port: number;
    try {
      addr = parseHostname(to?.hostname, 'hostname');
      port = checkPort(to?.port, 1);
    } catch (e) {
      return Promise.reject(e);
    }
    const err = this.binding.send(bytes, addr, port);
    this.drv.kick();
    if (err === 'EMSGSIZE') return Promise.reject(new NetError(err, `a ${bytes.length}-byte datagram does not fit the MTU (${this.drv.stack.iface.mtu - 28} bytes at most)`));
    if (err) return Promise.reject(new NetError(err, `cannot send to ${formatIpv4Addr(addr)}:${port}`));
    return Promise.resolve(bytes.length);
  }

  /** Unbinds the port; pending receives reject with EBADF, queued datagrams are dropped. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.binding.close();
    this.queue.length = 0;
    for (const w of this.waiting.splice(0)) w.reject(new NetError('EBADF', `UDP socket on port ${this.binding.port} is closed`));
    this.drv.release();
  }

  [Symbol.asyncIterator](): AsyncIterator<Datagram> {
    return {
      next: () =>
        this.receive().then(
          (value) => ({ value, done: false }),
          (e: unknown) => {
            if (e instanceof NetError && e.code === 'EBADF') return { value: undefined, done: true } as IteratorResult<Datagram>;
            throw e;
          },
        ),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true } as IteratorResult<Datagram>);
      },
    };
  }
}
