// The file and line of the C functions in a profile (QProfiler's addr2line step). The image
// carries the core's symbol table but no debug information; the arch build's core ELF (built
// with -g) has it. When the image's executable bytes are that ELF's — the image was built by this
// checkout's core — binutils' addr2line gives each native function's file and line of definition
// (`quickjs.c:7177`, `malloc.c:136`). Otherwise (an image from elsewhere, no addr2line) native
// frames keep no location; nothing fails.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PF_X, PT_LOAD } from '@kiln/common/elf/constants.ts';
import { parseElf, segmentData } from '@kiln/common/elf/reader.ts';
import type { Frame, Profile } from '@kiln/vmm/profile/profile.ts';
import { ImageSymbols } from '@kiln/vmm/profile/image_symbols.ts';
import { archBuildDir } from './paths.ts';

/** The executable segments' bytes of an ELF, concatenated in order; undefined if it does not parse. */
function executableBytes(elf: Uint8Array): Buffer | undefined {
  try {
    const f = parseElf(elf);
    return Buffer.concat(f.programHeaders.filter((ph) => ph.type === PT_LOAD && ph.flags & PF_X).map((ph) => segmentData(f, ph)));
  } catch {
    return undefined;
  }
}

/** The core ELF the image was built from, among the arch build's cores, or undefined. */
export function coreElfOf(image: Uint8Array, candidates = ['kiln-core.elf', 'kiln-core-bigint.elf'].map((n) => join(archBuildDir(), n))): string | undefined {
  const text = executableBytes(image);
  if (!text || text.length === 0) return undefined;
  return candidates.find((c) => {
    if (!existsSync(c)) return false;
    const core = executableBytes(readFileSync(c));
    return core !== undefined && core.equals(text);
  });
}

/** function name → "file:line" for the image's native functions `names`, by addr2line over `coreElf`. */
export function nativeLocations(image: Uint8Array, coreElf: string, names: readonly string[]): Map<string, string> {
  const symbols = ImageSymbols.fromImage(image);
  const found = names.map((n) => [n, symbols.addressOf(n)] as const).filter((e): e is readonly [string, number] => e[1] !== undefined);
  const out = new Map<string, string>();
  if (found.length === 0) return out;
  const r = spawnSync('addr2line', ['-e', coreElf, ...found.map(([, a]) => `0x${a.toString(16)}`)], { encoding: 'utf8' });
  if (r.status !== 0 || typeof r.stdout !== 'string') return out;
  r.stdout.split('\n').forEach((line, i) => {
    const m = /^(.*):(\d+)/.exec(line);
    if (i < found.length && m && m[1] !== '??' && m[2] !== '0') out.set(found[i]![0], `${basename(m[1]!)}:${m[2]}`);
  });
  return out;
}

/** `p` with its native frames' locations filled in where the image's core and addr2line allow. */
export function withNativeLocations(p: Profile, imagePath: string): Profile {
  let image: Uint8Array;
  try {
    image = readFileSync(imagePath);
  } catch {
    return p;
  }
  const core = coreElfOf(image);
  if (!core) return p;
  const names = new Set<string>();
  for (const s of p.stacks) for (const f of s.frames) if (f.kind === 'native' && f.location === undefined) names.add(f.name);
  const where = nativeLocations(image, core, [...names]);
  if (where.size === 0) return p;
  const locate = (f: Frame): Frame => (f.kind === 'native' && f.location === undefined && where.has(f.name) ? { ...f, location: where.get(f.name)! } : f);
  return { ...p, stacks: p.stacks.map((s) => ({ ...s, frames: s.frames.map(locate) })) };
}
