// Where the CLI finds its build inputs: the repository root, the kernel sources and the arch
// outputs (`make -C arch`: arch/build/kiln-core.elf and arch/build/kiln-qjsc).
// KILN_ARCH_BUILD overrides the arch build directory (tests, installed layouts).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const KERNEL_SRC = join(REPO_ROOT, 'packages/kernel/src');

export function archBuildDir(): string {
  return process.env.KILN_ARCH_BUILD ?? join(REPO_ROOT, 'arch/build');
}

export interface ArchOutputs {
  coreElf: string;
  qjsc: string;
}

/** The arch outputs, or a CliError telling the user to run the setup. */
export function archOutputs(): ArchOutputs {
  const dir = archBuildDir();
  const out = { coreElf: join(dir, 'kiln-core.elf'), qjsc: join(dir, 'kiln-qjsc') };
  for (const p of [out.coreElf, out.qjsc]) {
    if (!existsSync(p)) {
      throw new CliError('ENOSETUP', `${p} is missing: run the setup first (bash scripts/setup.sh, or make -C arch)`);
    }
  }
  return out;
}
