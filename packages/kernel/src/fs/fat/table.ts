// The file allocation table: a cache of the active FAT (FAT12/16 whole, FAT32 in 64 KiB chunks
// loaded on first use), cluster chains, allocation and freeing, and the ordered write-back of
// the entries changed since the last commit.
//
// Every entry changed in the current epoch remembers its on-disk value (`orig`). A cluster is
// allocatable only when it is free both in the cache and on disk, so a cluster freed in this
// epoch is not reused before the directory change that freed it is on disk. At commit, the
// changes go out in stages, each to every FAT copy, with a device barrier between stages:
//   alloc: free → used (new clusters, linked among themselves and ending in EOC);
//   link:  EOC → next (an existing chain grows onto new clusters);
//   [the volume writes directory sectors here]
//   cut:   every used entry that is being freed or shortened becomes EOC;
//   free:  the cut entries take their final values (0 for freed clusters).
// So on disk no used cluster ever points at a free one, and a chain is never shorter than the
// directory entry that owns it says. Entries whose on-disk value is a link to another cluster
// must not be re-linked in the same epoch: `mustCommitBeforeExtending` tells the volume.

import { CorruptVolume, NoSpace } from './errors.ts';
import type { FatGeometry } from './bpb.ts';
import type { FatBlockDevice } from './device.ts';

const FAT32_CHUNK_BYTES = 64 * 1024;
const FAT32_MASK = 0x0fffffff;

export type CommitStage = 'alloc' | 'link' | 'cut' | 'free';

interface Chunk {
  bytes: Uint8Array;
  u16: Uint16Array | null;
  u32: Uint32Array | null;
}

export class FatTable {
  /** Highest valid cluster number (clusterCount + 1). */
  readonly maxCluster: number;
  /** Smallest end-of-chain value of this FAT type. */
  readonly endMin: number;
  /** The end-of-chain value written. */
  readonly eoc: number;
  readonly bad: number;
  private readonly bits: 12 | 16 | 32;
  private readonly fatBytes: number;
  private readonly chunkBytes: number;
  private readonly chunks: (Chunk | undefined)[];
  /** On-disk value of every entry changed since the last commit. */
  private readonly orig = new Map<number, number>();
  /** Final values of the entries a commit in progress writes (prepareCommit → finishCommit). */
  private staged: Map<number, number> | null = null;
  private free = -1;
  /** Clusters free in the cache but not yet on disk (not allocatable until the next commit). */
  private pendingFree = 0;
  /** Where the next allocation search starts (FSInfo's next-free hint). */
  nextHint = 2;

  constructor(private readonly dev: FatBlockDevice, private readonly g: FatGeometry) {
    this.bits = g.type === 'fat12' ? 12 : g.type === 'fat16' ? 16 : 32;
    this.maxCluster = g.clusterCount + 1;
    this.endMin = this.bits === 12 ? 0xff8 : this.bits === 16 ? 0xfff8 : 0x0ffffff8;
    this.eoc = this.bits === 12 ? 0xfff : this.bits === 16 ? 0xffff : 0x0fffffff;
    this.bad = this.endMin - 1;
    this.fatBytes = Math.ceil(((g.clusterCount + 2) * this.bits) / 8 / g.sectorSize) * g.sectorSize;
    this.chunkBytes = this.bits === 32 ? Math.min(FAT32_CHUNK_BYTES, this.fatBytes) : this.fatBytes;
    this.chunks = new Array(Math.ceil(this.fatBytes / this.chunkBytes));
  }

  private fatOffset(copy: number): number {
    return (this.g.reservedSectors + copy * this.g.fatSectors) * this.g.sectorSize;
  }

  private entryByte(c: number): number {
    return this.bits === 12 ? c + (c >> 1) : c * (this.bits / 8);
  }

  private async loadChunk(i: number): Promise<Chunk> {
    const start = i * this.chunkBytes;
    const len = Math.min(this.chunkBytes, this.fatBytes - start);
    const bytes = (await this.dev.read(this.fatOffset(Math.max(this.g.activeFat, 0)) + start, len)).slice();
    const ch: Chunk = {
      bytes,
      u16: this.bits === 16 ? new Uint16Array(bytes.buffer, 0, len >> 1) : null,
      u32: this.bits === 32 ? new Uint32Array(bytes.buffer, 0, len >> 2) : null,
    };
    this.chunks[i] = ch;
    return ch;
  }

  /** Loads the part of the FAT holding cluster c's entry. */
  async ensure(c: number): Promise<void> {
    const i = Math.floor(this.entryByte(c) / this.chunkBytes);
    if (!this.chunks[i]) await this.loadChunk(i);
  }

  /** The entry of cluster c, which must be loaded (ensure). Masked to 28 bits on FAT32. */
  peek(c: number): number {
    const byte = this.entryByte(c);
    const i = Math.floor(byte / this.chunkBytes);
    const ch = this.chunks[i]!;
    const off = byte - i * this.chunkBytes;
    if (this.bits === 32) return ch.u32![off >> 2]! & FAT32_MASK;
    if (this.bits === 16) return ch.u16![off >> 1]!;
    const v = ch.bytes[off]! | (ch.bytes[off + 1]! << 8);
    return c & 1 ? v >> 4 : v & 0xfff;
  }

  async get(c: number): Promise<number> {
    await this.ensure(c);
    return this.peek(c);
  }

  /** Stores v in the cache only (the FAT32 top 4 bits are kept). */
  private poke(c: number, v: number): void {
    const byte = this.entryByte(c);
    const i = Math.floor(byte / this.chunkBytes);
    const ch = this.chunks[i]!;
    const off = byte - i * this.chunkBytes;
    if (this.bits === 32) {
      const w = off >> 2;
      ch.u32![w] = ((ch.u32![w]! & 0xf0000000) | v) >>> 0;
    } else if (this.bits === 16) {
      ch.u16![off >> 1] = v;
    } else if (c & 1) {
      ch.bytes[off] = (ch.bytes[off]! & 0x0f) | ((v & 0x0f) << 4);
      ch.bytes[off + 1] = v >> 4;
    } else {
      ch.bytes[off] = v & 0xff;
      ch.bytes[off + 1] = (ch.bytes[off + 1]! & 0xf0) | (v >> 8);
    }
  }

  /** Changes cluster c's entry (loaded) in the cache, remembering its on-disk value for the commit. */
  set(c: number, v: number): void {
    const old = this.peek(c);
    if (old === v) return;
    let disk = this.orig.get(c);
    if (disk === undefined) {
      disk = old;
      this.orig.set(c, old);
    }
    if (old === 0) {
      if (this.free >= 0) this.free--;
      if (disk !== 0) this.pendingFree--;
    }
    if (v === 0) {
      if (this.free >= 0) this.free++;
      if (disk !== 0) this.pendingFree++;
    }
    this.poke(c, v);
  }

  isEnd(v: number): boolean {
    return v >= this.endMin;
  }

  /** Reads a raw entry of the reserved area (0 or 1), e.g. for the dirty bit. */
  async reserved(index: 0 | 1): Promise<number> {
    await this.ensure(index);
    const byte = this.entryByte(index);
    const ch = this.chunks[0]!;
    if (this.bits === 32) return ch.u32![byte >> 2]!;
    return this.peek(index);
  }

  /** Sets a reserved entry in the cache (the caller writes its sector with writeSectorsOf([index])). */
  setReserved(index: 0 | 1, raw: number): void {
    const ch = this.chunks[0]!;
    if (this.bits === 32) ch.u32![index] = raw >>> 0;
    else this.poke(index, raw);
  }

  /** Checks the entry v of cluster c as a chain link: a cluster number, or a value >= endMin for the end. */
  private checkLink(c: number, v: number): number {
    if (v >= this.endMin) return v;
    if (v < 2 || v > this.maxCluster) {
      throw new CorruptVolume(v === 0 ? `cluster chain runs into free cluster ${c}` : v === this.bad ? `cluster chain runs into bad cluster after ${c}` : `cluster ${c} points at ${v}, outside 2..${this.maxCluster}`);
    }
    return v;
  }

  /** The next cluster after c, checked: a cluster number, or a value >= endMin for the end. */
  async next(c: number): Promise<number> {
    return this.checkLink(c, await this.get(c));
  }

  /** Every cluster of the chain starting at `first` (empty for 0). EIO on loops and bad links. */
  async chain(first: number): Promise<number[]> {
    const out: number[] = [];
    if (first === 0) return out;
    if (first < 2 || first > this.maxCluster) throw new CorruptVolume(`first cluster ${first} is outside 2..${this.maxCluster}`);
    const limit = this.g.clusterCount;
    let c = first;
    for (;;) {
      out.push(c);
      if (out.length > limit) throw new CorruptVolume(`cluster chain starting at ${first} loops`);
      if (!this.chunks[Math.floor(this.entryByte(c) / this.chunkBytes)]) await this.ensure(c);
      const n = this.checkLink(c, this.peek(c));
      if (n >= this.endMin) return out;
      c = n;
    }
  }

  /** Takes the free count from a trusted FSInfo (a cleanly unmounted FAT32 volume) instead of counting. */
  trustFreeCount(n: number): void {
    if (this.free < 0 && n >= 0 && n <= this.g.clusterCount) this.free = n;
  }

  /** Number of free clusters (counted once by reading the whole FAT unless trusted, then kept up to date). */
  async freeCount(): Promise<number> {
    if (this.free < 0) {
      let n = 0;
      for (let c = 2; c <= this.maxCluster;) {
        await this.ensure(c);
        const end = Math.min(this.maxCluster, this.lastInChunk(c));
        for (; c <= end; c++) if (this.peek(c) === 0) n++;
      }
      this.free = n;
    }
    return this.free;
  }

  /** Free clusters that can be allocated now. */
  async allocatable(): Promise<number> {
    return (await this.freeCount()) - this.pendingFree;
  }

  get hasPendingFrees(): boolean {
    return this.pendingFree > 0;
  }

  private lastInChunk(c: number): number {
    if (this.bits === 12) return this.maxCluster;
    const perChunk = this.chunkBytes / (this.bits / 8);
    return (Math.floor(c / perChunk) + 1) * perChunk - 1;
  }

  private isAllocatable(c: number): boolean {
    if (this.peek(c) !== 0) return false;
    const disk = this.orig.get(c);
    return disk === undefined || disk === 0;
  }

  /** Next cluster >= c (up to last) free in the cache, or -1; c's chunk must be loaded. */
  private nextZero(c: number, last: number): number {
    if (this.bits === 12) {
      for (; c <= last; c++) if (this.peek(c) === 0) return c;
      return -1;
    }
    const byte = this.entryByte(c);
    const i = Math.floor(byte / this.chunkBytes);
    const ch = this.chunks[i]!;
    const arr = (this.bits === 32 ? ch.u32 : ch.u16)!;
    const base = c - ((byte - i * this.chunkBytes) / (this.bits / 8));
    const k = arr.indexOf(0, c - base);
    if (k < 0 || base + k > last) return -1;
    return base + k;
  }

  /**
   * Allocates `count` clusters, searching from `near` (else the next-free hint) and wrapping
   * once, links them into one chain ending in EOC and returns them in order. Nothing changes
   * when there are not enough: NoSpace.
   */
  async allocate(count: number, near = 0): Promise<number[]> {
    if (count <= 0) return [];
    if ((await this.allocatable()) < count) throw new NoSpace(this.pendingFree > 0);
    const found: number[] = [];
    const start = near >= 2 && near <= this.maxCluster ? near : this.nextHint >= 2 && this.nextHint <= this.maxCluster ? this.nextHint : 2;
    let c = start;
    let wrapped = false;
    while (found.length < count) {
      if (c > this.maxCluster) {
        if (wrapped) break;
        wrapped = true;
        c = 2;
      }
      if (wrapped && c >= start) break;
      await this.ensure(c);
      const last = Math.min(this.lastInChunk(c), this.maxCluster, wrapped ? start - 1 : this.maxCluster);
      const z = this.nextZero(c, last);
      if (z < 0) {
        c = last + 1;
        continue;
      }
      if (this.isAllocatable(z)) found.push(z);
      c = z + 1;
    }
    if (found.length < count) throw new NoSpace(this.pendingFree > 0);
    for (let i = 0; i < count; i++) this.set(found[i]!, i + 1 < count ? found[i + 1]! : this.eoc);
    this.nextHint = found[count - 1]! + 1 > this.maxCluster ? 2 : found[count - 1]! + 1;
    return found;
  }

  /** Whether `tail` lost its on-disk link in this epoch (then the volume commits before linking it anew). */
  mustCommitBeforeExtending(tail: number): boolean {
    const disk = this.orig.get(tail);
    return disk !== undefined && disk !== 0 && disk < this.endMin;
  }

  /** Marks clusters free (a chain's clusters, already walked). */
  freeClusters(clusters: number[], from = 0): void {
    for (let i = from; i < clusters.length; i++) this.set(clusters[i]!, 0);
  }

  get dirty(): boolean {
    return this.orig.size > 0;
  }

  /** Entries changed since the last commit. */
  get changeCount(): number {
    return this.orig.size;
  }

  /**
   * Starts a commit: puts every changed entry back to its on-disk value in the cache and sorts
   * the changes into stages (writeStage applies them in order).
   */
  prepareCommit(): void {
    const final = new Map<number, number>();
    for (const [c, disk] of this.orig) {
      const cur = this.peek(c);
      if (cur === disk) continue;
      final.set(c, cur);
      this.poke(c, disk);
    }
    this.staged = final;
  }

  /** Applies one stage's changes to the cache and writes the FAT sectors they touch to every FAT copy. Returns whether it wrote. */
  async writeStage(stage: CommitStage): Promise<boolean> {
    const final = this.staged!;
    const touched: number[] = [];
    for (const [c, cur] of final) {
      const disk = this.orig.get(c)!;
      const now = this.peek(c);
      let v = -1;
      if (stage === 'alloc') {
        if (disk === 0) v = cur;
      } else if (stage === 'link') {
        if (disk >= this.endMin && cur !== 0 && cur < this.endMin) v = cur;
      } else if (stage === 'cut') {
        if (disk !== 0 && (cur === 0 || cur >= this.endMin) && disk !== cur) v = this.eoc;
      } else {
        v = cur;
      }
      if (v < 0 || v === now) continue;
      this.poke(c, v);
      touched.push(c);
    }
    if (touched.length === 0) return false;
    await this.writeSectorsOf(touched);
    return true;
  }

  /** Ends a commit: the cache is what is on disk now. */
  finishCommit(): void {
    this.orig.clear();
    this.staged = null;
    this.pendingFree = 0;
  }

  /** Writes the FAT sectors holding these clusters' entries (runs coalesced) to every copy in use. */
  async writeSectorsOf(clusters: number[]): Promise<void> {
    const ss = this.g.sectorSize;
    const sectors = new Set<number>();
    for (const c of clusters) {
      const byte = this.entryByte(c);
      sectors.add(Math.floor(byte / ss));
      if (this.bits === 12) sectors.add(Math.floor((byte + 1) / ss));
    }
    const sorted = Array.from(sectors).sort((a, b) => a - b);
    const copies = this.g.activeFat >= 0 ? [this.g.activeFat] : Array.from({ length: this.g.fatCount }, (_, i) => i);
    const perChunk = this.chunkBytes / ss;
    for (let i = 0; i < sorted.length;) {
      let j = i + 1;
      const chunk = Math.floor(sorted[i]! / perChunk);
      while (j < sorted.length && sorted[j] === sorted[j - 1]! + 1 && Math.floor(sorted[j]! / perChunk) === chunk) j++;
      const first = sorted[i]!;
      const ch = this.chunks[chunk]!;
      const from = (first - chunk * perChunk) * ss;
      const bytes = ch.bytes.subarray(from, from + (j - i) * ss);
      for (const copy of copies) await this.dev.write(this.fatOffset(copy) + first * ss, bytes);
      i = j;
    }
  }
}
