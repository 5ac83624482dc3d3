// Validation of `kiln run` flag values: each bad value becomes one line naming the flag, what
// was expected and what was given (exit code 2). Pure functions (checkDisk looks at the file),
// tested by golden strings. Style: esbuild's CLI errors (name the flag and the fix).

import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MEM_MIB_MAX, MEM_MIB_MIN } from '@kiln/common';
import { CliError } from './errors.ts';

export const CPUS_MAX = 64;
export const TIMEOUT_MAX_S = 86400;

const bad = (flag: string, expected: string, got: string): CliError =>
  new CliError('EUSAGE', `${flag}: expected ${expected}, got ${JSON.stringify(got)}`);

export function parseIntFlag(flag: string, value: string, min: number, max: number, what: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw bad(flag, `an integer number of ${what} between ${min} and ${max}`, value);
  }
  return Number(value);
}

export function parseMem(value: string): number {
  return parseIntFlag('--mem', value, MEM_MIB_MIN, MEM_MIB_MAX, 'MiB');
}

export function parseCpus(value: string): number {
  return parseIntFlag('--cpus', value, 1, CPUS_MAX, 'vCPUs');
}

export function parseTimeout(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !(n > 0) || n > TIMEOUT_MAX_S) {
    throw bad('--timeout', `a number of seconds greater than 0 and at most ${TIMEOUT_MAX_S}`, value);
  }
  return n;
}

export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw bad(flag, `one of ${choices.join(', ')}`, value);
  return value as T;
}

export interface DiskSpec {
  path: string;
  readOnly: boolean;
}

/** `--disk PATH[,ro]` → spec (the file is checked by checkDisk). */
export function parseDisk(value: string): DiskSpec {
  const ro = value.endsWith(',ro');
  const path = ro ? value.slice(0, -3) : value;
  if (path === '') throw bad('--disk', 'PATH or PATH,ro', value);
  return { path, readOnly: ro };
}

/** The disk image exists, is a regular file, is readable (and writable unless ro), and its size is a multiple of 512. */
export function checkDisk(d: DiskSpec): DiskSpec {
  const fail = (why: string): CliError => new CliError('EUSAGE', `--disk ${d.path}: ${why}`);
  let size: number;
  try {
    const st = statSync(d.path);
    if (!st.isFile()) throw fail('not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  try {
    accessSync(d.path, constants.R_OK);
  } catch {
    throw fail('not readable');
  }
  if (!d.readOnly) {
    try {
      accessSync(d.path, constants.W_OK);
    } catch {
      throw fail('not writable (add ,ro to attach it read-only)');
    }
  }
  if (size % 512 !== 0) throw fail(`size ${size} bytes is not a multiple of 512`);
  return d;
}

export interface HostFwdSpec {
  hostAddr: string;
  hostPort: number;
  guestPort: number;
}

/** A static guest address for `--net tap=NAME,ip=ADDR/PREFIX[,gw=GW]` (dotted quads, checked). */
export interface GuestIpSpec {
  address: string;
  prefix: number;
  gateway?: string;
}

export type NetSpec = { tap: string; guestIp?: GuestIpSpec } | { user: { hostfwd: HostFwdSpec[] } };

const NET_FORMS = 'user[,hostfwd=[tcp:]127.0.0.1:HOSTPORT-[10.0.2.15]:GUESTPORT ...] or tap=NAME[,ip=ADDR/PREFIX[,gw=GW]]';

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const DOTTED = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const toU32 = (a: string): number => a.split('.').reduce((v, o) => v * 256 + Number(o), 0);

/** `ip=ADDR/PREFIX` and `gw=GW` after a TAP name: a host address on its network, and a gateway on it. */
function parseGuestIp(opts: string[], fail: (why: string) => CliError): GuestIpSpec | undefined {
  let ip: string | undefined;
  let gw: string | undefined;
  for (const o of opts) {
    if (o.startsWith('ip=') && ip === undefined) ip = o.slice(3);
    else if (o.startsWith('gw=') && gw === undefined) gw = o.slice(3);
    else throw fail(`unknown or repeated option ${JSON.stringify(o)} (expected ip=ADDR/PREFIX and gw=GW)`);
  }
  if (ip === undefined) {
    if (gw !== undefined) throw fail('gw= needs ip=ADDR/PREFIX (without ip=, the guest asks DHCP)');
    return undefined;
  }
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(ip);
  if (!m || !DOTTED.test(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 30) throw fail(`ip=${ip}: expected ADDR/PREFIX, a dotted IPv4 address and a prefix length 1 to 30`);
  const address = m[1]!;
  const prefix = Number(m[2]);
  const a = toU32(address);
  const host = a % 2 ** (32 - prefix);
  if (host === 0 || host === 2 ** (32 - prefix) - 1) throw fail(`ip=${ip}: ${address} is the network or broadcast address of its /${prefix}`);
  if (gw === undefined) return { address, prefix };
  if (!DOTTED.test(gw)) throw fail(`gw=${gw}: expected a dotted IPv4 address`);
  const net = (x: number): number => Math.floor(x / 2 ** (32 - prefix));
  if (net(toU32(gw)) !== net(a) || gw === address) throw fail(`gw=${gw}: the gateway must be another address on ${address}/${prefix}`);
  return { address, prefix, gateway: gw };
}

/**
 * `--net user[,hostfwd=...]` (QEMU's syntax: hostfwd=[tcp:]hostaddr:hostport-[guestaddr]:guestport,
 * repeatable; host addresses must be loopback, the guest address empty or 10.0.2.15) or
 * `--net tap=NAME[,ip=ADDR/PREFIX[,gw=GW]]` (an existing TAP interface; the guest's static
 * address, else the guest asks DHCP).
 */
export function parseNet(value: string): NetSpec {
  const fail = (why: string): CliError => new CliError('EUSAGE', `--net ${value}: ${why}`);
  const tap = /^tap=([^,]*)(?:,(.*))?$/.exec(value);
  if (tap) {
    const name = tap[1]!;
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw fail('a TAP interface name is 1 to 15 letters, digits, _ . or -');
    const guestIp = tap[2] === undefined ? undefined : parseGuestIp(tap[2].split(','), fail);
    return guestIp ? { tap: name, guestIp } : { tap: name };
  }
  const parts = value.split(',');
  if (parts[0] !== 'user') throw bad('--net', NET_FORMS, value);
  const hostfwd: HostFwdSpec[] = [];
  for (const p of parts.slice(1)) {
    if (!p.startsWith('hostfwd=')) throw fail(`unknown option ${JSON.stringify(p)} (only hostfwd=... is supported)`);
    const m = /^hostfwd=(?:(tcp|udp):)?([^:]*):([0-9]{1,5})-([^:]*):([0-9]{1,5})$/.exec(p);
    if (!m) throw fail(`expected hostfwd=[tcp:]127.0.0.1:HOSTPORT-[10.0.2.15]:GUESTPORT, got ${JSON.stringify(p)}`);
    const [, proto, hostAddr, hostPort, guestAddr, guestPort] = m;
    if (proto === 'udp') throw fail('only TCP ports can be forwarded');
    if (!/^127\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){2}$/.test(hostAddr!)) {
      throw fail(`host address ${JSON.stringify(hostAddr)} is not a loopback address (only 127.0.0.1 and the rest of 127.0.0.0/8 are allowed)`);
    }
    if (guestAddr !== '' && guestAddr !== '10.0.2.15') throw fail(`guest address ${guestAddr} is not the guest's (10.0.2.15, or leave it empty)`);
    const hp = Number(hostPort);
    const gp = Number(guestPort);
    if (hp < 1 || hp > 65535 || gp < 1 || gp > 65535) throw fail('ports must be between 1 and 65535');
    if (hostfwd.some((f) => f.hostAddr === hostAddr && f.hostPort === hp)) throw fail(`host port ${hostAddr}:${hp} is forwarded twice`);
    hostfwd.push({ hostAddr: hostAddr!, hostPort: hp, guestPort: gp });
  }
  return { user: { hostfwd } };
}

export interface VsockSpec {
  cid: number;
  udsPath: string;
}

/** `--vsock CID,UDS_PATH`: CID 3 to 4294967294 (0-2 are reserved), and the socket's directory must exist. */
export function parseVsock(value: string): VsockSpec {
  const comma = value.indexOf(',');
  const cidText = comma < 0 ? value : value.slice(0, comma);
  const udsPath = comma < 0 ? '' : value.slice(comma + 1);
  if (!/^[0-9]{1,10}$/.test(cidText) || udsPath === '') throw bad('--vsock', 'CID,UDS_PATH', value);
  const cid = Number(cidText);
  if (cid < 3 || cid > 0xffff_fffe) throw new CliError('EUSAGE', `--vsock ${value}: CID must be 3 to 4294967294 (0-2 are reserved; 2 is the host), got ${cidText}`);
  const dir = dirname(udsPath);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing
  }
  if (!isDir) throw new CliError('EUSAGE', `--vsock ${value}: directory ${dir} does not exist`);
  return { cid, udsPath };
}
