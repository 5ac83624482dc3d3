// The bundle's line map (payload section kind 4; its codec is @kiln/common image/line_map.ts),
// built by kiln build from esbuild's source map of the bundle so that the guest prints stack
// frames as `(main.ts:6)`, not `(main.js:1323)`: QuickJS 2021 reports a frame's bundle line only,
// so each bundle line gets the source line of its first mapped segment, and consecutive lines that
// map to consecutive lines of one file become one run. Lines that map nowhere (esbuild's helpers,
// the generated entry) stay out. A source is named as a stack frame shows it: the app's files
// relative to the entry's directory (`main.ts`, `lib/util.ts`, `../shared/x.ts`), npm packages
// as `node_modules/<pkg>/<path>`, Kiln's own files as `kiln:<path under packages/kernel/src>`
// and `kiln:common/<path under packages/common/src>`.
// Spec: docs/ARCHITECTURE.md "Image payload" (kind 4) and "Stack traces".

import { isAbsolute, relative, resolve, sep } from 'node:path';
import { decode } from '@jridgewell/sourcemap-codec';
import type { LineMapData, LineRun } from '@kiln/common';
import { COMMON_SRC, KERNEL_SRC } from './paths.ts';

/** The fields of a version 3 source map that the line map needs. */
export interface SourceMapV3 {
  readonly sources: readonly string[];
  readonly mappings: string;
}

/** `file` below `dir`, as a relative path with `/`, or undefined. */
function below(dir: string, file: string): string | undefined {
  const r = relative(dir, file);
  return r === '' || r.startsWith('..') || isAbsolute(r) ? undefined : r.split(sep).join('/');
}

/** How stack frames name the source file `file` (absolute) of an app whose entry is in `appDir`. */
export function sourceName(file: string, appDir: string): string {
  const kernel = below(KERNEL_SRC, file);
  if (kernel !== undefined) return `kiln:${kernel}`;
  const common = below(COMMON_SRC, file);
  if (common !== undefined) return `kiln:common/${common}`;
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at !== -1) return `node_modules/${file.slice(at + marker.length).split(sep).join('/')}`;
  return relative(appDir, file).split(sep).join('/');
}

/** A source map's source that is a file (not the generated entry `<kiln-entry>` or a plugin's namespace, `kiln-global:process`). */
const isFile = (source: string): boolean => !source.startsWith('<') && !/^[\w-]+:/.test(source);

/**
 * The line map of a bundle from its source map: `mapDir` is the directory the map's sources are
 * relative to, `appDir` the app entry's, and `lineOffset` the lines put before the mapped code
 * (the async wrapper of a bundle with top-level await adds one).
 */
export function lineMapOf(map: SourceMapV3, mapDir: string, appDir: string, lineOffset = 0): LineMapData {
  const names = map.sources.map((s) => (isFile(s) ? sourceName(resolve(mapDir, s), appDir) : undefined));
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const runs: { -readonly [K in keyof LineRun]: LineRun[K] }[] = [];
  const lines = decode(map.mappings);
  for (let i = 0; i < lines.length; i++) {
    const segment = lines[i]!.find((s) => s.length >= 4);
    if (segment === undefined) continue;
    const name = names[segment[1]!];
    if (name === undefined) continue;
    let index = fileIndex.get(name);
    if (index === undefined) {
      index = files.push(name) - 1;
      fileIndex.set(name, index);
    }
    const bundleLine = i + 1 + lineOffset; // QuickJS counts from 1, source maps from 0
    const sourceLine = segment[2]! + 1;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.fileIndex === index && last.bundleLine + last.count === bundleLine && last.sourceLine + last.count === sourceLine) {
      last.count++;
    } else {
      runs.push({ bundleLine, count: 1, sourceLine, fileIndex: index });
    }
  }
  return { files, runs };
}
