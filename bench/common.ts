// What the benchmark scripts share: where the repository and the `kiln` bin are, flag parsing,
// the median and number format of their tables, and the machine line every results block names.

import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
export const KILN = join(ROOT, 'packages/cli/bin/kiln.js');

/** The number after flag `name` on the command line, or `dflt`. */
export const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};

/** The comma-separated list after flag `name` on the command line, or `dflt`. */
export const listArg = (name: string, dflt: string[]): string[] => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : process.argv[i + 1]!.split(',');
};

/** The platforms of Kiln's VMM a benchmark compares, and their labels in result tables. */
export type Platform = 'process' | 'kvm';
export const PLATFORM_LABEL: Record<Platform, string> = { process: 'process platform', kvm: 'KVM' };

/** `--platforms process,kvm` (the default both), checked. */
export function platformsArg(): Platform[] {
  const list = listArg('--platforms', ['process', 'kvm']);
  if (list.some((p) => p !== 'process' && p !== 'kvm')) throw new Error('--platforms: a comma-separated list of process, kvm');
  return list as Platform[];
}

/** Median of the finite values (NaN when there are none). */
export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${cpus().length} CPUs (nproc), ${model}, Linux ${release()}, Node ${process.version}`;
}
