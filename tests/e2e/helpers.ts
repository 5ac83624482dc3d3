// Shared helpers of the e2e tests: spawn the real `kiln` command, find out which VMMs and
// accelerators this machine offers (Kiln's VMM needs /dev/kvm; QEMU falls back to TCG), and
// say why a configuration is skipped. Spec: docs/ARCHITECTURE.md "Exit codes".

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
export const CORE_ELF = join(ROOT, 'arch/build/kiln-core.elf');

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

export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
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

/** The VMM/accelerator combinations the e2e tests boot on, with skip reasons. */
export function targets(): Target[] {
  const kvm = kvmUsable();
  // Name the KVM flavour: these machines run nested PVM (kvm_pvm), see shared/PVM.md.
  const kvmName = existsSync('/sys/module/kvm_pvm') ? 'kvm(pvm)' : 'kvm';
  const qemu = commandExists('qemu-system-x86_64');
  return [
    {
      name: `vmm=kiln accel=${kvmName}`, flags: ['--vmm', 'kiln', '--timeout', '30'],
      skip: !kvm ? '/dev/kvm is missing or not usable' : undefined,
    },
    { name: 'vmm=qemu accel=tcg', flags: ['--vmm', 'qemu', '--accel', 'tcg', '--timeout', '30'], skip: qemu ? undefined : 'qemu-system-x86_64 is not installed' },
    {
      name: `vmm=qemu accel=${kvmName}`, flags: ['--vmm', 'qemu', '--accel', 'kvm', '--timeout', '30'],
      skip: !qemu ? 'qemu-system-x86_64 is not installed' : !kvm ? '/dev/kvm is missing or not usable' : undefined,
    },
  ];
}

export const coreSkip = (): string | undefined =>
  existsSync(CORE_ELF) ? undefined : `${CORE_ELF} is missing: run make -C arch (bash scripts/setup.sh)`;
