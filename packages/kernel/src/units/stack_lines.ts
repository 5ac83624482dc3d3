// Stack frames in the app's source lines: the engine names a frame of the bundle by the bundle's
// line only (`at parseConfig (main.js:1323)`), and the image's line map (payload section kind 4,
// @kiln/common image/line_map.ts, written by kiln build) says which file and line that is, so
// printed stacks read `at parseConfig (main.ts:6)`. Frames of lines the map lacks, of other
// scripts and native ones stay as they are. The section is decoded on the first printed error,
// once. err.stack itself keeps the bundle's lines (what the engine wrote, as Node keeps it without
// --enable-source-maps); what the console prints (inspect) and what the core prints for an uncaught
// error or rejection (lifecycle.ts beforeCoreExit) is mapped. Spec: docs/ARCHITECTURE.md "Stack traces".

import { PAYLOAD_KIND_LINE_MAP } from '@kiln/common/image/payload.ts';
import { decodeLineMap, type LineMap } from '@kiln/common/image/line_map.ts';
import { APP_BUNDLE } from '../lib/app_bundle.ts';
import * as P from '../lib/primordials.ts';
import { ops } from '../ops.ts';

/** A frame line of `bundle` in a QuickJS stack: `    at NAME (BUNDLE:LINE)`. */
function framePattern(bundle: string): RegExp {
  const name = P.StringPrototypeReplace(bundle, /[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`);
  return new RegExp(`^(\\s*at .*) \\(${name}:([0-9]+)\\)$`, 'gm');
}

/** `stack` with each frame of `bundle` that `map` covers naming its source file and line. */
export function mapStackWith(stack: string, map: LineMap, bundle: string): string {
  const replace = P.StringPrototypeReplace as unknown as (s: string, re: RegExp, f: (m: string, head: string, line: string) => string) => string;
  return replace(stack, framePattern(bundle), (frame, head, line) => {
    const source = map.lookup(P.NumberParseInt(line, 10));
    return source === undefined ? frame : `${head} (${source.file}:${source.line})`;
  });
}

let map: LineMap | null | undefined; // undefined until the first call; null: no usable section

/** The image's line map, decoded on first use; null without one (or with a corrupt one: frames stay as they are). */
function imageLineMap(): LineMap | null {
  if (map === undefined) {
    map = null;
    try {
      const section = ops.op_payload_section(PAYLOAD_KIND_LINE_MAP);
      if (section !== undefined) map = decodeLineMap(new P.Uint8ArrayCtor(section));
    } catch {
      // a corrupt section, or no native ops (Node tests)
    }
  }
  return map;
}

/** `stack` (a QuickJS stack, or anything with its frame lines) with the bundle's frames in the app's source lines. */
export function mapStack(stack: string): string {
  const m = imageLineMap();
  return m === null ? stack : mapStackWith(stack, m, APP_BUNDLE);
}

/** The stack of `error` in the app's source lines, or undefined when it has no string stack. */
export function mappedStackOf(error: unknown): string | undefined {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) return undefined;
  try {
    const stack = (error as { stack?: unknown }).stack;
    return typeof stack === 'string' ? mapStack(stack) : undefined;
  } catch {
    return undefined; // a hostile getter
  }
}
