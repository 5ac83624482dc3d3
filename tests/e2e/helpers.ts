// Shared helpers of the e2e tests: spawn the real `kiln` command, find out which VMMs and
// accelerators this machine offers (Kiln's VMM needs /dev/kvm; QEMU falls back to TCG), and
// say why a configuration is skipped. Spec: docs/ARCHITECTURE.md "Exit codes".

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kvmUsable } from '@kiln/cli';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
export const CORE_ELF = join(ROOT, 'arch/build/kiln-core.elf');
export const TENDER = join(ROOT, 'arch/build/kiln-tender');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function kiln(args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [KILN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Chunks are joined before decoding: a UTF-8 character may be split across two of them.
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
  });
}

export { kvmUsable };

/** `kiln build SRC -o OUT [EXTRA...]` for a test's before hook: fails with kiln's stderr. */
export async function kilnBuild(src: string, out: string, extra: string[] = []): Promise<void> {
  const r = await kiln(['build', src, ...extra, '-o', out]);
  if (r.code !== 0) throw new Error(`kiln build ${src} exited ${r.code}: ${r.stderr}`);
}

export function commandExists(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, name)));
}

export interface Target {
  name: string;
  flags: string[];
  /** why this target cannot run here, or undefined */
  skip: string | undefined;
}

/** The VMM/accelerator combinations the e2e tests boot on, with skip reasons: Kiln's VMM on KVM
 * and on the process platform, QEMU with TCG and with KVM. */
export function targets(): Target[] {
  const kvm = kvmUsable();
  // Name the KVM flavour: these machines run nested PVM (kvm_pvm), see shared/PVM.md.
  const kvmName = existsSync('/sys/module/kvm_pvm') ? 'kvm(pvm)' : 'kvm';
  const qemu = commandExists('qemu-system-x86_64');
  return [
    {
      name: `vmm=kiln accel=${kvmName}`, flags: ['--vmm', 'kiln', '--accel', 'kvm', '--timeout', '30'],
      skip: !kvm ? '/dev/kvm is missing or not usable' : undefined,
    },
    {
      name: 'vmm=kiln accel=process', flags: ['--vmm', 'kiln', '--accel', 'process', '--timeout', '30'],
      skip: existsSync(TENDER) ? undefined : `${TENDER} is missing: run make -C arch (bash scripts/setup.sh)`,
    },
    { name: 'vmm=qemu accel=tcg', flags: ['--vmm', 'qemu', '--accel', 'tcg', '--timeout', '30'], skip: qemu ? undefined : 'qemu-system-x86_64 is not installed' },
    {
      name: `vmm=qemu accel=${kvmName}`, flags: ['--vmm', 'qemu', '--accel', 'kvm', '--timeout', '30'],
      skip: !qemu ? 'qemu-system-x86_64 is not installed' : !kvm ? '/dev/kvm is missing or not usable' : undefined,
    },
  ];
}

/** The targets on Kiln's VMM (KVM and the process platform): what tests of Kiln-only devices
 * (vsock, virtio-fs, the boot timer) run on. */
export function kilnTargets(): Target[] {
  return targets().filter((t) => t.name.startsWith('vmm=kiln'));
}

export const coreSkip = (): string | undefined =>
  existsSync(CORE_ELF) ? undefined : `${CORE_ELF} is missing: run make -C arch (bash scripts/setup.sh)`;

/** Why a test cannot make a network namespace with a TAP device here (plus `tools` it needs), or undefined. */
export function tapSkip(tools: string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (a network namespace and a TAP device need CAP_NET_ADMIN)';
  if (!commandExists('ip')) return '`ip` (iproute2) is not installed';
  const missing = tools.filter((t) => !commandExists(t));
  if (missing.length) return `${missing.map((t) => `\`${t}\``).join(', ')} not installed`;
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  return undefined;
}

/** Runs a command to its end: whether it exited 0, and its stdout and stderr together. */
export function sh(args: string[], timeoutMs = 60_000): { ok: boolean; out: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/**
 * A network namespace `ns` (any older one of that name is removed first) holding TAP device tap0
 * with `hostCidr` (e.g. 10.0.2.1/24) and lo up. No traffic leaves it. Delete with deleteNamespace.
 */
export function createTapNamespace(ns: string, hostCidr: string): void {
  sh(['ip', 'netns', 'del', ns]);
  for (const step of [
    ['ip', 'netns', 'add', ns],
    ['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'netns', 'exec', ns, 'ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
    ['ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', hostCidr, 'dev', 'tap0'],
    ['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'tap0', 'up'],
  ]) {
    const r = sh(step);
    if (!r.ok) throw new Error(`${step.join(' ')}: ${r.out}`);
  }
}

export function deleteNamespace(ns: string): void {
  sh(['ip', 'netns', 'del', ns]);
}

/** `kiln ARGS` in the background (inside network namespace `netns` if given): its output so far and its end. */
export function kilnBackground(args: string[], o: { netns?: string; timeoutMs?: number } = {}): { done: Promise<Run>; stdout: () => string; kill(): void } {
  let stdout = '';
  let stderr = '';
  const argv = o.netns ? ['ip', 'netns', 'exec', o.netns, process.execPath, KILN, ...args] : [process.execPath, KILN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, stdout: () => stdout, kill: () => void child.kill() };
}

/** Polls `f` every 50 ms for up to `ms`; its last answer. */
export async function until(f: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (f()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return f();
}
