// One profiler sample as a stack of named frames (profile.ts Frame, root first): the native
// frames symbolised from the image, and each JavaScript frame put where it runs — in place of
// the QuickJS interpreter frame (JS_CallInternal) that executes it. A JSStackFrame is a local of
// that interpreter call, so its address lies between the frame pointers of the call and of its
// callee; a generator's or async function's frame lives on the heap instead and takes the
// innermost interpreter frame left unclaimed. C functions called from JavaScript show as their
// own native frames (the JS frame list's entry for them adds nothing). A RIP outside the image
// is host time (the process platform's tender: its calls and waits).

import type { Frame } from './profile.ts';
import type { JsFrameRecord, SampleRecord } from './ring.ts';
import { KILN_JS_BYTECODE, KILN_SAMPLE_IN_HOST } from './layout.ts';
import type { ImageSymbols } from './image_symbols.ts';
import type { JsFunctionInfo } from './guest_functions.ts';

/** The interpreter's C function: the native frame a JavaScript frame replaces. */
const INTERPRETER = 'JS_CallInternal';

export interface FrameNamer {
  symbols: ImageSymbols;
  /** The image's executable range: addresses outside it are the host's. */
  textLo: number;
  textHi: number;
  /** The JavaScript function at a JSFunctionBytecode address. */
  jsFunction(ptr: number): JsFunctionInfo;
  /** "file:line" for a function's first line (through the image's line map when it has one). */
  jsLocation(fn: JsFunctionInfo): string | undefined;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

export function sampleFrames(r: SampleRecord, namer: FrameNamer): Frame[] {
  const natives = r.native.map((f, i): Frame => {
    if (i === 0 && r.flags & KILN_SAMPLE_IN_HOST) return { name: '[host]', kind: 'host' };
    if (f.pc < namer.textLo || f.pc >= namer.textHi) return { name: '[host]', kind: 'host' };
    const at = i === 0 ? f.pc : f.pc - 1; // a return address: the call is just before it
    return { name: namer.symbols.nameAt(at) ?? hex(f.pc), kind: 'native' };
  });
  const js = r.js.filter((f) => f.kind === KILN_JS_BYTECODE);
  const owner = new Map<number, JsFrameRecord>(); // native index → the JS frame it runs
  const unplaced: JsFrameRecord[] = [];
  for (const f of js) {
    const k = r.native.findIndex((n, i) => natives[i]!.name === INTERPRETER && !owner.has(i) && f.sf < n.fp && (i === 0 || f.sf > r.native[i - 1]!.fp));
    if (k >= 0) owner.set(k, f);
    else unplaced.push(f);
  }
  for (const f of unplaced) { // heap frames, innermost first: the innermost free interpreter frames
    const k = natives.findIndex((n, i) => n.name === INTERPRETER && !owner.has(i));
    if (k < 0) break;
    owner.set(k, f);
  }
  const jsFrame = (f: JsFrameRecord): Frame => {
    const fn = namer.jsFunction(f.ptr);
    const location = namer.jsLocation(fn);
    return { name: fn.name, kind: 'js', ...(location !== undefined ? { location } : {}) };
  };
  const out: Frame[] = natives.map((n, i) => {
    const f = owner.get(i);
    return f ? jsFrame(f) : n;
  });
  // JS frames the native walk did not reach (it stopped early) are outer frames: outermost last.
  const placed = new Set(owner.values());
  for (const f of js) if (!placed.has(f)) out.push(jsFrame(f));
  return out.reverse();
}
