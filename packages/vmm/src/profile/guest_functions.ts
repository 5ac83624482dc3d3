// Names the JavaScript functions of profiler samples by reading the running guest's RAM: a
// sample carries a JSFunctionBytecode address (ring.ts); this reads the function's name, file
// and first line from the bytecode and QuickJS's atom table, with the offsets the core published in its `kiln_profile` descriptor (layout.ts,
// arch/quickjs_profile.c). Bytecode is immutable once made, so reading it while the guest runs
// is safe for a live function; a function freed since its sample, or a guest that scribbled
// over its heap, gives a placeholder name, never an exception or a read outside RAM (every
// read goes through GuestRam's bounds check, every length is capped). Results are cached per
// bytecode address, so each function is read once. For a stopped guest (a CPU fault's report),
// stack() also walks QuickJS's frame list, with the line each frame's last call was made from.

import type { GuestRam } from '../boot/guest_ram.ts';
import { DESC, DESC_SIZE, KILN_PROFILE_MAGIC, KILN_PROFILE_VERSION } from './layout.ts';

export interface JsFunctionInfo {
  name: string;
  /** The bytecode's file name (the bundle's, e.g. "main.js"); undefined without debug info. */
  file?: string;
  /** The function's first line in that file. */
  line?: number;
}

type Desc = { -readonly [K in keyof typeof DESC]: number };

/** A frame of stack(), innermost first: a bytecode function (with the bundle line of its call, when the core says where that was), a C function (its address), or another callable. */
export type JsStackEntry =
  | { kind: 'bytecode'; fn: JsFunctionInfo; callLine?: number }
  | { kind: 'native'; address: number }
  | { kind: 'other' };

/** Frames stack() walks at most (a scribbled list may loop). */
const STACK_MAX = 64;
/** Bytes of a line table read at most. */
const PC2LINE_MAX = 1 << 16;

/** Longest name read from the guest, in characters. */
const NAME_MAX = 200;

export class GuestFunctions {
  readonly #ram: GuestRam;
  readonly #descAddr: number;
  #desc: Desc | undefined;
  readonly #cache = new Map<number, JsFunctionInfo>();

  constructor(ram: GuestRam, descAddr: number) {
    this.#ram = ram;
    this.#descAddr = descAddr;
  }

  /** The function whose JSFunctionBytecode is at `ptr`. */
  resolve(ptr: number): JsFunctionInfo {
    let f = this.#cache.get(ptr);
    if (!f) {
      const d = this.#descriptor();
      if (!d) return { name: '[js]' }; // not cached: the engine may not be up yet
      f = this.#read(d, ptr);
      this.#cache.set(ptr, f);
    }
    return f;
  }

  /** The guest's JavaScript stack now, innermost first (the guest must be stopped); undefined when the engine is not up or the descriptor is unreadable. A frame that cannot be read ends the walk. */
  stack(): JsStackEntry[] | undefined {
    const d = this.#descriptor();
    if (!d) return undefined;
    const out: JsStackEntry[] = [];
    let sf = this.#u64(d.frame_head);
    while (sf && out.length < STACK_MAX) {
      const func = this.#u64(sf + d.sf_cur_func);
      const tag = this.#view(sf + d.sf_cur_func + d.value_tag, 4)?.getInt32(0, true);
      if (func === undefined || tag === undefined) break;
      const cls = tag === d.tag_object ? this.#view(func + d.obj_class_id, 2)?.getUint16(0, true) : undefined;
      if (cls !== undefined && cls < 64 && (BigInt(d.bytecode_classes) >> BigInt(cls)) & 1n) {
        const ptr = this.#u64(func + d.obj_bytecode);
        if (ptr === undefined) break;
        const fn = this.resolve(ptr);
        const callLine = d.sf_cur_pc !== 0 ? this.#callLine(d, sf, ptr) : undefined;
        out.push({ kind: 'bytecode', fn, ...(callLine !== undefined ? { callLine } : {}) });
      } else if (cls === d.cfunction_class) {
        const address = this.#u64(func + d.obj_cfunc);
        out.push(address === undefined ? { kind: 'other' } : { kind: 'native', address });
      } else {
        out.push({ kind: 'other' });
      }
      sf = this.#u64(sf + d.sf_prev);
    }
    return out;
  }

  /** The bundle line of frame `sf`'s last call (cur_pc, saved by every call), through the bytecode's line table. */
  #callLine(d: Desc, sf: number, ptr: number): number | undefined {
    const curPc = this.#u64(sf + d.sf_cur_pc);
    const code = this.#u64(ptr + d.b_byte_code_buf);
    const flags = this.#view(ptr + d.b_debug_flags, 1)?.getUint8(0) ?? 0;
    const line = this.#view(ptr + d.b_line_num, 4)?.getInt32(0, true);
    if (!curPc || !code || curPc <= code || !(flags & d.has_debug_mask) || line === undefined) return undefined;
    const at = this.#lineTable(d, ptr, line, curPc - code - 1, PC2LINE_MAX); // cur_pc is after the call's opcode
    return at !== undefined && at > 0 ? at : undefined;
  }

  #descriptor(): Desc | undefined {
    if (this.#desc) return this.#desc;
    const v = this.#view(this.#descAddr, DESC_SIZE);
    if (!v || v.getUint32(DESC.magic, true) !== KILN_PROFILE_MAGIC || v.getUint32(DESC.version, true) !== KILN_PROFILE_VERSION) return undefined;
    if (v.getBigUint64(DESC.frame_head, true) === 0n) return undefined; // the engine is not up yet
    const d = {} as Desc;
    for (const [k, off] of Object.entries(DESC) as [keyof Desc, number][]) {
      d[k] = k === 'frame_head' || k === 'atom_array' || k === 'atom_size' || k === 'bytecode_classes' ? Number(v.getBigUint64(off, true))
        : k === 'magic' || k === 'version' || k === 'cfunction_class' || k === 'atom_tag_int' || k === 'str_len_mask' || k === 'str_wide_mask' ? v.getUint32(off, true)
        : k === 'tag_object' ? v.getInt32(off, true)
        : k === 'has_debug_mask' || k === 'pc2line_range' || k === 'pc2line_op_first' ? v.getUint8(off)
        : k === 'pc2line_base' ? v.getInt8(off)
        : v.getUint16(off, true);
    }
    this.#desc = d;
    return d;
  }

  #view(gpa: number, len: number): DataView | undefined {
    if (!Number.isSafeInteger(gpa) || !this.#ram.contains(gpa, len)) return undefined;
    return this.#ram.view(gpa, len);
  }

  #u64(gpa: number): number | undefined {
    const v = this.#view(gpa, 8);
    return v && Number(v.getBigUint64(0, true));
  }

  #u32(gpa: number): number | undefined {
    return this.#view(gpa, 4)?.getUint32(0, true);
  }

  /** The text of atom `atom`, or undefined if it cannot be read. */
  #atom(d: Desc, atom: number): string | undefined {
    if (atom & d.atom_tag_int) return String((atom & ~d.atom_tag_int) >>> 0);
    const array = this.#u64(d.atom_array);
    const count = this.#view(d.atom_size, 4)?.getInt32(0, true);
    if (array === undefined || count === undefined || atom >= count) return undefined;
    const str = this.#u64(array + 8 * atom);
    if (str === undefined || str & 1) return undefined; // a free slot
    const bits = this.#u32(str + d.str_bits);
    if (bits === undefined) return undefined;
    const len = Math.min((bits & d.str_len_mask) >>> 0, NAME_MAX);
    const wide = (bits & d.str_wide_mask) !== 0;
    const chars = this.#view(str + d.str_data, wide ? 2 * len : len);
    if (!chars) return undefined;
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(wide ? chars.getUint16(2 * i, true) : chars.getUint8(i));
    return s;
  }

  #read(d: Desc, ptr: number): JsFunctionInfo {
    const nameAtom = this.#u32(ptr + d.b_func_name);
    if (nameAtom === undefined) return { name: `[js 0x${ptr.toString(16)}]` };
    const name = this.#atom(d, nameAtom) ?? `[js 0x${ptr.toString(16)}]`;
    const flags = this.#view(ptr + d.b_debug_flags, 1)?.getUint8(0) ?? 0;
    if (!(flags & d.has_debug_mask)) return { name: name || '<anonymous>' };
    const filenameAtom = this.#u32(ptr + d.b_filename);
    const line = this.#view(ptr + d.b_line_num, 4)?.getInt32(0, true);
    const file = filenameAtom === undefined ? undefined : this.#atom(d, filenameAtom);
    const first = line !== undefined && line > 0 ? this.#firstCodeLine(d, ptr, line) : undefined;
    return { name: name || '<anonymous>', ...(file !== undefined ? { file } : {}), ...(first !== undefined ? { line: first } : {}) };
  }

  /** The first line the function's code moves to, from its pc2line table (QuickJS records a class
   * method's start on the line before it, where the previous member ends); `line`
   * (debug.line_num) when the table is missing or never moves. */
  #firstCodeLine(d: Desc, ptr: number, line: number): number {
    const at = this.#lineTable(d, ptr, line, undefined, 64);
    return at !== undefined && at > 0 ? at : line;
  }

  /**
   * Reads the bytecode's pc2line table (at most `maxBytes` of it) as QuickJS's find_line_num does:
   * the line of pc `target`, or with no target the first line the table moves to; undefined when
   * the table is missing or unreadable.
   */
  #lineTable(d: Desc, ptr: number, line: number, target: number | undefined, maxBytes: number): number | undefined {
    const len = this.#view(ptr + d.b_pc2line_len, 4)?.getInt32(0, true);
    const table = this.#u64(ptr + d.b_pc2line_buf);
    if (!len || len < 1 || !table || d.pc2line_range === 0) return undefined;
    const t = this.#view(table, Math.min(len, maxBytes));
    if (!t) return undefined;
    let p = 0;
    const leb = (): number | undefined => {
      let v = 0;
      for (let shift = 0; shift < 35 && p < t.byteLength; shift += 7) {
        const b = t.getUint8(p++);
        v += (b & 0x7f) * 2 ** shift;
        if (!(b & 0x80)) return v;
      }
      return undefined;
    };
    let pc = 0;
    let at = line;
    while (p < t.byteLength) {
      const op = t.getUint8(p++);
      let next: number;
      if (op === 0) {
        const dpc = leb();
        const z = leb(); // the line delta, zigzag
        if (dpc === undefined || z === undefined) return target === undefined ? undefined : at;
        pc += dpc;
        next = at + (z % 2 ? -(z + 1) / 2 : z / 2);
      } else {
        const o = op - d.pc2line_op_first;
        pc += Math.floor(o / d.pc2line_range);
        next = at + (o % d.pc2line_range) + d.pc2line_base;
      }
      if (target === undefined) {
        if (next !== at) return next;
      } else if (target < pc) {
        return at;
      }
      at = next;
    }
    return target === undefined ? undefined : at;
  }
}
