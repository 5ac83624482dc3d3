// Addresses in kiln:net's API, shared by its TCP (tcp_stream.ts) and UDP (udp_conn.ts) sockets:
// the NetAddr an app sees, and the checks of the hostname and port it passes.

import { parseIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import { NetError, type Ipv4Addr } from './types.ts';

export interface NetAddr {
  transport: 'tcp' | 'udp';
  hostname: string;
  port: number;
}

/** A dotted IPv4 address (there is no DNS), or EINVAL naming `what`. */
export function parseHostname(hostname: unknown, what: string): Ipv4Addr {
  const a = typeof hostname === 'string' ? parseIpv4Addr(hostname) : undefined;
  if (a === undefined) throw new NetError('EINVAL', `${what} ${JSON.stringify(hostname)} is not a dotted IPv4 address (kiln:net has no DNS)`);
  return a;
}

/** A port number in [min, 65535], or EINVAL. */
export function checkPort(port: unknown, min: number): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw new NetError('EINVAL', `port ${String(port)} is not an integer between ${min} and 65535`);
  }
  return port;
}
