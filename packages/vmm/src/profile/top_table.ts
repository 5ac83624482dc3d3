// The top-N table of a profile, in the manner of Toro's QProfiler: the functions the samples
// landed in, by self samples, as fixed-width text for a terminal. A function is kind + name +
// location. Two tables: every frame (self = the leaf), then the JavaScript functions alone
// (self = the innermost JavaScript frame, so a function's time includes the native helpers it
// calls). Total counts a stack once per function, however deep the recursion.

import { oneLine, percent, profileSummary, type Frame, type Profile, type StackCount } from './profile.ts';

interface Row {
  readonly frame: Frame;
  self: number;
  total: number;
}

/** Widest function column; longer names end in '…'. */
const FUNCTION_WIDTH = 48;

/** The report: header, the all-frames table and the JavaScript table, at most `limit` rows each. */
export function topTable(p: Profile, limit = 25): string {
  const header = [`Kiln profile: ${profileSummary(p)}`, `Stopped: ${p.stopped}`];
  if (p.samples === 0) return [...header, `No samples were taken before sampling ended (${p.stopped}).`, ''].join('\n');
  const out = [...header, ''];
  const all = tally(p.stacks, (frames) => frames[frames.length - 1], () => true);
  out.push(`Functions by self samples (top ${Math.min(limit, all.length)} of ${all.length})`, ...render(all.slice(0, limit), p));
  const js = tally(p.stacks, innermostJs, (f) => f.kind === 'js');
  if (js.length > 0) {
    out.push('', `JavaScript functions, self including the native code they call (top ${Math.min(limit, js.length)} of ${js.length})`, ...render(js.slice(0, limit), p));
  }
  return out.join('\n') + '\n';
}

function innermostJs(frames: readonly Frame[]): Frame | undefined {
  for (let i = frames.length - 1; i >= 0; i--) if (frames[i]!.kind === 'js') return frames[i];
  return undefined;
}

/** The rows of the functions `counted` admits, self from `selfOf`, sorted by self, then total, then name. */
function tally(stacks: readonly StackCount[], selfOf: (frames: readonly Frame[]) => Frame | undefined, counted: (f: Frame) => boolean): Row[] {
  const rows = new Map<string, Row>();
  const rowOf = (f: Frame): Row => {
    const key = JSON.stringify([f.kind, f.name, f.location ?? null]);
    let row = rows.get(key);
    if (row === undefined) rows.set(key, (row = { frame: f, self: 0, total: 0 }));
    return row;
  };
  for (const s of stacks) {
    for (const row of new Set(s.frames.filter(counted).map(rowOf))) row.total += s.count;
    const self = selfOf(s.frames);
    if (self !== undefined) rowOf(self).self += s.count;
  }
  return [...rows.values()].sort((a, b) => b.self - a.self || b.total - a.total || compare(a.frame.name, b.frame.name));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function render(rows: readonly Row[], p: Profile): string[] {
  const names = rows.map((r) => truncate(oneLine(r.frame.name), FUNCTION_WIDTH));
  const selfWidth = Math.max(4, ...rows.map((r) => String(r.self).length));
  const nameWidth = Math.max(8, ...names.map((n) => [...n].length));
  const line = (self: string, selfPct: string, totalPct: string, name: string, location: string): string =>
    `${self.padStart(selfWidth)}  ${selfPct.padStart(6)}  ${totalPct.padStart(6)}  ${name}${' '.repeat(nameWidth - [...name].length)}  ${location}`.trimEnd();
  return [
    line('self', 'self%', 'total%', 'function', 'location'),
    ...rows.map((r, i) => line(String(r.self), percent(r.self, p), percent(r.total, p), names[i]!, oneLine(r.frame.location ?? ''))),
  ];
}

/** `s` cut to `width` code points, the last one '…' when cut. */
function truncate(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : chars.slice(0, width - 1).join('') + '…';
}
