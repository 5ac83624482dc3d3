// What an image's debug sections add to a JavaScript function read from guest RAM: a name for one
// its bytecode leaves unnamed (class methods, accessors, kept arrows: the function names, payload
// kind 5) and the app's TypeScript file and line for a bundle line (the line map, kind 4). Used by
// the profiler (collector.ts) and by a CPU fault's JavaScript stack (fault_stack.ts). An image
// without the sections (older kiln) or with a corrupt one gives bundle lines and `<anonymous>`.

import { readImagePayload } from '@kiln/common/image/assemble.ts';
import { decodeFunctionNames, type FunctionNames } from '@kiln/common/image/function_names.ts';
import { decodeLineMap, type LineMap } from '@kiln/common/image/line_map.ts';
import { PAYLOAD_KIND_FUNCTION_NAMES, PAYLOAD_KIND_LINE_MAP } from '@kiln/common/image/payload.ts';
import type { JsFunctionInfo } from './guest_functions.ts';

/** An image's payload section of `kind`, decoded, or undefined (missing or corrupt). */
function imageSection<T>(image: Uint8Array, kind: number, decode: (data: Uint8Array) => T): T | undefined {
  try {
    const s = readImagePayload(image).sections.find((x) => x.kind === kind);
    return s && decode(s.data);
  } catch {
    return undefined;
  }
}

export class ImageDebug {
  readonly #lines: LineMap | undefined;
  readonly #names: FunctionNames | undefined;

  constructor(image: Uint8Array) {
    this.#lines = imageSection(image, PAYLOAD_KIND_LINE_MAP, decodeLineMap);
    this.#names = imageSection(image, PAYLOAD_KIND_FUNCTION_NAMES, decodeFunctionNames);
  }

  /** `fn`, named from the function names if its bytecode has no name. */
  named(fn: JsFunctionInfo): JsFunctionInfo {
    if (fn.name !== '<anonymous>' || fn.line === undefined || fn.file === undefined || fn.file.startsWith('<')) return fn;
    const name = this.#names?.lookup(fn.line);
    return name === undefined ? fn : { ...fn, name };
  }

  /** `file:line` in the app's sources for a line of bundle `file` (`<eval>`-style files and unmapped lines stay as they are). */
  location(file: string, line: number): string {
    const src = file.startsWith('<') ? undefined : this.#lines?.lookup(line);
    return src ? `${src.file}:${src.line}` : `${file}:${line}`;
  }
}
