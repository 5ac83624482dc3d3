// Validation of `kiln run` flag values: each bad value becomes one line naming the flag, what
// was expected and what was given (exit code 2). Pure functions, tested by golden strings.
// Style: esbuild's CLI errors (name the flag and the fix).

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
