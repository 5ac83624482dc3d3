// `kiln run --vmm qemu`: boots the image with QEMU's microvm machine through the PVH entry.
// The guest's exit code arrives through isa-debug-exit as QEMU's status (code << 1) | 1;
// status 0 without a debug exit means the guest reset (i8042) or QEMU quit: reason 'reset'; QEMU
// ended by a signal (its own "terminating on signal N" and status 0, or killed) is reason 'killed'.
// The console goes through a regular file (console_file.ts: QEMU's serial drops bytes behind a pipe).
// Spec: QEMU docs/system/i386/microvm.rst, hw/misc/debugexit.c; docs/ARCHITECTURE.md "Exit codes".

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { FileTail, closeQuietly, openUnlinkedFile, type ConsoleWriter } from './console_file.ts';
import type { NetSpec } from './flags.ts';

export type Accel = 'kvm' | 'tcg';

export interface QemuOptions {
  image: string;
  memMiB: number;
  cpus: number;
  cmdline: string;
  accel: Accel;
  timeoutMs?: number;
  /** The guest's console (awaited when it returns a promise); unused with stdoutFile. */
  stdout: ConsoleWriter;
  /** A regular file's descriptor QEMU writes the console to itself (kiln's stdout when it is a file). */
  stdoutFile?: number;
  stderr?: (chunk: Uint8Array) => void;
  qemu?: string;
  /** virtio-blk disks (raw images), attached as virtio-blk-device on microvm's virtio-mmio. */
  disks?: { path: string; readOnly: boolean }[];
  /** One virtio-net NIC: a TAP interface, or QEMU's user-mode (slirp) network with loopback forwards. */
  net?: NetSpec;
}

export interface QemuResult {
  exitCode: number;
  reason: 'exit' | 'reset' | 'timeout' | 'killed' | 'error';
  message?: string;
}

export const QEMU_BINARY = 'qemu-system-x86_64';

/** Whether /dev/kvm exists and can be opened read-write by this process. */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** QEMU option values escape a comma by doubling it. */
const qemuValue = (v: string): string => v.replaceAll(',', ',,');

/** virtio-rng always, then one -drive/-device pair per disk. microvm's virtio-mmio defaults to
 * the legacy version 1 transport; Kiln's drivers speak version 2 only. */
export function qemuVirtioArgs(disks: readonly { path: string; readOnly: boolean }[]): string[] {
  const out = ['-global', 'virtio-mmio.force-legacy=false', '-device', 'virtio-rng-device'];
  disks.forEach((d, i) => {
    out.push('-drive', `file=${qemuValue(d.path)},if=none,id=disk${i},format=raw${d.readOnly ? ',readonly=on' : ''}`, '-device', `virtio-blk-device,drive=disk${i}`);
  });
  return out;
}

/** -netdev/-device for the NIC: TAP without scripts, or slirp on 10.0.2.0/24 (guest 10.0.2.15) with hostfwd. */
export function qemuNetArgs(net: NetSpec | undefined): string[] {
  if (!net) return [];
  const netdev = 'tap' in net
    ? `tap,id=n0,ifname=${qemuValue(net.tap)},script=no,downscript=no`
    : ['user,id=n0,net=10.0.2.0/24', ...net.user.hostfwd.map((f) => `hostfwd=tcp:${f.hostAddr}:${f.hostPort}-:${f.guestPort}`)].join(',');
  return ['-netdev', netdev, '-device', 'virtio-net-device,netdev=n0'];
}

export function qemuArgs(o: Pick<QemuOptions, 'image' | 'memMiB' | 'cpus' | 'cmdline' | 'accel' | 'disks' | 'net'>): string[] {
  return [
    '-M', 'microvm,x-option-roms=off,rtc=on,acpi=off,isa-serial=on',
    '-kernel', o.image,
    '-append', o.cmdline,
    '-m', `${o.memMiB}M`,
    '-smp', `${o.cpus}`,
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-serial', 'stdio',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x01',
    ...qemuVirtioArgs(o.disks ?? []),
    ...qemuNetArgs(o.net),
    // arch-capabilities=off: on nested kvm_pvm hosts QEMU cannot set IA32_ARCH_CAPABILITIES
    // (MSR 0x10a) and aborts at start; the guest never reads it.
    ...(o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host,arch-capabilities=off'] : ['-accel', 'tcg', '-cpu', 'max']),
  ];
}

/** Maps QEMU's exit status to the guest's exit code (isa-debug-exit: (code << 1) | 1). */
export function decodeQemuStatus(status: number): QemuResult {
  if (status === 0) return { exitCode: 0, reason: 'reset' };
  if ((status & 1) === 1) return { exitCode: status >> 1, reason: 'exit' };
  return { exitCode: status, reason: 'error', message: `QEMU failed (exit status ${status})` };
}

/** QEMU's own line when a signal ends it (status 0 follows): "terminating on signal 15 from pid 42 (bash)". */
export function qemuSignalLine(stderr: string): string | undefined {
  const m = /^qemu-system-[\w-]+: terminating on signal (\d+)(.*)$/m.exec(stderr);
  if (!m) return undefined;
  const name = Object.entries(osConstants.signals).find(([, n]) => n === Number(m[1]))?.[0];
  return `QEMU was terminated by signal ${m[1]}${name ? ` (${name})` : ''}${m[2]!.trimEnd()}`;
}

/** The outcome of QEMU's end: its status or signal and what it said on stderr. */
export function qemuOutcome(status: number | null, signal: NodeJS.Signals | null, stderr: string): QemuResult {
  if (status === null) return { exitCode: 123, reason: 'killed', message: `QEMU was killed by ${signal ?? 'a signal'}` };
  const signalled = qemuSignalLine(stderr);
  if (signalled !== undefined && (status === 0 || status === 1)) return { exitCode: 123, reason: 'killed', message: signalled };
  const r = decodeQemuStatus(status);
  // Status 1 is also QEMU's own failure (a bad -drive, a locked image): then it says why on
  // stderr and the guest never ran, so it is not the guest's exit code 0.
  const qemuSaid = stderr.split('\n').find((l) => l.startsWith(`${QEMU_BINARY}:`));
  if (status === 1 && qemuSaid !== undefined) {
    return { exitCode: 125, reason: 'error', message: `QEMU failed: ${qemuSaid.slice(QEMU_BINARY.length + 1).trim()}` };
  }
  if (r.reason === 'error') {
    const last = stderr.trim().split('\n').filter((l) => l !== '').pop();
    r.message = last === undefined ? r.message : `QEMU failed (exit status ${status}): ${last}`;
  }
  return r;
}

/** Signals kiln passes on to QEMU before ending by them itself. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

export function runQemu(o: QemuOptions): Promise<QemuResult> {
  return new Promise((resolvePromise) => {
    // The console: kiln's own stdout when it is a regular file, else a temporary file that `tail`
    // copies to o.stdout (console_file.ts).
    const consoleFd = o.stdoutFile ?? openUnlinkedFile();
    const tail = o.stdoutFile === undefined ? new FileTail(consoleFd, o.stdout) : undefined;
    // A signal that would end kiln goes to QEMU first (else QEMU runs on, orphaned); once QEMU is
    // gone and its console copied, kiln ends by that signal itself.
    let hostSignal: NodeJS.Signals | undefined;
    const onSignal = (sig: NodeJS.Signals): void => {
      hostSignal = sig;
      child.kill(sig);
    };
    for (const sig of FORWARDED_SIGNALS) process.on(sig, onSignal);
    let settled = false;
    const settle = (r: QemuResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      const end = (res: QemuResult): void => {
        if (tail) closeQuietly(consoleFd);
        for (const sig of FORWARDED_SIGNALS) process.off(sig, onSignal);
        if (hostSignal !== undefined) process.kill(process.pid, hostSignal);
        resolvePromise(res);
      };
      if (!tail) return end(r);
      tail.finish();
      void tail.done.then(() => end(r), (err: Error) => end({ exitCode: 125, reason: 'error', message: `cannot copy the guest console: ${err.message}` }));
    };
    let timer: NodeJS.Timeout | undefined;
    const child = spawn(o.qemu ?? QEMU_BINARY, qemuArgs(o), { stdio: ['ignore', consoleFd, 'pipe'] });
    let stderr = '';
    let timedOut = false;
    if (o.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, o.timeoutMs);
    }
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      o.stderr?.(c);
    });
    child.on('error', (err) => {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      settle({
        exitCode: 125, reason: 'error',
        message: missing ? `${QEMU_BINARY} not found (apt-get install qemu-system-x86)` : `cannot start QEMU: ${err.message}`,
      });
    });
    child.on('close', (status, signal) => {
      if (timedOut) return settle({ exitCode: 124, reason: 'timeout' });
      settle(qemuOutcome(status, signal, stderr));
    });
  });
}
