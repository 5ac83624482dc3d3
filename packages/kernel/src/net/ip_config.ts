// The kernel command line's `ip=` parameter in Linux's syntax (Documentation/admin-guide/nfs/
// nfsroot.rst): `ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:
// <dns0-ip>:<dns1-ip>:<ntp0-ip>`, or one word: `ip=dhcp` (also on, any), `ip=off` (none).
// Kiln's reading: a client address with autoconf empty, off, none, on or any is a static
// configuration (Linux also skips autoconfiguration when the address is given); autoconf dhcp
// asks the DHCP client; bootp, rarp and both are refused (not implemented). An empty netmask is
// the address's class default, as Linux's. server-ip and ntp0-ip are accepted and unused. The
// device is `eth<N>` (the N-th NIC) or empty (all). No `ip=` at all means DHCP.
// Bad values throw NetError EINVAL naming the field.

import { formatIpv4Addr, netmaskToPrefix, parseIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import { NetError, type Ipv4Addr } from './types.ts';

export interface StaticConfig {
  method: 'static';
  address: Ipv4Addr;
  netmask: Ipv4Addr;
  /** 0: no default route (off-link destinations are unreachable). */
  gateway: Ipv4Addr;
  hostname: string;
  dns: Ipv4Addr[];
}

export interface DhcpConfig {
  method: 'dhcp';
  hostname: string;
}

export interface OffConfig {
  method: 'off';
}

export type IpConfig = StaticConfig | DhcpConfig | OffConfig;

/** A parsed `ip=` value and the device it names (undefined: every NIC). */
export interface IpParam {
  config: IpConfig;
  device: string | undefined;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The classful default mask Linux uses when the netmask field is empty (and a DHCP server sends none). */
export function classMask(addr: Ipv4Addr): Ipv4Addr {
  if (addr >>> 31 === 0) return 0xff00_0000;
  if (addr >>> 30 === 2) return 0xffff_0000;
  return 0xffff_ff00;
}

/** Parses the value of `ip=` (what follows the `=`). */
export function parseIpParam(value: string): IpParam {
  const fail = (why: string): NetError => new NetError('EINVAL', `ip=${value}: ${why}`);
  const word = value.toLowerCase();
  if (word === 'dhcp' || word === 'on' || word === 'any') return { config: { method: 'dhcp', hostname: '' }, device: undefined };
  if (word === 'off' || word === 'none') return { config: { method: 'off' }, device: undefined };
  if (word === 'bootp' || word === 'rarp' || word === 'both') throw fail(`${word} is not supported (use dhcp, or a static address)`);
  if (!value.includes(':')) throw fail('expected dhcp, off, or <client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>');
  const f = value.split(':');
  if (f.length > 10) throw fail(`too many fields (${f.length}, at most 10)`);
  const addrField = (i: number, name: string): Ipv4Addr | undefined => {
    const t = f[i] ?? '';
    if (t === '') return undefined;
    const a = parseIpv4Addr(t);
    if (a === undefined) throw fail(`${name} ${JSON.stringify(t)} is not a dotted IPv4 address`);
    return a;
  };
  const client = addrField(0, 'client-ip');
  addrField(1, 'server-ip');
  const gateway = addrField(2, 'gw-ip') ?? 0;
  const mask = addrField(3, 'netmask');
  const hostname = f[4] ?? '';
  const device = f[5] ?? '';
  const autoconf = (f[6] ?? '').toLowerCase();
  const dns = [addrField(7, 'dns0-ip'), addrField(8, 'dns1-ip')].filter((a): a is Ipv4Addr => a !== undefined);
  addrField(9, 'ntp0-ip');
  if (hostname !== '' && (hostname.length > 253 || !HOSTNAME.test(hostname))) throw fail(`hostname ${JSON.stringify(hostname)} is not a valid host name`);
  if (device !== '' && !/^eth[0-9]{1,2}$/.test(device)) throw fail(`device ${JSON.stringify(device)} is not eth<N> (the N-th network device)`);
  const dev = device === '' ? undefined : device;
  if (autoconf === 'bootp' || autoconf === 'rarp' || autoconf === 'both') throw fail(`autoconf ${autoconf} is not supported (use dhcp, or off with a client address)`);
  if (!['', 'off', 'none', 'on', 'any', 'dhcp'].includes(autoconf)) throw fail(`autoconf ${JSON.stringify(f[6])} is not one of off, none, on, any, dhcp`);
  if (autoconf === 'dhcp' || (client === undefined && (autoconf === '' || autoconf === 'on' || autoconf === 'any'))) {
    return { config: { method: 'dhcp', hostname }, device: dev };
  }
  if (client === undefined) return { config: { method: 'off' }, device: dev };
  const netmask = mask ?? classMask(client);
  if (netmaskToPrefix(netmask) === undefined) throw fail(`netmask ${formatIpv4Addr(netmask)} is not contiguous`);
  if (client === 0 || client === 0xffff_ffff || client >>> 24 === 127 || client >>> 28 >= 0xe) throw fail(`client-ip ${formatIpv4Addr(client)} cannot be a host address`);
  if (netmask !== 0xffff_ffff && ((client & ~netmask) === 0 || (client | netmask) >>> 0 === 0xffff_ffff)) {
    throw fail(`client-ip ${formatIpv4Addr(client)} is the network or broadcast address of its /${netmaskToPrefix(netmask)}`);
  }
  if (gateway !== 0 && ((gateway ^ client) & netmask) !== 0) throw fail(`gw-ip ${formatIpv4Addr(gateway)} is not on the client's network`);
  return { config: { method: 'static', address: client, netmask, gateway, hostname, dns }, device: dev };
}

/** The configuration of NIC `index` from the kernel parameters: `ip=` if it names this NIC (or none), else DHCP. */
export function ipConfigFor(kernelParams: Record<string, string>, index: number): IpConfig {
  const value = kernelParams['ip'];
  if (value === undefined) return { method: 'dhcp', hostname: '' };
  const p = parseIpParam(value);
  if (p.device !== undefined && p.device !== `eth${index}`) return { method: 'off' };
  return p.config;
}
