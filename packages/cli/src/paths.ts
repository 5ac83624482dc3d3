// Where the CLI finds its build inputs: the repository root, the kernel sources and the arch
// outputs (`make -C arch`): two core + bytecode compiler pairs, arch/build/kiln-core.elf +
// kiln-qjsc without BigInt and kiln-core-bigint.elf + kiln-qjsc-bigint with it (CONFIG_BIGNUM).
// KILN_ARCH_BUILD overrides the arch build directory (tests, installed layouts).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const KERNEL_SRC = join(REPO_ROOT, 'packages/kernel/src');
export const COMMON_SRC = join(REPO_ROOT, 'packages/common/src');

export function archBuildDir(): string {
  return process.env.KILN_ARCH_BUILD ?? join(REPO_ROOT, 'arch/build');
}

export interface ArchOutputs {
  coreElf: string;
  qjsc: string;
}

/** The arch outputs (the BigInt pair with `bigint`; a compiler always with its own core: the
 * bytecode format depends on CONFIG_BIGNUM), or a CliError telling the user to run the setup. */
export function archOutputs(bigint = false): ArchOutputs {
  const dir = archBuildDir();
  const suffix = bigint ? '-bigint' : '';
  const out = { coreElf: join(dir, `kiln-core${suffix}.elf`), qjsc: join(dir, `kiln-qjsc${suffix}`) };
  for (const p of [out.coreElf, out.qjsc]) {
    if (!existsSync(p)) {
      throw new CliError('ENOSETUP', `${p} is missing: run the setup first (bash scripts/setup.sh, or make -C arch)`);
    }
  }
  return out;
}
