// Validation of `kiln run` flag values: each bad value becomes one line naming the flag, what
// was expected and what was given (exit code 2). Pure functions (checkDisk looks at the file),
// tested by golden strings. Style: esbuild's CLI errors (name the flag and the fix).

import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MEM_MIB_MAX, MEM_MIB_MIN } from '@kiln/common';
import { badMountPath, type MountRequest, type MountSource } from '@kiln/common/mount_spec.ts';
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

/** A duration flag in seconds (--timeout, kiln profile's --duration). */
export function parseSeconds(flag: string, value: string): number {
  const n = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !(n > 0) || n > TIMEOUT_MAX_S) {
    throw bad(flag, `a number of seconds greater than 0 and at most ${TIMEOUT_MAX_S}`, value);
  }
  return n;
}

export function parseTimeout(value: string): number {
  return parseSeconds('--timeout', value);
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

/** `--dns ADDR[,ADDR]`: DNS servers for kiln:net (dotted IPv4 addresses; they win over DHCP's and ip='s). */
export function parseDns(value: string): string[] {
  const addrs = value.split(',');
  if (addrs.length > 3 || addrs.some((a) => !DOTTED.test(a))) {
    throw new CliError('EUSAGE', `--dns ${value}: expected one to three dotted IPv4 addresses separated by commas (--dns 10.0.2.3)`);
  }
  return addrs;
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

/**
 * `--mount GUESTPATH=SPEC`: SPEC is a disk index (`0` is the first --disk; its filesystem is
 * detected by the guest), `tmpfs` (memory), or a virtio-fs tag given with --share. Mount paths
 * must be absolute, normalised, and distinct.
 */
export function parseMounts(values: readonly string[], disks: readonly DiskSpec[], shareTags: readonly string[]): MountRequest[] {
  const out: MountRequest[] = [];
  for (const value of values) {
    const fail = (why: string): CliError => new CliError('EUSAGE', `--mount ${value}: ${why}`);
    const eq = value.indexOf('=');
    if (eq <= 0 || eq === value.length - 1) throw bad('--mount', 'GUESTPATH=DISK_INDEX, GUESTPATH=tmpfs or GUESTPATH=TAG', value);
    const path = value.slice(0, eq);
    const spec = value.slice(eq + 1);
    const why = badMountPath(path);
    if (why !== undefined) throw fail(why);
    if (out.some((m) => m.path === path)) throw fail(`${path} is mounted twice`);
    let source: MountSource;
    if (/^[0-9]+$/.test(spec)) {
      const index = Number(spec);
      if (index >= disks.length) {
        throw fail(disks.length === 0 ? 'there is no --disk to mount' : `there is no disk ${index} (${disks.length} --disk given; 0 is the first)`);
      }
      source = { kind: 'disk', index };
    } else if (spec === 'tmpfs') {
      source = { kind: 'tmpfs' };
    } else {
      if (!shareTags.includes(spec)) throw fail(`no --share has the tag ${JSON.stringify(spec)} (a disk index, tmpfs, or the TAG of --share HOSTDIR:TAG)`);
      source = { kind: 'virtiofs', tag: spec };
    }
    out.push({ path, source });
  }
  return out;
}

export interface ShareSpec {
  hostDir: string;
  tag: string;
  readOnly: boolean;
  /** The guest may set setuid/setgid bits on the host (default: stripped, as virtiofsd does). */
  allowSetid: boolean;
}

/** The longest virtio-fs tag (virtio 1.2 §5.11.4: 36 bytes). */
export const SHARE_TAG_MAX_BYTES = 36;
const SHARE_OPTIONS = ['ro', 'suid'] as const;

/**
 * `--share HOSTDIR:TAG[,ro][,suid]`: the directory must exist; the tag (after the last colon) is
 * 1 to 36 bytes without commas, colons or spaces; options after it. Uniqueness across flags is
 * checkShareTags'.
 */
export function parseShare(value: string): ShareSpec {
  const colon = value.lastIndexOf(':');
  const hostDir = colon < 0 ? '' : value.slice(0, colon);
  const [tag = '', ...opts] = colon < 0 ? [''] : value.slice(colon + 1).split(',');
  if (hostDir === '' || tag === '') throw bad('--share', 'HOSTDIR:TAG[,ro][,suid]', value);
  const fail = (why: string): CliError => new CliError('EUSAGE', `--share ${value}: ${why}`);
  for (const o of opts) {
    if (!(SHARE_OPTIONS as readonly string[]).includes(o)) throw fail(`unknown option ${JSON.stringify(o)} (options: ${SHARE_OPTIONS.join(', ')})`);
    if (opts.indexOf(o) !== opts.lastIndexOf(o)) throw fail(`option ${o} is given twice`);
  }
  if (/\s/.test(tag)) throw fail(`tag ${JSON.stringify(tag)} may not contain spaces or commas`);
  const bytes = Buffer.byteLength(tag, 'utf8');
  if (bytes > SHARE_TAG_MAX_BYTES) throw fail(`tag ${JSON.stringify(tag)} is ${bytes} bytes; at most ${SHARE_TAG_MAX_BYTES} fit`);
  let isDir = false;
  try {
    isDir = statSync(hostDir).isDirectory();
  } catch (e) {
    throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? `directory ${hostDir} does not exist` : (e as Error).message);
  }
  if (!isDir) throw fail(`${hostDir} is not a directory`);
  return { hostDir, tag, readOnly: opts.includes('ro'), allowSetid: opts.includes('suid') };
}

/** Tags name shares in the guest: each may be given once. */
export function checkShareTags(shares: readonly ShareSpec[]): void {
  const seen = new Set<string>();
  for (const s of shares) {
    if (seen.has(s.tag)) throw new CliError('EUSAGE', `--share: tag ${JSON.stringify(s.tag)} is given twice (each share needs its own tag)`);
    seen.add(s.tag);
  }
}

/** IFF_TUN / IFF_TAP in /sys/class/net/NAME/tun_flags (linux/if_tun.h). */
const IFF_TUN = 0x0001;
const IFF_TAP = 0x0002;

/**
 * `--net tap=NAME` needs an existing TAP interface: without one QEMU and Kiln's VMM would open
 * /dev/net/tun with that name, and as root that creates a new, unconfigured interface.
 */
export function checkTap(net: NetSpec | undefined, sysClassNet = '/sys/class/net'): void {
  if (!net || !('tap' in net)) return;
  const name = net.tap;
  const fail = (why: string): CliError => new CliError('EUSAGE', `--net tap=${name}: ${why}`);
  let flags: string;
  try {
    statSync(`${sysClassNet}/${name}`);
  } catch {
    throw fail(`there is no network interface ${name} (create it first: ip tuntap add dev ${name} mode tap)`);
  }
  try {
    flags = readFileSync(`${sysClassNet}/${name}/tun_flags`, 'utf8');
  } catch {
    throw fail(`${name} is not a TAP interface (it has no tun_flags; create one with ip tuntap add dev NAME mode tap)`);
  }
  const f = Number(flags.trim());
  if ((f & IFF_TAP) === 0) throw fail(`${name} is a ${(f & IFF_TUN) !== 0 ? 'TUN' : 'tun/tap'} interface, not a TAP one (ip tuntap add dev NAME mode tap)`);
}

/** Guest environment names: a letter or _, then letters, digits and _ (POSIX's portable names). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names the guest command line reads as kernel parameters, never as environment (cmdline.ts). */
const ENV_RESERVED = ['ip'];

/**
 * `--env NAME=VALUE` (repeatable) → ordered pairs. The value may be empty and contain blanks,
 * but no double quote (the guest command line cannot carry one) and no control character.
 */
export function parseEnv(values: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw bad('--env', 'NAME=VALUE', v);
    const name = v.slice(0, eq);
    const value = v.slice(eq + 1);
    const fail = (why: string): CliError => new CliError('EUSAGE', `--env ${v}: ${why}`);
    if (!ENV_NAME.test(name)) throw fail(`${JSON.stringify(name)} is not a variable name (a letter or _, then letters, digits or _)`);
    if (ENV_RESERVED.includes(name)) throw fail(`${name}= is a kernel parameter on the guest command line, not an environment variable`);
    if (value.includes('"')) throw fail('the value contains a double quote, which the guest command line cannot carry');
    if (/[\u0000-\u001f\u007f]/.test(value)) throw fail('the value contains a control character');
    if (out.some(([n]) => n === name)) throw fail(`${name} is given twice`);
    out.push([name, value]);
  }
  return out;
}
