// The `kiln:net` module: TCP and UDP sockets over the guest's own TCP/IP stack (net/) on the
// first virtio-net NIC. The stack comes up on first use: NIC 0 (kiln:netdev), its address from
// the kernel command line's `ip=` (Linux's syntax; `kiln run --net user` passes the static one,
// no ip= means DHCP), the guest's clock and timers, and randomness (TCP's ISN key and ephemeral
// ports, DHCP xids) from RDRAND when the CPU has it (0.16 us per 32 bits here), else from
// crypto.getRandomValues (whose first use seeds from virtio-rng, ~10 ms: too slow for the
// first connection's path); Internet checksums through op_net_checksum. listen({ port }) →
// Listener, connect({ hostname, port }) → Conn (kiln:vsock's shape; a hostname is resolved by
// DNS, net/dns_client.ts, over the servers of `kiln.dns=` (kiln run --dns), ip= or DHCP),
// resolve(hostname), listenDatagram({ port }), interfaces(), configured(), stats(). Errors: NetError with an errno code. Apps typecheck
// against this file (packages/kernel/tsconfig.app.json maps kiln:net here).

import { setSumWordsImpl } from '@kiln/common/wire/checksum.ts';
import { ops } from '../ops.ts';
import { NetApi } from '../net/api.ts';
import { StackDriver, type NetEnv } from '../net/driver.ts';
import { ipConfigFor } from '../net/ip_config.ts';
import { TcpLayer } from '../net/tcp/layer.ts';
import { NetError } from '../net/types.ts';
import { DNS_PARAM, parseCmdline } from '@kiln/common/cmdline.ts';
import { parseIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import type { Ipv4Addr } from '../net/types.ts';
import { guestCrypto } from './crypto.ts';
import { NetDevError, openNetDeviceSync } from './netdev.ts';

export { NetError };
export type { NetErrorCode } from '../net/types.ts';
export type { NetAddr } from '../net/addr.ts';
export type { TcpStream as Conn, TcpStreamListener as Listener } from '../net/tcp_stream.ts';
export type { UdpConn as DatagramConn, Datagram } from '../net/udp_conn.ts';
export type { ConnectOptions, InterfaceInfo, ListenOptions, NetStats } from '../net/api.ts';

const guestEnv: NetEnv = {
  now: () => ops.op_clock_monotonic_ns() / 1e6,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as number),
  queueMicrotask: (fn) => queueMicrotask(fn),
  random: (b) => {
    for (let i = 0; i < b.length; i += 4) {
      const v = ops.op_cpu_random();
      if (v < 0) {
        guestCrypto().getRandomValues(b);
        return;
      }
      b[i] = v;
      if (i + 1 < b.length) b[i + 1] = v >>> 8;
      if (i + 2 < b.length) b[i + 2] = v >>> 16;
      if (i + 3 < b.length) b[i + 3] = v >>> 24;
    }
  },
};

let driver: StackDriver | undefined;

function up(): StackDriver {
  if (driver) return driver;
  let dev;
  try {
    dev = openNetDeviceSync(0);
  } catch (e) {
    if (e instanceof NetDevError) throw new NetError('ENODEV', `${e.message.replace(/^ENODEV: /, '')}`);
    throw e;
  }
  const config = ipConfigFor(parseCmdline(ops.op_cmdline()).kernel, 0);
  // Checksums in C: every segment is summed on send and on receive.
  setSumWordsImpl(ops.op_net_checksum);
  driver = new StackDriver(dev, guestEnv, config, (o) => new TcpLayer(o));
  return driver;
}

/** `kiln.dns=ADDR[,ADDR]` (kiln run --dns): DNS servers that win over ip='s and DHCP's; the
 * command line is read on the first query, once. */
let dnsServers: { addrs: Ipv4Addr[] | undefined } | undefined;
function dnsServersParam(): Ipv4Addr[] | undefined {
  if (dnsServers === undefined) {
    const text = parseCmdline(ops.op_cmdline()).kernel[DNS_PARAM];
    const addrs = text?.split(',').map(parseIpv4Addr);
    if (text !== undefined && addrs!.some((a) => a === undefined)) throw new NetError('EINVAL', `${DNS_PARAM}=${text}: expected dotted IPv4 addresses separated by commas`);
    dnsServers = { addrs: addrs as Ipv4Addr[] | undefined };
  }
  return dnsServers.addrs;
}

const api = new NetApi(up, dnsServersParam);

/** Listens on a TCP port (synchronously, like Deno.listen); EADDRINUSE if taken. Keeps the program alive until close(). */
export const listen = api.listen.bind(api);
/** Connects to a dotted IPv4 address or a hostname (DNS); ECONNREFUSED, ETIMEDOUT, ENETUNREACH, ENOTFOUND, EAI_AGAIN, EINVAL. */
export const connect = api.connect.bind(api);
/** A hostname's IPv4 addresses, dotted (DNS, over the servers of kiln run --dns, ip= or DHCP); ENOTFOUND, EAI_AGAIN. */
export const resolve = api.resolve.bind(api);
/** Binds a UDP port (0: an ephemeral one). */
export const listenDatagram = api.listenDatagram.bind(api);
/** The network interface(s): address, netmask, gateway, MAC, how configured ([] without a NIC). */
export const interfaces = api.interfaces.bind(api);
/** Resolves once the interface has an address (at once with ip= static; DHCP otherwise). */
export const configured = api.configured.bind(api);
/** Counters of the interface and the transmit path. */
export const stats = api.stats.bind(api);
