// A sampling profile as the output side sees it: what the sampler of any platform hands over
// (stacks with counts, totals, why sampling ended) and the one way a frame is written as text.
// The renderers read only this: top_table.ts (QProfiler-style top-N), folded.ts (Brendan
// Gregg's folded stacks, read back too) and flame_graph.ts (an SVG flame graph).

/**
 * Where a sampled frame runs. js: a JavaScript function of the guest; native: a C function of
 * the guest core (QuickJS, the core); host: time in the host (the process platform's tender,
 * e.g. waiting).
 */
export type FrameKind = 'js' | 'native' | 'host';

export interface Frame {
  readonly name: string;
  /** "file:line" when known. */
  readonly location?: string;
  readonly kind: FrameKind;
}

export interface StackCount {
  /** Root first, leaf last; at least one frame (a sample whose stack cannot be read is dropped). */
  readonly frames: readonly Frame[];
  count: number;
}

export interface Profile {
  /** 'process' | 'kvm' | 'qemu'. */
  readonly platform: string;
  /** The requested sampling rate. */
  readonly hz: number;
  /** Wall time sampled. */
  readonly durationMs: number;
  /** Total samples taken: the sum of the stacks' counts, the 100% of every percentage. */
  readonly samples: number;
  /** Samples lost (ring full, unreadable stack). */
  readonly dropped: number;
  readonly stacks: readonly StackCount[];
  /** Why sampling ended, e.g. 'the guest exited with code 0', 'the guest crashed: ...', '--duration 10 s'. */
  readonly stopped: string;
}

/** `s` on one line and free of ';' (the folded format's separator): ';' → ',', CR and LF → ' '. */
export function oneLine(s: string): string {
  return s.replace(/;/g, ',').replace(/[\r\n]/g, ' ');
}

/** "name (location)" or "name" ("[unknown]" for an empty name); never contains ';' or a newline. */
export function frameLabel(f: Frame): string {
  const name = oneLine(f.name) || '[unknown]';
  return f.location === undefined ? name : `${name} (${oneLine(f.location)})`;
}

/** The totals line every renderer heads its output with: "process, 99 Hz, 1.50 s, 148 samples, 0 dropped". */
export function profileSummary(p: Profile): string {
  const duration = p.durationMs < 1000 ? `${Math.round(p.durationMs)} ms` : `${(p.durationMs / 1000).toFixed(2)} s`;
  return `${p.platform}, ${p.hz} Hz, ${duration}, ${p.samples} samples, ${p.dropped} dropped`;
}

/** `n` of the profile's samples as a percentage with one decimal: "41.7%". */
export function percent(n: number, p: Profile): string {
  return `${((100 * n) / p.samples).toFixed(1)}%`;
}
