// FAT names (Microsoft FAT spec §6.1, §7.4): which long names are valid, when a name can be
// stored as a short 8.3 entry alone (Windows NT case bits for an all-lower base or extension),
// the short alias of a long name (basis name + "~N" numeric tail), and how short names read
// back (OEM code page 437, our own table: the guest has no TextDecoder). Names compare case-
// insensitively through nameKey, as FAT requires.

import { ENTRY_FREE, ENTRY_KANJI_E5, NT_LOWER_BASE, NT_LOWER_EXT } from './dirent.ts';

export const LONG_NAME_MAX = 255;

/** Code page 437, bytes 0x80-0xFF. */
export const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/** Case-insensitive comparison key of a name. */
export function nameKey(name: string): string {
  return name.toUpperCase();
}

/** Why `name` cannot be a FAT long name, or null when it can. */
export function invalidLongName(name: string): { code: 'EINVAL' | 'ENAMETOOLONG'; why: string } | null {
  if (name.length === 0) return { code: 'EINVAL', why: 'empty name' };
  if (name.length > LONG_NAME_MAX) return { code: 'ENAMETOOLONG', why: `name is ${name.length} UTF-16 units, FAT allows ${LONG_NAME_MAX}` };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || '"*/:<>?\\|'.indexOf(name[i]!) >= 0) {
      return { code: 'EINVAL', why: `character ${JSON.stringify(name[i])} is not allowed in FAT names` };
    }
  }
  const lastChar = name[name.length - 1];
  if (lastChar === '.' || lastChar === ' ') return { code: 'EINVAL', why: 'FAT names cannot end with a dot or a space' };
  return null;
}

// Characters allowed in a short name besides A-Z and 0-9 (§6.1).
const SHORT_SPECIALS = "!#$%&'()-@^_`{}~";
// Allowed in long names, replaced by '_' in an alias (§7.4 step 2).
const LOSSY_IN_SHORT = '+,;=[]';

function isShortChar(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_SPECIALS.indexOf(c) >= 0;
}

export interface ShortForm {
  rawName: string;
  ntCase: number;
}

function raw(base: string, ext: string): string {
  let r = base.padEnd(8, ' ') + ext.padEnd(3, ' ');
  if (r.charCodeAt(0) === ENTRY_FREE) r = String.fromCharCode(ENTRY_KANJI_E5) + r.slice(1);
  return r;
}

/** One part (base or extension) of a name that may be stored as 8.3: its case bit, or -1 if it needs an LFN. */
function partCase(part: string, lowerBit: number): number {
  let lower = false;
  let upper = false;
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c >= 'a' && c <= 'z') lower = true;
    else if (c >= 'A' && c <= 'Z') upper = true;
    else if (!isShortChar(c)) return -1;
  }
  if (lower && upper) return -1;
  return lower ? lowerBit : 0;
}

/** The short entry alone that stores `name` (8.3, one case per part), or null when it needs LFN entries. */
export function exactShortForm(name: string): ShortForm | null {
  const dot = name.indexOf('.');
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (base.length < 1 || base.length > 8 || ext.length > 3 || (dot >= 0 && ext.length === 0) || ext.indexOf('.') >= 0) return null;
  const b = partCase(base, NT_LOWER_BASE);
  const e = partCase(ext, NT_LOWER_EXT);
  if (b < 0 || e < 0) return null;
  return { rawName: raw(base.toUpperCase(), ext.toUpperCase()), ntCase: b | e };
}

/** The basis name of §7.4: upper-cased, spaces and leading dots dropped, invalid chars as '_'. */
function basisName(name: string): { base: string; ext: string; lossy: boolean } {
  let lossy = false;
  const conv = (s: string): string => {
    let out = '';
    const up = s.toUpperCase();
    for (let i = 0; i < up.length; i++) {
      const c = up[i]!;
      if (c === ' ') {
        lossy = true;
        continue;
      }
      if (isShortChar(c)) out += c;
      else {
        out += '_';
        lossy = true;
      }
    }
    return out;
  };
  let start = 0;
  while (start < name.length && (name[start] === '.' || name[start] === ' ')) start++;
  const body = name.slice(start);
  const lastDot = body.lastIndexOf('.');
  const firstDot = body.indexOf('.');
  const primaryAll = conv(firstDot < 0 ? body : body.slice(0, firstDot));
  const extAll = lastDot < 0 ? '' : conv(body.slice(lastDot + 1));
  if (primaryAll.length > 8 || extAll.length > 3 || firstDot !== lastDot || start > 0) lossy = true;
  return { base: primaryAll.slice(0, 8) || '_', ext: extAll.slice(0, 3), lossy };
}

function tailHash(name: string): string {
  let h = 0x811c;
  for (let i = 0; i < name.length; i++) h = ((h ^ name.charCodeAt(i)) * 0x3b) & 0xffff;
  return h.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * The short alias for a long name that needs LFN entries: the basis name itself when only case
 * kept it from being 8.3 and it is free, else basis~1..~4, then XX<hash>~1..~9 (Windows' way
 * to stay O(1) in big directories), then ~5 onwards. `taken` says whether a raw name is in use.
 */
export function aliasFor(name: string, taken: (rawName: string) => boolean): string | null {
  const { base, ext, lossy } = basisName(name);
  const exact = raw(base, ext);
  if (!lossy && !taken(exact)) return exact;
  const withTail = (stem: string, n: number): string => {
    const tail = '~' + n;
    return raw(stem.slice(0, 8 - tail.length) + tail, ext);
  };
  for (let n = 1; n <= 4; n++) {
    const r = withTail(base, n);
    if (!taken(r)) return r;
  }
  const hashed = base.slice(0, 2) + tailHash(name);
  for (let n = 1; n <= 9; n++) {
    const r = withTail(hashed, n);
    if (!taken(r)) return r;
  }
  for (let n = 5; n <= 999999; n++) {
    const r = withTail(base, n);
    if (!taken(r)) return r;
  }
  return null;
}

/** How a short entry's name reads back: OEM bytes decoded, NT case bits applied, "BASE.EXT". */
export function shortDisplayName(rawName: string, ntCase: number): string {
  let base = '';
  let ext = '';
  for (let i = 0; i < 11; i++) {
    let c = rawName.charCodeAt(i);
    if (i === 0 && c === ENTRY_KANJI_E5) c = ENTRY_FREE;
    let ch = c >= 0x80 ? CP437_HIGH[c - 0x80]! : String.fromCharCode(c);
    const lower = i < 8 ? ntCase & NT_LOWER_BASE : ntCase & NT_LOWER_EXT;
    if (lower && c >= 0x41 && c <= 0x5a) ch = String.fromCharCode(c + 32);
    if (i < 8) base += ch;
    else ext += ch;
  }
  base = base.replace(/ +$/, '');
  ext = ext.replace(/ +$/, '');
  return ext ? `${base}.${ext}` : base;
}
