// A FAT directory held in memory: its raw entry bytes (a buffer of whole clusters, or the fixed
// FAT12/16 root region), the parsed entries by case-insensitive name, the short names in use,
// where free slots are, and which 512-byte units are dirty. Entries are read once when the
// directory is first used; afterwards every change edits the buffer and the index together.
//
// Dirty units carry a write level for the volume's commit: NORMAL and EARLY units go out
// together, LATE units after a barrier (a rename removes the old entry before the new one
// appears, so a crash can lose the file but never leave two entries sharing its clusters).
// Clusters added to a directory in this epoch are FRESH: written whole, before any FAT link
// or entry that makes them reachable.

import {
  ATTR_DIRECTORY, ATTR_LONG_NAME, ATTR_LONG_NAME_MASK, ATTR_VOLUME_ID, DIRENT_SIZE, ENTRY_END, ENTRY_FREE, LFN,
  LFN_CHARS, LFN_LAST, LFN_MAX_ENTRIES, emitLfn, emitShort, isLfnEntry, lfnChars, lfnChecksum, parseShort,
  type ShortEntry,
} from './dirent.ts';
import { nameKey, shortDisplayName } from './names.ts';

export const UNIT = 512;
const SLOTS_PER_UNIT = UNIT / DIRENT_SIZE;
/** A directory holds at most 65536 entries (FAT spec §6). */
export const DIR_MAX_SLOTS = 65536;

export const LEVEL_NORMAL = 0;
export const LEVEL_EARLY = 1;
export const LEVEL_LATE = 2;
export type WriteLevel = 0 | 1 | 2;

/** A file or directory of the volume while it is mounted (the "inode"). */
export interface FatNode {
  readonly ino: number;
  /** The directory holding its entry (null for the root). */
  parent: Dir | null;
  /** Slot of its short entry in the parent, and how many LFN slots precede it. */
  slot: number;
  lfnCount: number;
  name: string;
  short: ShortEntry;
  isDir: boolean;
  /** Loaded directory contents (directories only). */
  dir: Dir | null;
  /** The cluster chain, once walked (kept in step with every change). */
  clusters: number[] | null;
  openCount: number;
  /** Removed from its directory while open: its clusters are freed at the last close. */
  unlinked: boolean;
  /** Written data not yet on the device: bytes [pos, pos+len) of the file, all inside its clusters. */
  pending: { pos: number; buf: Uint8Array; len: number } | null;
  /** The last block read (read-ahead for small sequential reads): file bytes [pos, pos+bytes.length). */
  readCache: { pos: number; bytes: Uint8Array } | null;
}

export class Dir {
  /** Live entries by nameKey. */
  readonly entries = new Map<string, FatNode>();
  /** Raw short names in use (including "." / ".." / the volume label). */
  readonly shortNames = new Set<string>();
  /** First never-used slot (0x00): it and everything after it are free. */
  endSlot = 0;
  /** Deleted (0xE5) slots before endSlot. */
  freeSlots = 0;
  /** No run of scanCount or more deleted slots lies before scanFrom (so searches start there). */
  private scanFrom = 0;
  private scanCount = 0;
  /** Dirty 512-byte units of `buf` and their write level. */
  readonly dirty = new Map<number, WriteLevel>();
  /** Indexes into `clusters` of clusters added in this epoch. */
  readonly fresh = new Set<number>();

  /**
   * @param node the directory's own node
   * @param buf its entry bytes (whole 512-byte units)
   * @param clusters its cluster chain, or null for the fixed FAT12/16 root
   * @param maxSlots the fixed root's entry count (its last unit may hold fewer)
   */
  constructor(readonly node: FatNode, public buf: Uint8Array, readonly clusters: number[] | null, private readonly maxSlots = Infinity) {}

  get capacity(): number {
    return Math.min(this.buf.length / DIRENT_SIZE, this.maxSlots);
  }

  /** Parses the entries (once, after construction). `makeNode` creates the node of each entry found. */
  parse(fat32: boolean, makeNode: (slot: number, lfnCount: number, name: string, short: ShortEntry) => FatNode): void {
    const b = this.buf;
    const n = this.capacity;
    let lfnName = '';
    let lfnStart = -1; // slot of the LFN run in progress (-1: none)
    let lfnNext = 0; // sequence number still expected (0: the run is complete)
    let lfnSum = -1;
    let i = 0;
    for (; i < n; i++) {
      const off = i * DIRENT_SIZE;
      const first = b[off]!;
      if (first === ENTRY_END) break;
      if (first === ENTRY_FREE) {
        this.freeSlots++;
        lfnStart = -1;
        continue;
      }
      if (isLfnEntry(b, off)) {
        const seq = first & 0x1f;
        if (first & LFN_LAST) {
          lfnStart = seq >= 1 && seq <= LFN_MAX_ENTRIES ? i : -1;
          lfnName = lfnChars(b, off);
          lfnSum = b[off + LFN.checksum]!;
          lfnNext = seq - 1;
        } else if (lfnStart >= 0 && lfnNext > 0 && seq === lfnNext && b[off + LFN.checksum] === lfnSum) {
          lfnName = lfnChars(b, off) + lfnName;
          lfnNext--;
        } else {
          lfnStart = -1;
        }
        continue;
      }
      const short = parseShort(b, off);
      this.shortNames.add(short.rawName);
      const hasLfn = lfnStart >= 0 && lfnNext === 0 && lfnSum === lfnChecksum(short.rawName);
      const lfnCount = hasLfn ? i - lfnStart : 0;
      lfnStart = -1;
      if ((short.attr & ATTR_VOLUME_ID) || short.rawName.charCodeAt(0) === 0x2e) continue; // label, "." and ".."
      if (!fat32) short.cluster &= 0xffff;
      const name = hasLfn ? lfnName : shortDisplayName(short.rawName, short.ntCase);
      const key = nameKey(name);
      if (name === '' || this.entries.has(key)) continue; // unreadable or duplicate: left alone
      this.entries.set(key, makeNode(i, lfnCount, name, short));
    }
    this.endSlot = i;
    // Everything after the end marker is free by definition; make sure it reads as zeros.
    b.fill(0, i * DIRENT_SIZE);
  }

  lookup(name: string): FatNode | undefined {
    return this.entries.get(nameKey(name));
  }

  markDirty(firstSlot: number, count: number, level: WriteLevel): void {
    const last = Math.floor((firstSlot + count - 1) / SLOTS_PER_UNIT);
    for (let u = Math.floor(firstSlot / SLOTS_PER_UNIT); u <= last; u++) {
      const had = this.dirty.get(u);
      if (had === undefined || level > had) this.dirty.set(u, level);
    }
  }

  /** The 512-byte units that hold slots [first, first+count). */
  unitsOf(firstSlot: number, count: number): number[] {
    const out: number[] = [];
    const last = Math.floor((firstSlot + count - 1) / SLOTS_PER_UNIT);
    for (let u = Math.floor(firstSlot / SLOTS_PER_UNIT); u <= last; u++) out.push(u);
    return out;
  }

  /** Whether unit u lies in a cluster added in this epoch. */
  isFreshUnit(u: number, clusterSize: number): boolean {
    return this.fresh.size > 0 && this.fresh.has(Math.floor((u * UNIT) / clusterSize));
  }

  /**
   * Where an entry of `count` slots goes: a run of deleted slots, else after the last entry,
   * or -1 when the directory must grow first. A run of up to 16 slots never straddles two
   * 512-byte units, so the entry reaches the disk in one sector write and a crash cannot leave
   * half of it (an append that would straddle starts at the next unit; writeEntries marks the
   * skipped slots deleted).
   */
  findSlots(count: number): number {
    const fits = count <= SLOTS_PER_UNIT;
    if (this.freeSlots >= count) {
      const b = this.buf;
      const from = count < this.scanCount ? 0 : fits ? this.scanFrom - (this.scanFrom % SLOTS_PER_UNIT) : Math.max(0, this.scanFrom - count);
      let run = 0;
      for (let i = from; i < this.endSlot; i++) {
        if (fits && i % SLOTS_PER_UNIT === 0) run = 0;
        if (b[i * DIRENT_SIZE] === ENTRY_FREE) {
          if (++run === count) return i - count + 1;
        } else {
          run = 0;
        }
      }
      this.scanFrom = this.endSlot;
      this.scanCount = count;
    }
    const at = this.appendSlot(count);
    return at + count <= this.capacity ? at : -1;
  }

  /** The slot an appended entry of `count` slots starts at (unit-aligned when it would straddle). */
  appendSlot(count: number): number {
    const e = this.endSlot;
    if (count > SLOTS_PER_UNIT || (e % SLOTS_PER_UNIT) + count <= SLOTS_PER_UNIT) return e;
    return e + SLOTS_PER_UNIT - (e % SLOTS_PER_UNIT);
  }

  /**
   * Appends zeroed clusters to the buffer (the caller has allocated and linked them). The
   * backing store doubles when it is full, so a directory of n clusters is copied O(log n) times.
   */
  grow(newClusters: number[], clusterSize: number): void {
    const chain = this.clusters!;
    const old = this.buf;
    const len = old.length + newClusters.length * clusterSize;
    if (old.byteOffset === 0 && old.buffer.byteLength >= len) {
      this.buf = new Uint8Array(old.buffer, 0, len);
    } else {
      const next = new Uint8Array(Math.max(len, Math.min(old.length * 2, DIR_MAX_SLOTS * DIRENT_SIZE)));
      next.set(old);
      this.buf = next.subarray(0, len);
    }
    for (const c of newClusters) {
      this.fresh.add(chain.length);
      chain.push(c);
    }
  }

  /** Writes the LFN entries (when `lfn`) and the short entry of `name` at `slot`. Returns the LFN count. */
  writeEntries(slot: number, name: string, lfn: boolean, short: ShortEntry, level: WriteLevel): number {
    if (slot > this.endSlot) {
      for (let s = this.endSlot; s < slot; s++) this.buf[s * DIRENT_SIZE] = ENTRY_FREE;
      this.markDirty(this.endSlot, slot - this.endSlot, LEVEL_NORMAL);
      this.freeSlots += slot - this.endSlot;
      this.endSlot = slot;
    }
    const lfnCount = lfn ? Math.ceil(name.length / LFN_CHARS) : 0;
    const sum = lfnChecksum(short.rawName);
    for (let k = 0; k < lfnCount; k++) {
      const seq = lfnCount - k;
      emitLfn(name, seq, k === 0, sum, this.buf, (slot + k) * DIRENT_SIZE);
    }
    const s = slot + lfnCount;
    emitShort(short, this.buf, s * DIRENT_SIZE);
    this.shortNames.add(short.rawName);
    const total = lfnCount + 1;
    if (slot === this.endSlot) this.endSlot += total;
    else this.freeSlots -= total;
    this.markDirty(slot, total, level);
    return lfnCount;
  }

  /** Marks a node's slots deleted. */
  removeEntries(node: FatNode, level: WriteLevel): void {
    const first = node.slot - node.lfnCount;
    const total = node.lfnCount + 1;
    for (let s = first; s <= node.slot; s++) this.buf[s * DIRENT_SIZE] = ENTRY_FREE;
    this.freeSlots += total;
    if (first < this.scanFrom) this.scanFrom = first;
    this.shortNames.delete(node.short.rawName);
    this.entries.delete(nameKey(node.name));
    this.markDirty(first, total, level);
  }

  /** Rewrites a node's short entry from node.short (size, first cluster, times). */
  updateShort(node: FatNode): void {
    emitShort(node.short, this.buf, node.slot * DIRENT_SIZE);
    this.markDirty(node.slot, 1, LEVEL_NORMAL);
  }

  /** Sets the first cluster of the ".." entry (slot 1) of this directory. */
  setDotDot(cluster: number, level: WriteLevel): void {
    const off = DIRENT_SIZE;
    if (this.buf.length < 2 * DIRENT_SIZE || this.buf[off] !== 0x2e || this.buf[off + 1] !== 0x2e) return;
    const e = parseShort(this.buf, off);
    e.cluster = cluster;
    emitShort(e, this.buf, off);
    this.markDirty(1, 1, level);
  }

  isEmpty(): boolean {
    return this.entries.size === 0;
  }
}

/** The "." and ".." entries of a new directory cluster (FAT spec §6.7). */
export function emitDotEntries(buf: Uint8Array, self: number, parent: number, template: ShortEntry): void {
  emitShort({ ...template, rawName: '.          ', attr: ATTR_DIRECTORY, ntCase: 0, cluster: self, size: 0 }, buf, 0);
  emitShort({ ...template, rawName: '..         ', attr: ATTR_DIRECTORY, ntCase: 0, cluster: parent, size: 0 }, buf, DIRENT_SIZE);
}

export const isDirAttr = (attr: number): boolean => (attr & ATTR_DIRECTORY) !== 0 && (attr & ATTR_LONG_NAME_MASK) !== ATTR_LONG_NAME;
