// `kiln run`: checks the image, builds the guest command line and boots it on Kiln's VMM
// (@kiln/vmm runVm: KVM where /dev/kvm opens, else the process platform) or on QEMU microvm; returns the guest's exit code, or maps
// VMM-side failures to docs/ARCHITECTURE.md "Exit codes" (123 died, 124 timeout, 125 VMM, 126 image).
// Guest command line: docs/ARCHITECTURE.md "Guest command line".

import { readFileSync } from 'node:fs';
import { BootfsError, BootfsImage, CMDLINE_MAX, ImageError, PAYLOAD_KIND_BOOTFS, readImagePayload } from '@kiln/common';
import type { VmResult } from '@kiln/vmm';
import { MOUNTS_PARAM, formatMounts, type MountRequest } from '@kiln/common/mount_spec.ts';
import { DNS_PARAM, quoteArg } from '@kiln/common/cmdline.ts';
import { CliError } from './errors.ts';
import { checkImage } from './image_check.ts';
import { isRegularFile } from './console_file.ts';
import { kvmUsable, runQemu, type Accel } from './qemu.ts';
import type { NetSpec } from './flags.ts';
import type { ProfileRequest } from './profile.ts';

export interface RunOptions {
  image: string;
  memMiB: number;
  cpus: number;
  vmm: 'kiln' | 'qemu';
  /** QEMU: kvm or tcg; Kiln's VMM: kvm or process (default: kvm where it opens, else process). */
  accel?: Accel | 'process';
  /** The process platform without namespaces and seccomp (only when asked). */
  unconfined?: boolean;
  bootTimer: boolean;
  timings?: boolean;
  bootchart: boolean;
  timeoutS?: number;
  args: string[];
  /** virtio-blk disks in order (already checked by flags.ts checkDisk). */
  disks?: { path: string; readOnly: boolean }[];
  /** One virtio-net NIC (already checked by flags.ts parseNet). */
  net?: NetSpec;
  /** virtio-vsock on Kiln's VMM (already checked by flags.ts parseVsock). */
  vsock?: { cid: number; udsPath: string };
  /** virtio-fs shares on Kiln's VMM (already checked by flags.ts parseShare / checkShareTags). */
  shares?: { hostDir: string; tag: string; readOnly: boolean; allowSetid: boolean }[];
  /**
   * Guest console on Kiln's VMM: serial; virtio (virtio-console from the first line); auto
   * (default: the device is there and the guest moves to it after 512 characters, when stdout is
   * the console fast path). QEMU: serial.
   */
  console?: 'serial' | 'virtio' | 'auto';
  /** The guest's environment, NAME=value pairs before `--` (already checked by flags.ts parseEnv). */
  env?: [string, string][];
  /** DNS servers for kiln:net (already checked by flags.ts parseDns). */
  dns?: string[];
  /** Filesystems the guest mounts before the app runs (already checked by flags.ts parseMounts). */
  mounts?: MountRequest[];
  /** Sample the guest (`kiln profile`, Kiln's VMM only): see profile.ts. */
  profile?: ProfileRequest;
  stdout?: (chunk: Uint8Array) => void;
  /** diagnostics (which VMM ran); default: nothing */
  info?: (line: string) => void;
}

/** runVm's virtioConsole for --console (bench/RESULTS.md "Virtio": auto costs hello nothing and
 * 1000 lines 42 ms instead of 1.76 s on serial). */
export function virtioConsoleFor(o: Pick<RunOptions, 'console' | 'stdout'>): { virtioConsole?: boolean | 'auto' } {
  const mode = o.console ?? 'auto';
  if (mode === 'virtio') return { virtioConsole: true };
  if (mode === 'auto' && !o.stdout) return { virtioConsole: 'auto' };
  return {};
}

/** Bytes of the guest command line kept for the tokens the VMMs add (a `virtio_mmio.device=…`
 * per device, about 36 bytes each, and `kiln.console=…`): QEMU appends them after what kiln gives
 * and the core keeps only CMDLINE_MAX - 1 bytes, so a longer line would lose devices silently. */
export const CMDLINE_VMM_RESERVE = 1024;
/** The most the command line kiln builds may hold. */
export const CMDLINE_KILN_MAX = CMDLINE_MAX - 1 - CMDLINE_VMM_RESERVE;

/** Guest command line: kernel params, the environment (NAME=value), then ` -- ` and the quoted guest arguments. */
export function guestCmdline(bootchart: boolean, args: readonly string[], kernelParams: readonly string[] = [], env: readonly (readonly [string, string])[] = []): string {
  const quoted = args.map((a) => {
    const q = quoteArg(a);
    if (q === undefined) throw new CliError('EUSAGE', `guest argument ${JSON.stringify(a)} contains a double quote, which the guest command line cannot carry`);
    return q;
  });
  const envTokens = env.map(([n, v]) => (/\s/.test(v) ? `${n}="${v}"` : `${n}=${v}`));
  const line = `${[...(bootchart ? ['kiln.bootchart'] : []), ...kernelParams, ...envTokens].join(' ')} -- ${quoted.join(' ')}`.trim();
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > CMDLINE_KILN_MAX) {
    throw new CliError('EUSAGE', `the guest command line (--env, guest arguments, kernel parameters) would be ${bytes} bytes; at most ${CMDLINE_KILN_MAX} fit (${CMDLINE_MAX} with the NUL, less ${CMDLINE_VMM_RESERVE} for the devices the VMM lists)`);
  }
  return line;
}

/** The guest's address on user-mode networking: what passt (vmm net_backend.ts USER_NET) and QEMU's slirp hand out. */
export const USER_NET_IP = 'ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off';

/**
 * The static `ip=` kernel parameter (Linux's syntax, read by kiln:net) for the NIC: user-mode
 * networking's fixed address, so the guest does not wait for DHCP; `tap=NAME,ip=...`'s; none
 * for a TAP without ip= (the guest asks DHCP).
 */
export function guestIpParam(net: NetSpec | undefined): string | undefined {
  if (!net) return undefined;
  if ('user' in net) return USER_NET_IP;
  const g = net.guestIp;
  if (!g) return undefined;
  const mask = 2 ** 32 - 2 ** (32 - g.prefix);
  const dotted = [mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff].join('.');
  return `ip=${g.address}::${g.gateway ?? ''}:${dotted}::eth0:off`;
}

/** The NIC as the VMMs take it (the guest's address travels on the command line instead). */
function vmmNet(net: NetSpec): { tap: string } | { user: { hostfwd: { hostAddr: string; hostPort: number; guestPort: number }[] } } {
  return 'tap' in net ? { tap: net.tap } : net;
}

/** The kiln.mounts= kernel parameter for --mount (none without mounts). */
export function mountsParam(mounts: readonly MountRequest[]): string[] {
  return mounts.length > 0 ? [`${MOUNTS_PARAM}=${formatMounts(mounts)}`] : [];
}

/** --mount needs an image with kiln:fs (kiln build gives those, and only those, a bootfs
 * section) and must not hide the files --assets put in it. */
export function checkMounts(image: Uint8Array, path: string, mounts: readonly MountRequest[]): void {
  if (mounts.length === 0) return;
  let sections;
  try {
    sections = readImagePayload(image).sections;
  } catch (err) {
    if (err instanceof ImageError) throw new CliError('EBADIMAGE', `bad image ${path}: ${err.message} [${err.code}]`);
    throw err;
  }
  const section = sections.find((s) => s.kind === PAYLOAD_KIND_BOOTFS);
  if (!section) throw new CliError('EUSAGE', `--mount: ${path} does not use kiln:fs, so it cannot mount filesystems (import kiln:fs in the app)`);
  let bootfs: BootfsImage;
  try {
    bootfs = BootfsImage.parse(section.data);
  } catch (err) {
    if (err instanceof BootfsError) throw new CliError('EBADIMAGE', `bad image ${path}: ${err.message} [${err.code}]`);
    throw err;
  }
  const hidden = mounts.find((m) => bootfs.nodeCount > 1 && m.path === bootfs.mountPoint);
  if (hidden) throw new CliError('EUSAGE', `--mount ${hidden.path}: the image's --assets files are mounted there (mount somewhere else)`);
}

/**
 * Writes to kiln's stdout and resolves once the bytes are with the OS, so a slow reader slows the
 * copy instead of piling up in memory, and nothing is still queued when kiln exits. A reader that
 * went away (EPIPE) gets nothing more; the guest runs on.
 */
export function stdoutWriter(out: NodeJS.WritableStream & { writableEnded?: boolean } = process.stdout): (chunk: Uint8Array) => Promise<void> | void {
  let broken = false;
  out.on('error', () => {
    broken = true;
  });
  return (chunk) => {
    if (broken) return;
    return new Promise<void>((resolve) => {
      out.write(chunk, (err) => {
        if (err) broken = true;
        resolve();
      });
    });
  };
}

function readImage(path: string, memMiB: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError('EUSAGE', `cannot read image ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    checkImage(bytes, memMiB);
  } catch (err) {
    if (err instanceof ImageError) throw new CliError('EBADIMAGE', `bad image ${path}: ${err.message} [${err.code}]`);
    throw err;
  }
  return bytes;
}

function fromVmResult(r: Pick<VmResult, 'reason' | 'exitCode' | 'message'>, timeoutS: number | undefined): number {
  switch (r.reason) {
    case 'exit':
    case 'reset':
      return r.exitCode;
    case 'timeout':
      throw new CliError('ETIMEOUT', `the guest did not finish within --timeout ${timeoutS}s and was stopped`);
    case 'shutdown':
    case 'error':
    default:
      throw new CliError('EGUEST', `the guest died: ${r.message ?? 'unknown error'}`);
  }
}

/** Maps errors thrown by the VMM (typed by code) to CLI errors. */
function fromVmmError(err: unknown): CliError {
  const e = err as { name?: string; code?: string; message?: string };
  if (err instanceof ImageError || e.name === 'ImageError') return new CliError('EBADIMAGE', `bad image: ${e.message} [${e.code}]`);
  if (e.name === 'VmmError' && (e.code === 'ETENDER' || e.code === 'ECONFINE')) return new CliError('EVMM', `${e.message} [${e.code}]`);
  if (e.name === 'VmmError') return new CliError('EUSAGE', `${e.message} [${e.code}]`);
  return new CliError('EVMM', `${e.message ?? String(err)}${e.code !== undefined ? ` [${e.code}]` : ''}`);
}

export async function runImage(o: RunOptions): Promise<number> {
  const image = readImage(o.image, o.memMiB);
  checkMounts(image, o.image, o.mounts ?? []);
  const ipParam = guestIpParam(o.net);
  const cmdline = guestCmdline(o.bootchart, o.args, [...(ipParam ? [ipParam] : []), ...(o.dns ? [`${DNS_PARAM}=${o.dns.join(',')}`] : []), ...mountsParam(o.mounts ?? [])], o.env ?? []);
  const stdout = o.stdout ?? ((c: Uint8Array) => void process.stdout.write(c));
  const timeoutMs = o.timeoutS === undefined ? undefined : Math.round(o.timeoutS * 1000);

  if (o.vmm === 'qemu') {
    if (o.accel === 'process') throw new CliError('EUSAGE', '--accel process: the process platform is Kiln\'s VMM\'s (use --vmm kiln)');
    const accel = o.accel ?? (kvmUsable() ? 'kvm' : 'tcg');
    if (accel === 'kvm' && !kvmUsable()) throw new CliError('EVMM', '--accel kvm: /dev/kvm is missing or not usable (try --accel tcg)');
    o.info?.(`vmm=qemu accel=${accel}`);
    // kiln's stdout when it is a regular file QEMU writes itself; else the copy waits for stdout.
    const console = o.stdout ? { stdout: o.stdout } : isRegularFile(1) ? { stdout, stdoutFile: 1 } : { stdout: stdoutWriter() };
    const r = await runQemu({ image: o.image, memMiB: o.memMiB, cpus: o.cpus, cmdline, accel, timeoutMs, ...console, disks: o.disks ?? [], ...(o.net ? { net: vmmNet(o.net) } : {}) });
    if (r.reason === 'timeout') return fromVmResult({ ...r, reason: 'timeout' }, o.timeoutS);
    if (r.reason === 'killed') throw new CliError('EGUEST', `the guest died: ${r.message ?? 'QEMU was killed'}`);
    if (r.reason === 'error') throw new CliError('EVMM', r.message ?? 'QEMU failed');
    return r.exitCode;
  }

  let vmm: typeof import('@kiln/vmm');
  let kvm: typeof import('@kiln/kvm');
  try {
    [vmm, kvm] = await Promise.all([import('@kiln/vmm'), import('@kiln/kvm')]); // lazily: `kiln build` needs no VMM
  } catch (err) {
    throw new CliError('EVMM', `cannot load Kiln's VMM: ${(err as Error).message}`);
  }
  // KVM where it opens (the addon loaded and /dev/kvm opened before the VM build starts, so the
  // boot timer covers building and booting the VM, not loading the program); else the process
  // platform, said in one line. --accel forces either.
  let hypervisor: import('@kiln/kvm').Kvm | undefined;
  let platform: 'kvm' | 'process' = o.accel === 'process' ? 'process' : 'kvm';
  if (platform === 'kvm') {
    try {
      hypervisor = kvm.Kvm.open();
    } catch (err) {
      if (!(err instanceof kvm.KvmError)) throw fromVmmError(err); // opening KVM failed in any way: it is not usable here
      if (o.accel === 'kvm') throw new CliError('EVMM', `--accel kvm: ${(err as Error).message} (--accel process runs the image as a confined process instead)`);
      platform = 'process';
      process.stderr.write(`kiln: KVM is not usable here (${(err as Error).message}); running on the process platform (--accel kvm forces KVM)\n`);
    }
  }
  if (o.unconfined && platform !== 'process') throw new CliError('EUSAGE', '--unconfined: only the process platform confines the guest itself (use --accel process)');
  if (platform === 'process' && o.cpus !== 1) throw new CliError('EUSAGE', `--cpus ${o.cpus}: the process platform runs one vCPU (KVM runs more)`);
  if (platform === 'process') {
    try {
      kvm.loadAddon(); // as /dev/kvm is opened above: loading the addon is not part of the VM build
    } catch (err) {
      throw fromVmmError(err);
    }
  }
  o.info?.(`vmm=kiln accel=${platform}`);
  let r: VmResult;
  try {
    r = await vmm.runVm({ image, disks: o.disks ?? [], ...(o.net ? { net: vmmNet(o.net) } : {}), ...(o.vsock ? { vsock: o.vsock } : {}), ...(o.shares?.length ? { shares: o.shares } : {}), memMiB: o.memMiB, cpus: o.cpus, cmdline, bootTimer: o.bootTimer, timeoutMs, boot: 'linux', ...(o.stdout ? { stdout: { write: stdout } } : { stdoutFd: 1 }), ...virtioConsoleFor(o), stderr: process.stderr, platform, ...(o.unconfined ? { unconfined: true } : {}), ...(hypervisor ? { hypervisor } : {}), ...(o.profile ? { profile: o.profile } : {}) });
  } catch (err) {
    throw fromVmmError(err);
  } finally {
    hypervisor?.close();
  }
  if (o.timings) process.stderr.write(`kiln: timings ${r.timings.map((t) => `${t.step}=${t.ms.toFixed(3)}ms`).join(' ')}\n`);
  return fromVmResult(r, o.timeoutS);
}
