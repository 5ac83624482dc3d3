// Folded stacks, the text format of Brendan Gregg's stackcollapse/flamegraph.pl tools: one line
// per distinct stack, `root;caller;...;leaf COUNT`, so a profile can go to flamegraph.pl,
// speedscope or inferno, and come back. Labels are frameLabel's ("name (file:line)"). The kind
// rides on a suffix, flamegraph.pl's own annotations (its --color=java colours them):
//   js     `_[j]`   (flamegraph.pl: JIT-compiled)
//   host   `_[k]`   (flamegraph.pl: kernel; here time outside the guest, in the host)
//   native no suffix, the default for foreign files; `_[n]` only when the label itself ends in
//          one of `_[j]`, `_[k]`, `_[n]`, so that the one suffix the parser strips is the kind.

import { frameLabel, type Frame, type FrameKind, type Profile, type StackCount } from './profile.ts';

const SUFFIX: Record<FrameKind, string> = { js: '_[j]', host: '_[k]', native: '_[n]' };
const KIND_OF_SUFFIX = new Map(Object.entries(SUFFIX).map(([kind, suffix]) => [suffix, kind as FrameKind]));
const SUFFIXED = /_\[[jkn]\]$/;

/** One sorted line per distinct stack (identical stacks merged), each ending in '\n'. */
export function foldedStacks(p: Profile): string {
  const counts = new Map<string, number>();
  for (const s of p.stacks) {
    const stack = s.frames.map(foldedFrame).join(';');
    counts.set(stack, (counts.get(stack) ?? 0) + s.count);
  }
  return [...counts.keys()].sort().map((stack) => `${stack} ${counts.get(stack)}\n`).join('');
}

function foldedFrame(f: Frame): string {
  const label = frameLabel(f);
  return f.kind === 'native' && !SUFFIXED.test(label) ? label : label + SUFFIX[f.kind];
}

/**
 * The stacks of a folded file, in file order (not merged). Empty lines are skipped; any other
 * line without a stack, or whose count (after the last space) is not a positive integer, is an
 * Error naming its line number. "name (location)" labels come back as name and location.
 */
export function parseFolded(text: string): StackCount[] {
  const stacks: StackCount[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    const space = line.lastIndexOf(' ');
    const count = space < 0 ? '' : line.slice(space + 1);
    if (!/^[1-9][0-9]*$/.test(count) || !Number.isSafeInteger(Number(count))) {
      throw new Error(`folded stacks line ${i + 1}: ${space < 0 ? 'no count' : `count ${JSON.stringify(count)} is not a positive integer`}`);
    }
    if (space === 0) throw new Error(`folded stacks line ${i + 1}: no stack before the count`);
    stacks.push({ frames: line.slice(0, space).split(';').map(parseFrame), count: Number(count) });
  });
  return stacks;
}

function parseFrame(folded: string): Frame {
  const suffix = SUFFIXED.exec(folded)?.[0];
  const kind = suffix === undefined ? 'native' : KIND_OF_SUFFIX.get(suffix)!;
  const label = suffix === undefined ? folded : folded.slice(0, -suffix.length);
  const m = /^(.*) \((.*)\)$/s.exec(label);
  return m === null ? { name: label, kind } : { name: m[1]!, location: m[2]!, kind };
}
