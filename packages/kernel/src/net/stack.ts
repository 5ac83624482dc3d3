// One host's TCP/IP stack, sans-IO: the interface (interface.ts), the TCP layer above it and,
// for `ip=dhcp` (or no ip= at all), the DHCP client on UDP port 68, configured from an IpConfig
// (ip_config.ts). Frames in through receive(), out through `transmit`; poll() runs what is due
// and nextDeadline() says when that is, in the injected clock's milliseconds. The TCP layer
// comes from a factory, so this file does not depend on its implementation (net/tcp/).

import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, dhcpBufferLen, emitDhcp, parseDhcp } from '@kiln/common/wire/dhcp.ts';
import type { MacAddr } from '@kiln/common/wire/ethernet.ts';
import { DhcpClient, type DhcpLease } from './dhcp_client.ts';
import { Interface, type UdpBinding } from './interface.ts';
import type { IpConfig } from './ip_config.ts';
import type { Ipv4Addr, Random, TcpLayerApi, TcpLayerOptions } from './types.ts';

export type TcpLayerFactory = (o: TcpLayerOptions) => TcpLayerApi;

export interface NetStackOptions {
  mac: MacAddr;
  /** IP MTU (the NIC's). */
  mtu: number;
  now: () => number;
  random: Random;
  /** Sends one frame; must be done with the bytes when it returns, and must not call back into the stack. */
  transmit: (frame: Uint8Array) => void;
  config: IpConfig;
  tcp: TcpLayerFactory;
}

export class NetStack {
  readonly iface: Interface;
  readonly tcp: TcpLayerApi;
  readonly dhcp: DhcpClient | undefined;
  readonly method: IpConfig['method'];
  readonly hostname: string;
  dns: Ipv4Addr[] = [];
  /** Called after the address was configured, changed or lost. */
  onAddressChange: (() => void) | undefined;
  private dhcpPort: UdpBinding | undefined;
  private started = false;

  constructor(private readonly o: NetStackOptions) {
    this.iface = new Interface({ mac: o.mac, mtu: o.mtu, now: o.now, random: o.random, transmit: o.transmit });
    this.tcp = o.tcp({ lower: this.iface, random: o.random, now: o.now });
    this.iface.tcp = this.tcp;
    this.method = o.config.method;
    this.hostname = o.config.method === 'off' ? '' : o.config.hostname;
    if (o.config.method === 'dhcp') {
      this.dhcp = new DhcpClient({
        mac: o.mac, hostname: o.config.hostname, now: o.now, random: o.random,
        send: (msg, dst) => {
          const b = new Uint8Array(dhcpBufferLen(msg));
          emitDhcp(msg, b);
          this.dhcpPort!.send(b, dst, DHCP_SERVER_PORT);
        },
        onBound: (lease) => this.bound(lease),
        onLost: () => {
          this.iface.unconfigure();
          this.dns = [];
          this.onAddressChange?.();
        },
      });
    }
  }

  /** Configures a static address (announcing it) or starts DHCP. Once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const c = this.o.config;
    if (c.method === 'static') {
      this.dns = c.dns.slice();
      this.iface.configure({ address: c.address, netmask: c.netmask, gateway: c.gateway });
      this.onAddressChange?.();
    } else if (this.dhcp) {
      const port = this.iface.bindUdp(0, DHCP_CLIENT_PORT);
      port.onDatagram = (payload, _src, srcPort) => {
        if (srcPort !== DHCP_SERVER_PORT) return;
        const m = parseDhcp(payload);
        if (m) this.dhcp!.input(m);
      };
      this.dhcpPort = port;
      this.dhcp.start();
    }
  }

  get configured(): boolean {
    return this.iface.config !== undefined;
  }

  receive(frame: Uint8Array): void {
    this.iface.receive(frame);
  }

  poll(): void {
    this.iface.poll();
    this.dhcp?.poll();
    this.tcp.poll();
  }

  nextDeadline(): number | undefined {
    let d = this.iface.nextDeadline();
    const dh = this.dhcp?.nextDeadline();
    if (dh !== undefined && (d === undefined || dh < d)) d = dh;
    const t = this.tcp.nextDeadline();
    if (t !== undefined && (d === undefined || t < d)) d = t;
    return d;
  }

  private bound(lease: DhcpLease): void {
    this.dns = lease.dns.slice();
    this.iface.configure({ address: lease.address, netmask: lease.netmask, gateway: lease.gateway });
    this.onAddressChange?.();
  }
}
