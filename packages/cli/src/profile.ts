// `kiln profile`: what it adds to `kiln run` — its flags (--hz, --duration, --output, --top),
// checked before the guest boots, and what it does with the profile runVm hands over: the top
// table on stderr and three files, BASE.txt (the same table, complete), BASE.folded (Brendan
// Gregg's folded stacks, for flamegraph.pl, speedscope, inferno) and BASE.svg (a flame graph).
// The renderers are @kiln/vmm's profile/; the sampling is the VMM's (docs/ARCHITECTURE.md
// "The profiler").

import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Profile } from '@kiln/vmm/profile/profile.ts';
import { topTable } from '@kiln/vmm/profile/top_table.ts';
import { foldedStacks } from '@kiln/vmm/profile/folded.ts';
import { flameGraphSvg } from '@kiln/vmm/profile/flame_graph.ts';
import { PROFILE_HZ_MAX } from '@kiln/vmm/process/abi.ts';
import { CliError } from './errors.ts';
import { parseIntFlag, parseSeconds } from './flags.ts';

export const PROFILE_DEFAULT_HZ = 1000;

export interface ProfileFlags {
  hz: string;
  duration?: string;
  output: string;
  top: string;
}

/** What runImage passes to runVm's `profile`. */
export interface ProfileRequest {
  hz: number;
  durationMs?: number;
  onProfile(p: Profile, warnings: string[]): void;
}

/** Checks the flags (the output directory must be writable now, not after a long run); `locate`
 * adds what the profile cannot know itself (the C functions' lines: native_lines.ts). */
export function profileRequest(flags: ProfileFlags, stderr: (text: string) => void, locate: (p: Profile) => Profile = (p) => p): ProfileRequest {
  const hz = parseIntFlag('--hz', flags.hz, 1, PROFILE_HZ_MAX, 'samples a second');
  const top = parseIntFlag('--top', flags.top, 1, 10000, 'rows');
  const durationMs = flags.duration === undefined ? undefined : Math.round(parseSeconds('--duration', flags.duration) * 1000);
  const base = resolve(flags.output);
  try {
    accessSync(dirname(base), constants.W_OK);
  } catch {
    throw new CliError('EUSAGE', `--output ${flags.output}: cannot write into ${dirname(base)}`);
  }
  return {
    hz,
    ...(durationMs !== undefined ? { durationMs } : {}),
    onProfile(sampled, warnings) {
      for (const w of warnings) stderr(`kiln: profile: ${w}\n`);
      const p = locate(sampled);
      const files: [string, string][] = [[`${base}.txt`, topTable(p, Number.MAX_SAFE_INTEGER)], [`${base}.folded`, foldedStacks(p)], [`${base}.svg`, flameGraphSvg(p)]];
      stderr(`\n${topTable(p, top)}\n`);
      try {
        for (const [path, text] of files) writeFileSync(path, text);
        stderr(`kiln: profile written to ${files.map(([f]) => f).join(', ')}\n`);
      } catch (e) {
        stderr(`kiln: cannot write the profile: ${(e as Error).message}\n`);
      }
    },
  };
}
