// The functions of `kiln:net` over a StackDriver that comes up on first use (units/net.ts gives
// the guest's: NIC 0, `ip=` from the command line; tests give stacks on a simulated link):
// listen/connect (TCP; connect resolves a hostname through dns_client.ts), listenDatagram (UDP),
// resolve (DNS), interfaces(), configured(), stats(). Arguments are checked here; every failure
// is a NetError with a code.

import { formatMac } from '@kiln/common/wire/ethernet.ts';
import { formatIpv4Addr, netmaskToPrefix, parseIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import { checkPort, parseHostname } from './addr.ts';
import { DnsResolver } from './dns_client.ts';
import type { StackDriver } from './driver.ts';
import type { InterfaceStats } from './interface.ts';
import { TcpStream, TcpStreamListener, connectTcp } from './tcp_stream.ts';
import { NetError, type Ipv4Addr } from './types.ts';
import { UdpConn } from './udp_conn.ts';

export interface ListenOptions {
  port: number;
  /** A local address to accept on; default 0.0.0.0 (any). */
  hostname?: string;
  /** Established connections waiting for accept() (default: the TCP layer's). */
  backlog?: number;
  /** setIdleTimeout for every accepted connection. */
  idleTimeoutMs?: number;
}

export interface ConnectOptions {
  hostname: string;
  port: number;
  timeoutMs?: number;
  idleTimeoutMs?: number;
}

export interface InterfaceInfo {
  name: string;
  mac: string;
  mtu: number;
  /** How the address is configured: `ip=` static, DHCP, or off. */
  method: 'static' | 'dhcp' | 'off';
  /** Undefined until configured. */
  address: string | undefined;
  netmask: string | undefined;
  prefixLength: number | undefined;
  gateway: string | undefined;
  dns: string[];
  hostname: string;
}

export interface NetStats {
  interface: InterfaceStats;
  /** Frames queued for a free device slot, dropped with the queue full, refused by the device. */
  transmit: { queued: number; dropped: number; errors: number };
}

const optionalMs = (v: unknown, what: string): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new NetError('EINVAL', `${what} ${String(v)} is not a number of milliseconds >= 0`);
  return v;
};

export class NetApi {
  private resolver: DnsResolver | undefined;

  /** `dnsServers`: the servers `kiln run --dns` gave, which win over ip='s and DHCP's. */
  constructor(private readonly up: () => StackDriver, private readonly dnsServers?: () => Ipv4Addr[] | undefined) {}

  listen(o: ListenOptions): TcpStreamListener {
    if (typeof o !== 'object' || o === null) throw new NetError('EINVAL', 'listen needs { port, hostname?, backlog? }');
    const port = checkPort(o.port, 1);
    const addr = o.hostname === undefined ? 0 : parseHostname(o.hostname, 'hostname');
    const backlog = o.backlog;
    if (backlog !== undefined && (!Number.isInteger(backlog) || backlog < 1)) throw new NetError('EINVAL', `backlog ${String(backlog)} is not an integer >= 1`);
    const idle = optionalMs(o.idleTimeoutMs, 'idleTimeoutMs') ?? 0;
    const drv = this.up();
    this.checkLocal(drv, addr);
    const tl = drv.stack.tcp.listen({ addr, port }, backlog);
    return new TcpStreamListener(drv, tl, idle);
  }

  /** Connects to a dotted IPv4 address or a name DNS resolves (its first address). */
  connect(o: ConnectOptions): Promise<TcpStream> {
    if (typeof o === 'object' && o !== null && typeof o.hostname === 'string' && parseIpv4Addr(o.hostname) === undefined) {
      try {
        checkPort(o.port, 1);
      } catch (e) {
        return Promise.reject(e);
      }
      return this.resolve(o.hostname).then((addrs) => this.connect({ ...o, hostname: addrs[0]! }));
    }
    try {
      if (typeof o !== 'object' || o === null) throw new NetError('EINVAL', 'connect needs { hostname, port }');
      const addr = parseHostname(o.hostname, 'hostname');
      const port = checkPort(o.port, 1);
      if (addr === 0 || addr === 0xffff_ffff || addr >>> 28 === 0xe) throw new NetError('EINVAL', `cannot connect to ${o.hostname}`);
      const timeoutMs = optionalMs(o.timeoutMs, 'timeoutMs');
      const idleTimeoutMs = optionalMs(o.idleTimeoutMs, 'idleTimeoutMs');
      return connectTcp(this.up(), addr, port, { ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}) });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The IPv4 addresses of a hostname (dotted, or resolved by DNS once the interface has an address). */
  resolve(hostname: string): Promise<string[]> {
    let drv: StackDriver;
    try {
      drv = this.up();
    } catch (e) {
      return Promise.reject(e);
    }
    const resolver = this.resolver ??= new DnsResolver({
      servers: () => this.dnsServers?.() ?? drv.stack.dns,
      openUdp: () => this.listenDatagram({ port: 0 }),
      now: drv.env.now,
      setTimeout: drv.env.setTimeout,
      clearTimeout: drv.env.clearTimeout,
      random: drv.env.random,
    });
    const literal = typeof hostname === 'string' && parseIpv4Addr(hostname) !== undefined;
    drv.hold(); // a DHCP lease may still be on its way, with the servers
    return (literal ? Promise.resolve() : drv.whenConfigured())
      .then(() => resolver.resolve(hostname))
      .then((addrs) => addrs.map(formatIpv4Addr))
      .finally(() => drv.release());
  }

  listenDatagram(o: { port: number; hostname?: string }): UdpConn {
    if (typeof o !== 'object' || o === null) throw new NetError('EINVAL', 'listenDatagram needs { port, hostname? }');
    const port = checkPort(o.port, 0);
    const addr = o.hostname === undefined ? 0 : parseHostname(o.hostname, 'hostname');
    const drv = this.up();
    this.checkLocal(drv, addr);
    return new UdpConn(drv, drv.stack.iface.bindUdp(addr, port));
  }

  /** The network interfaces ([] without a NIC). */
  interfaces(): InterfaceInfo[] {
    let drv: StackDriver;
    try {
      drv = this.up();
    } catch (e) {
      if (e instanceof NetError && e.code === 'ENODEV') return [];
      throw e;
    }
    return [this.info(drv)];
  }

  /** Resolves with the interface once it has an address (at once with a static one); ENODEV, or ENETUNREACH with ip=off. */
  configured(): Promise<InterfaceInfo> {
    let drv: StackDriver;
    try {
      drv = this.up();
    } catch (e) {
      return Promise.reject(e);
    }
    drv.hold(); // DHCP runs only while someone holds the driver; a pending wait keeps the program alive
    return drv.whenConfigured().then(
      () => {
        drv.release();
        return this.info(drv);
      },
      (e: unknown) => {
        drv.release();
        throw e;
      },
    );
  }

  stats(): NetStats {
    const drv = this.up();
    return { interface: { ...drv.stack.iface.stats }, transmit: { queued: drv.stats.txQueued, dropped: drv.stats.txDropped, errors: drv.stats.txErrors } };
  }

  private checkLocal(drv: StackDriver, addr: Ipv4Addr): void {
    if (addr !== 0 && drv.stack.configured && !drv.stack.iface.isLocalAddr(addr)) {
      throw new NetError('EADDRNOTAVAIL', `${formatIpv4Addr(addr)} is not this host's address (${formatIpv4Addr(drv.stack.iface.address)})`);
    }
  }

  private info(drv: StackDriver): InterfaceInfo {
    const s = drv.stack;
    const c = s.iface.config;
    return {
      name: 'eth0', mac: formatMac(s.iface.mac), mtu: s.iface.mtu, method: s.method,
      address: c ? formatIpv4Addr(c.address) : undefined, netmask: c ? formatIpv4Addr(c.netmask) : undefined,
      prefixLength: c ? netmaskToPrefix(c.netmask) : undefined, gateway: c && c.gateway !== 0 ? formatIpv4Addr(c.gateway) : undefined,
      dns: s.dns.map(formatIpv4Addr), hostname: s.hostname,
    };
  }
}
