// A mounted FAT12/16/32 volume: the FileSystem the VFS sees (types.ts). Metadata (FAT entries,
// directory sectors) is cached and written back only by commit(), which sync() runs (and which
// runs by itself when free space is needed or the change set grows large); file data goes to
// the device as it is written (small writes are gathered per file first, see file.ts).
//
// Commit order (each step to every FAT copy, a device flush between steps that wrote):
//   1. the volume is marked dirty (BPB NT flag, FAT[1] clean bit, FSInfo count "unknown")
//      before the first device write of an epoch;
//   2. buffered file data, then new FAT chains (free → used) and new directory clusters;
//   3. links from existing chain ends onto the new chains;
//   4. directory sectors (a rename's removal before its new entry: LATE units last);
//   5. entries being freed or shortened become end-of-chain; then they become free;
//   6. FSInfo (exact free count, next-free hint), FAT[1] and the BPB flag say clean; a commit
//      inside an operation that goes on (commit('dirty')) marks the volume dirty again (step 1).
// What a crash anywhere in these steps leaves (checked with fsck.fat -n at every write point):
// docs/ARCHITECTURE.md "Filesystems", the FAT guarantee.
// All calls are serialised (one at a time), so no two operations interleave their awaits.

import { FsError, type DirEntry, type FileNode, type FileStat, type FileSystem, type FsUsage, type OpenFlags } from '../types.ts';
import { emitFsInfo, FSINFO_UNKNOWN, geometry, NT_FLAG_DIRTY, parseBootSector, parseFsInfo, type FatGeometry } from './bpb.ts';
import type { FatBlockDevice } from './device.ts';
import {
  Dir, DIR_MAX_SLOTS, emitDotEntries, isDirAttr, LEVEL_EARLY, LEVEL_LATE, LEVEL_NORMAL, UNIT, type FatNode, type WriteLevel,
} from './dir.ts';
import { ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_READ_ONLY, DIRENT_SIZE, LFN_CHARS, fromDosTime, toDosTime, type ShortEntry } from './dirent.ts';
import { CorruptVolume, Fail, NoSpace } from './errors.ts';
import { FatFileHandle, flushPending } from './file.ts';
import { aliasFor, exactShortForm, invalidLongName, nameKey } from './names.ts';
import { FatTable } from './table.ts';

/** Commit by itself once this many FAT entries changed (bounds the memory of an epoch). */
const AUTO_COMMIT_CHANGES = 65536;

export interface MountOptions {
  readOnly?: boolean;
}

/** Mounts the FAT volume on `dev`. EIO (with the reason) when it is not a usable FAT volume. */
export async function mountFat(dev: FatBlockDevice, options: MountOptions = {}): Promise<FileSystem> {
  try {
    const first = await dev.read(0, 512);
    const bs = parseBootSector(first);
    if (typeof bs === 'string') throw new Fail('EIO', `not a FAT volume: ${bs}`);
    const g = geometry(bs, dev.size);
    if (typeof g === 'string') throw new Fail('EIO', `bad FAT boot sector: ${g}`);
    const boot = g.sectorSize === 512 ? first : await dev.read(0, g.sectorSize);
    const vol = new FatVolume(dev, g, boot, options.readOnly === true || dev.readOnly);
    await vol.init();
    return vol;
  } catch (e) {
    throw toFsError(e, 'mount', '/');
  }
}

function toFsError(e: unknown, syscall: string, path: string): FsError {
  if (e instanceof FsError) return e;
  if (e instanceof Fail) return new FsError(e.code, syscall, path, e.detail);
  if (e instanceof CorruptVolume) return new FsError('EIO', syscall, path, e.message);
  if (e instanceof NoSpace) return new FsError('ENOSPC', syscall, path);
  const code = (e as { code?: unknown })?.code;
  if (code === 'EROFS') return new FsError('EROFS', syscall, path, `device is read-only: ${(e as Error).message}`);
  if (typeof code === 'string') return new FsError('EIO', syscall, path, `device error: ${(e as Error).message}`);
  return new FsError('EIO', syscall, path, `internal error in the FAT driver: ${(e as Error)?.message ?? String(e)}`);
}

function splitPath(path: string): string[] {
  if (path === '/' || path === '') return [];
  if (path[0] !== '/') throw new Fail('EINVAL', `path ${JSON.stringify(path)} is not absolute`);
  return path.slice(1).split('/');
}

export class FatVolume implements FileSystem {
  readonly type = 'vfat';
  readonly fat: FatTable;
  readonly root: FatNode;
  /** Nodes with open handles (their buffered data is written at commit). */
  readonly openNodes = new Set<FatNode>();
  /** Directories with dirty units or fresh clusters. */
  private readonly dirtyDirs = new Set<Dir>();
  private queue: Promise<unknown> = Promise.resolve();
  private inoCounter = 1;
  /** The on-disk volume says dirty (set before the first write of an epoch, cleared by commit). */
  private markedDirty = false;
  private wasDirtyAtMount = false;
  private unmounted = false;
  /** Set when a device write failed mid-commit: the cache no longer matches the disk. */
  private broken: string | null = null;

  constructor(readonly dev: FatBlockDevice, readonly g: FatGeometry, private readonly boot: Uint8Array, readonly readOnly: boolean) {
    this.fat = new FatTable(dev, g);
    const rootShort: ShortEntry = {
      rawName: '           ', attr: ATTR_DIRECTORY, ntCase: 0, ctimeTenth: 0, ctime: 0, cdate: 0, adate: 0,
      cluster: g.rootCluster, mtime: 0, mdate: 0, size: 0,
    };
    this.root = this.newNode(null, 0, 0, '', rootShort);
  }

  async init(): Promise<void> {
    const g = this.g;
    let fsInfoFree = -1;
    if (g.fsInfoSector) {
      const info = parseFsInfo(await this.dev.read(g.fsInfoSector * g.sectorSize, g.sectorSize));
      if (info) {
        if (info.nextFree >= 2 && info.nextFree <= this.fat.maxCluster) this.fat.nextHint = info.nextFree;
        if (info.freeCount !== FSINFO_UNKNOWN && info.freeCount <= g.clusterCount) fsInfoFree = info.freeCount;
      }
    }
    const flagDirty = (this.boot[g.ntFlagsOffset]! & NT_FLAG_DIRTY) !== 0;
    let fatDirty = false;
    if (g.type !== 'fat12') {
      const r1 = await this.fat.reserved(1);
      fatDirty = g.type === 'fat16' ? (r1 & 0x8000) === 0 : (r1 & 0x08000000) === 0;
    }
    this.wasDirtyAtMount = flagDirty || fatDirty;
    // A clean volume's FSInfo count is trusted (as Linux does): counting means reading the whole FAT.
    if (!this.wasDirtyAtMount && fsInfoFree >= 0) this.fat.trustFreeCount(fsInfoFree);
    await this.loadDir(this.root);
  }

  // --- plumbing -------------------------------------------------------------------------

  /** Runs fn after every earlier call has finished; maps errors to FsError(code, syscall, path). */
  run<T>(syscall: string, path: string, fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(async () => {
      if (this.unmounted) throw new Fail('EIO', 'the volume is unmounted');
      if (this.broken) throw new Fail('EIO', this.broken);
      return fn();
    }).catch((e: unknown) => {
      throw toFsError(e, syscall, path);
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  newNode(parent: Dir | null, slot: number, lfnCount: number, name: string, short: ShortEntry): FatNode {
    return {
      ino: this.inoCounter++, parent, slot, lfnCount, name, short, isDir: parent === null || isDirAttr(short.attr),
      dir: null, clusters: null, openCount: 0, unlinked: false, pending: null, readCache: null,
    };
  }

  clusterOffset(c: number): number {
    return (this.g.firstDataSector + (c - 2) * this.g.sectorsPerCluster) * this.g.sectorSize;
  }

  /** The node's cluster chain (walked once, then kept). */
  async chainOf(node: FatNode): Promise<number[]> {
    if (!node.clusters) node.clusters = await this.fat.chain(node.short.cluster);
    return node.clusters;
  }

  /**
   * Before the first change of an operation: refuses on a read-only volume, commits when the
   * epoch has grown large, and marks the volume dirty on disk before anything is written.
   */
  async beginChange(): Promise<void> {
    if (this.readOnly) throw new Fail('EROFS');
    if (this.fat.changeCount > AUTO_COMMIT_CHANGES) await this.commit('dirty');
    if (!this.markedDirty) await this.markDirtyOnDisk();
  }

  /** Allocates `count` clusters as one chain; commits once to reuse clusters freed in this epoch. */
  async allocate(count: number, near: number): Promise<number[]> {
    try {
      return await this.fat.allocate(count, near);
    } catch (e) {
      if (!(e instanceof NoSpace) || !e.pendingFrees) throw e;
    }
    await this.commit('dirty');
    return this.fat.allocate(count, near);
  }

  /** Rewrites a node's directory entry (unless it was unlinked). */
  touchEntry(node: FatNode): void {
    if (node.unlinked || !node.parent) return;
    node.parent.updateShort(node);
    this.dirtyDirs.add(node.parent);
  }

  /** Frees a node's clusters (after its entry is gone). */
  async release(node: FatNode): Promise<void> {
    const chain = await this.chainOf(node);
    this.fat.freeClusters(chain);
    node.clusters = [];
    node.short.cluster = 0;
    node.pending = null;
    node.readCache = null;
  }

  private async writeBootFlag(dirty: boolean): Promise<void> {
    const off = this.g.ntFlagsOffset;
    this.boot[off] = dirty ? this.boot[off]! | NT_FLAG_DIRTY : this.boot[off]! & ~NT_FLAG_DIRTY;
    await this.dev.write(0, this.boot);
  }

  private async writeFatCleanBit(clean: boolean): Promise<void> {
    if (this.g.type === 'fat12') return;
    const bit = this.g.type === 'fat16' ? 0x8000 : 0x08000000;
    const r1 = await this.fat.reserved(1);
    const v = clean ? r1 | bit : r1 & ~bit;
    if (v === r1) return;
    this.fat.setReserved(1, v);
    await this.fat.writeSectorsOf([1]);
  }

  private async writeFsInfo(freeCount: number): Promise<void> {
    const g = this.g;
    if (!g.fsInfoSector) return;
    const at = g.fsInfoSector * g.sectorSize;
    const b = await this.dev.read(at, g.sectorSize);
    emitFsInfo({ freeCount, nextFree: this.fat.nextHint }, b);
    await this.dev.write(at, b);
  }

  private async markDirtyOnDisk(): Promise<void> {
    await this.writeBootFlag(true);
    await this.writeFatCleanBit(false);
    await this.writeFsInfo(FSINFO_UNKNOWN);
    await this.dev.flush();
    this.markedDirty = true;
  }

  /**
   * Writes every cached change in the crash-safe order described at the top of this file. `then`
   * says what the volume is afterwards: 'clean' ends the epoch (sync, fsync, unmount); 'dirty' is
   * a commit inside a change that goes on (to reuse freed clusters, re-link a chain, order a
   * rename), so the volume is marked dirty again before the change writes anything.
   */
  async commit(then: 'clean' | 'dirty'): Promise<void> {
    await this.commitClean();
    if (then === 'dirty') await this.markDirtyOnDisk();
  }

  private async commitClean(): Promise<void> {
    if (!this.markedDirty) {
      await this.dev.flush();
      return;
    }
    try {
      for (const node of this.openNodes) await flushPending(this, node);
      const barrier = (): Promise<void> => this.dev.flush();
      this.fat.prepareCommit();
      let wrote = await this.fat.writeStage('alloc');
      for (const d of this.dirtyDirs) if (await this.writeFresh(d)) wrote = true;
      if (wrote) await barrier();
      if (await this.fat.writeStage('link')) await barrier();
      if (await this.writeDirUnits(false)) await barrier();
      if (await this.writeDirUnits(true)) await barrier();
      if (await this.fat.writeStage('cut')) await barrier();
      if (await this.fat.writeStage('free')) await barrier();
      this.fat.finishCommit();
      this.dirtyDirs.clear();
      await this.writeFsInfo(await this.fat.freeCount());
      await this.writeFatCleanBit(true);
      await this.writeBootFlag(false);
      await this.dev.flush();
      this.markedDirty = false;
    } catch (e) {
      this.broken = `a device write failed while committing (${(e as Error)?.message ?? String(e)}); remount to continue`;
      throw e;
    }
  }

  /** Writes a directory's fresh clusters whole (runs of adjacent clusters in one write). */
  private async writeFresh(d: Dir): Promise<boolean> {
    if (d.fresh.size === 0) return false;
    const cs = this.g.clusterSize;
    const idx = Array.from(d.fresh).sort((a, b) => a - b);
    const chain = d.clusters!;
    for (let i = 0; i < idx.length;) {
      let j = i + 1;
      while (j < idx.length && idx[j] === idx[j - 1]! + 1 && chain[idx[j]!] === chain[idx[j - 1]!]! + 1) j++;
      await this.dev.write(this.clusterOffset(chain[idx[i]!]!), d.buf.subarray(idx[i]! * cs, (idx[j - 1]! + 1) * cs));
      i = j;
    }
    const unitsPerCluster = cs / UNIT;
    for (const u of Array.from(d.dirty.keys())) if (d.fresh.has(Math.floor(u / unitsPerCluster))) d.dirty.delete(u);
    d.fresh.clear();
    return true;
  }

  /** Writes dirty directory units: NORMAL and EARLY ones (late = false), or LATE ones. */
  private async writeDirUnits(late: boolean): Promise<boolean> {
    let wrote = false;
    for (const d of this.dirtyDirs) {
      const units = Array.from(d.dirty.entries()).filter(([, lv]) => (lv === LEVEL_LATE) === late).map(([u]) => u).sort((a, b) => a - b);
      for (let i = 0; i < units.length;) {
        let j = i + 1;
        while (j < units.length && units[j] === units[j - 1]! + 1 && this.unitDeviceOffset(d, units[j]!) === this.unitDeviceOffset(d, units[j - 1]!) + UNIT) j++;
        await this.dev.write(this.unitDeviceOffset(d, units[i]!), d.buf.subarray(units[i]! * UNIT, units[j - 1]! * UNIT + UNIT));
        for (let k = i; k < j; k++) d.dirty.delete(units[k]!);
        wrote = true;
        i = j;
      }
    }
    return wrote;
  }

  private unitDeviceOffset(d: Dir, unit: number): number {
    const byte = unit * UNIT;
    if (!d.clusters) return this.g.rootDirSector * this.g.sectorSize + byte;
    const cs = this.g.clusterSize;
    return this.clusterOffset(d.clusters[Math.floor(byte / cs)]!) + (byte % cs);
  }

  // --- directories ------------------------------------------------------------------------

  /** The directory contents of a directory node (read on first use). */
  async loadDir(node: FatNode): Promise<Dir> {
    if (node.dir) return node.dir;
    if (!node.isDir) throw new Fail('ENOTDIR');
    const g = this.g;
    let dir: Dir;
    if (node === this.root && g.type !== 'fat32') {
      const buf = await this.dev.read(g.rootDirSector * g.sectorSize, Math.ceil(g.rootEntries * DIRENT_SIZE / g.sectorSize) * g.sectorSize);
      dir = new Dir(node, buf, null, g.rootEntries);
    } else {
      if (node.short.cluster === 0) throw new CorruptVolume(`directory ${JSON.stringify(node.name)} has no clusters`);
      const chain = await this.chainOf(node);
      if (chain.length * g.clusterSize > Math.max(DIR_MAX_SLOTS * DIRENT_SIZE, g.clusterSize)) {
        throw new CorruptVolume(`directory ${JSON.stringify(node.name)} has ${chain.length} clusters, more than 65536 entries`);
      }
      dir = new Dir(node, await this.readClusters(chain), chain);
    }
    dir.parse(g.type === 'fat32', (slot, lfnCount, name, short) => this.newNode(dir, slot, lfnCount, name, short));
    node.dir = dir;
    return dir;
  }

  /** Reads whole clusters into one buffer (adjacent clusters in one device read). */
  async readClusters(chain: number[]): Promise<Uint8Array> {
    const cs = this.g.clusterSize;
    const out = new Uint8Array(chain.length * cs);
    for (let i = 0; i < chain.length;) {
      let j = i + 1;
      while (j < chain.length && chain[j] === chain[j - 1]! + 1) j++;
      out.set(await this.dev.read(this.clusterOffset(chain[i]!), (j - i) * cs), i * cs);
      i = j;
    }
    return out;
  }

  async resolve(path: string): Promise<FatNode> {
    let node = this.root;
    for (const part of splitPath(path)) {
      const dir = await this.loadDir(node);
      const child = dir.lookup(part);
      if (!child) throw new Fail('ENOENT');
      node = child;
    }
    return node;
  }

  /** The directory that holds (or would hold) `path`, and the last name. */
  async resolveParent(path: string): Promise<{ dir: Dir; name: string }> {
    const parts = splitPath(path);
    if (parts.length === 0) throw new Fail('EBUSY', 'the root directory has no parent entry');
    const name = parts.pop()!;
    let node = this.root;
    for (const part of parts) {
      const dir = await this.loadDir(node);
      const child = dir.lookup(part);
      if (!child) throw new Fail('ENOENT');
      node = child;
    }
    return { dir: await this.loadDir(node), name };
  }

  /** How `name` is stored in `dir`: the short entry's name and case bits, and whether LFN entries are needed. */
  entryForm(dir: Dir, name: string, ignore?: string): { rawName: string; ntCase: number; lfn: boolean; slots: number } {
    const bad = invalidLongName(name);
    if (bad) throw new Fail(bad.code, bad.why);
    const taken = (raw: string): boolean => raw !== ignore && dir.shortNames.has(raw);
    const exact = exactShortForm(name);
    if (exact && !taken(exact.rawName)) return { rawName: exact.rawName, ntCase: exact.ntCase, lfn: false, slots: 1 };
    const alias = aliasFor(name, taken);
    if (alias === null) throw new Fail('ENOSPC', `no free short alias for ${JSON.stringify(name)}`);
    return { rawName: alias, ntCase: 0, lfn: true, slots: Math.ceil(name.length / LFN_CHARS) + 1 };
  }

  /** A slot run of `count` in dir, growing it by zeroed clusters when full. */
  async ensureSlots(dir: Dir, count: number): Promise<number> {
    const s = dir.findSlots(count);
    if (s >= 0) return s;
    if (!dir.clusters) throw new Fail('ENOSPC', `the root directory is full (${this.g.rootEntries} entries)`);
    const cs = this.g.clusterSize;
    const k = Math.ceil(((dir.appendSlot(count) + count) * DIRENT_SIZE - dir.buf.length) / cs);
    if (dir.capacity + (k * cs) / DIRENT_SIZE > DIR_MAX_SLOTS) throw new Fail('ENOSPC', 'a FAT directory holds at most 65536 entries');
    const tail = dir.clusters[dir.clusters.length - 1]!;
    if (this.fat.mustCommitBeforeExtending(tail)) await this.commit('dirty');
    const added = await this.allocate(k, tail + 1);
    this.fat.set(tail, added[0]!);
    dir.grow(added, cs);
    this.dirtyDirs.add(dir);
    const slot = dir.findSlots(count);
    if (slot < 0) throw new Fail('EIO', 'directory growth left no room');
    return slot;
  }

  private stamp(): ShortEntry {
    const t = toDosTime(Date.now());
    return {
      rawName: '', attr: ATTR_ARCHIVE, ntCase: 0, ctimeTenth: t.tenth, ctime: t.time, cdate: t.date, adate: t.date,
      cluster: 0, mtime: t.time, mdate: t.date, size: 0,
    };
  }

  /** Creates an entry named `name` in `dir` (which must not hold that name) and returns its node. */
  async createEntry(dir: Dir, name: string, short: ShortEntry, level: WriteLevel = LEVEL_NORMAL): Promise<FatNode> {
    const form = this.entryForm(dir, name);
    const slot = await this.ensureSlots(dir, form.slots);
    short.rawName = form.rawName;
    short.ntCase = form.ntCase;
    const lfnCount = dir.writeEntries(slot, name, form.lfn, short, level);
    const node = this.newNode(dir, slot + lfnCount, lfnCount, name, short);
    dir.entries.set(nameKey(name), node);
    this.dirtyDirs.add(dir);
    return node;
  }

  /** EIO (CorruptVolume) when a file's entry claims more bytes than its cluster chain holds. */
  async checkSize(node: FatNode): Promise<void> {
    const chain = await this.chainOf(node);
    const size = node.short.size;
    if (chain.length * this.g.clusterSize < size) {
      throw new CorruptVolume(`file ${JSON.stringify(node.name)} claims ${size} bytes, its chain holds ${chain.length} clusters of ${this.g.clusterSize}`);
    }
  }

  statOf(node: FatNode): FileStat {
    const s = node.short;
    return {
      type: node.isDir ? 'directory' : 'file',
      size: node.isDir ? 0 : s.size,
      mtimeMs: fromDosTime(s.mdate, s.mtime),
      birthtimeMs: fromDosTime(s.cdate, s.ctime, s.ctimeTenth),
      mode: node.isDir ? 0o40755 : s.attr & ATTR_READ_ONLY ? 0o100444 : 0o100644,
      ino: node.ino,
      nlink: 1,
    };
  }

  // --- FileSystem -----------------------------------------------------------------------------

  stat(path: string): Promise<FileStat> {
    return this.run('stat', path, async () => this.statOf(await this.resolve(path)));
  }

  readdir(path: string): Promise<DirEntry[]> {
    return this.run('scandir', path, async () => {
      const dir = await this.loadDir(await this.resolve(path));
      const out: DirEntry[] = [];
      for (const n of dir.entries.values()) out.push({ name: n.name, type: n.isDir ? 'directory' : 'file' });
      return out;
    });
  }

  mkdir(path: string): Promise<void> {
    return this.run('mkdir', path, async () => {
      const { dir, name } = await this.resolveParent(path);
      if (dir.lookup(name)) throw new Fail('EEXIST');
      await this.beginChange();
      const form = this.entryForm(dir, name);
      await this.ensureSlots(dir, form.slots);
      const [cluster] = await this.allocate(1, 0);
      const short = this.stamp();
      short.attr = ATTR_DIRECTORY;
      short.cluster = cluster!;
      const node = await this.createEntry(dir, name, short);
      const buf = new Uint8Array(this.g.clusterSize);
      emitDotEntries(buf, cluster!, dir.node === this.root ? 0 : dir.node.short.cluster, short);
      const sub = new Dir(node, buf, [cluster!]);
      sub.shortNames.add('.          ');
      sub.shortNames.add('..         ');
      sub.endSlot = 2;
      sub.fresh.add(0);
      node.dir = sub;
      node.clusters = sub.clusters;
      this.dirtyDirs.add(sub);
    });
  }

  unlink(path: string): Promise<void> {
    return this.run('unlink', path, async () => {
      const node = await this.resolve(path);
      if (node.isDir) throw new Fail(node === this.root ? 'EPERM' : 'EISDIR');
      await this.chainOf(node);
      await this.beginChange();
      node.parent!.removeEntries(node, LEVEL_NORMAL);
      this.dirtyDirs.add(node.parent!);
      if (node.openCount > 0) node.unlinked = true;
      else await this.release(node);
    });
  }

  rmdir(path: string): Promise<void> {
    return this.run('rmdir', path, async () => {
      const node = await this.resolve(path);
      if (!node.isDir) throw new Fail('ENOTDIR');
      if (node === this.root) throw new Fail('EBUSY');
      const dir = await this.loadDir(node);
      if (!dir.isEmpty()) throw new Fail('ENOTEMPTY');
      await this.beginChange();
      this.removeDir(node);
    });
  }

  private removeDir(node: FatNode): void {
    node.parent!.removeEntries(node, LEVEL_NORMAL);
    this.dirtyDirs.add(node.parent!);
    this.fat.freeClusters(node.clusters!);
    if (node.dir) this.dirtyDirs.delete(node.dir);
    node.dir = null;
    node.clusters = [];
  }

  rename(from: string, to: string): Promise<void> {
    return this.run('rename', from, async () => {
      const src = await this.resolve(from);
      if (src === this.root) throw new Fail('EBUSY');
      const { dir: dst, name } = await this.resolveParent(to);
      const existing = dst.lookup(name);
      if (existing === src && src.name === name) return;
      for (let d: Dir | null = dst; d; d = d.node.parent) {
        if (d.node === src) throw new Fail('EINVAL', 'cannot move a directory into itself');
      }
      let target: FatNode | null = null;
      if (existing && existing !== src) {
        if (existing.isDir && !src.isDir) throw new Fail('EISDIR');
        if (!existing.isDir && src.isDir) throw new Fail('ENOTDIR');
        if (existing.isDir && !(await this.loadDir(existing)).isEmpty()) throw new Fail('ENOTEMPTY');
        if (!existing.isDir) await this.chainOf(existing);
        target = existing;
      }
      if (src.isDir) await this.loadDir(src);
      await this.beginChange();
      const srcDir = src.parent!;
      const moveDir = src.isDir && srcDir !== dst;
      let form = this.entryForm(dst, name, dst === srcDir ? src.short.rawName : undefined);
      let slot = dst.findSlots(form.slots);
      let level = slot >= 0 ? this.renameLevels(src, dst, slot, form.slots, target, moveDir) : null;
      if (slot >= 0 && level === null) {
        await this.commit('dirty');
        level = this.renameLevels(src, dst, slot, form.slots, target, moveDir);
      }
      if (slot < 0 || level === null) {
        // The new entry needs new directory clusters: make the removal durable on its own first.
        await this.commit('dirty');
        srcDir.removeEntries(src, LEVEL_NORMAL);
        if (moveDir) src.dir!.setDotDot(dst.node === this.root ? 0 : dst.node.short.cluster, LEVEL_NORMAL);
        this.dirtyDirs.add(srcDir);
        if (moveDir) this.dirtyDirs.add(src.dir!);
        await this.commit('dirty');
        if (target) await this.removeTarget(target, LEVEL_NORMAL);
        form = this.entryForm(dst, name);
        slot = await this.ensureSlots(dst, form.slots);
        this.placeMoved(src, dst, name, form, slot, LEVEL_NORMAL);
        return;
      }
      srcDir.removeEntries(src, level.old);
      this.dirtyDirs.add(srcDir);
      if (moveDir) {
        src.dir!.setDotDot(dst.node === this.root ? 0 : dst.node.short.cluster, level.old);
        this.dirtyDirs.add(src.dir!);
      }
      if (target) await this.removeTarget(target, level.new);
      this.placeMoved(src, dst, name, form, slot, level.new);
    });
  }

  /**
   * Write levels for a rename whose new entry goes to dst[slot..slot+count), or null when the
   * units involved are already ordered the other way (or fresh): then the caller commits first.
   */
  private renameLevels(src: FatNode, dst: Dir, slot: number, count: number, target: FatNode | null, moveDir: boolean): { old: WriteLevel; new: WriteLevel } | null {
    const srcDir = src.parent!;
    const cs = this.g.clusterSize;
    const oldUnits = srcDir.unitsOf(src.slot - src.lfnCount, src.lfnCount + 1);
    const newUnits = dst.unitsOf(slot, count);
    const targetUnits = target ? dst.unitsOf(target.slot - target.lfnCount, target.lfnCount + 1) : [];
    if (srcDir === dst && !moveDir) {
      const all = new Set([...oldUnits, ...newUnits, ...targetUnits]);
      if (all.size === 1 && !dst.isFreshUnit(newUnits[0]!, cs)) return { old: LEVEL_NORMAL, new: LEVEL_NORMAL };
    }
    if (newUnits.some((u) => dst.isFreshUnit(u, cs))) return null;
    if (srcDir === dst && newUnits.some((u) => oldUnits.includes(u))) return null;
    if (oldUnits.some((u) => srcDir.dirty.get(u) === LEVEL_LATE)) return null;
    if ([...newUnits, ...targetUnits].some((u) => dst.dirty.get(u) === LEVEL_EARLY || (srcDir === dst && oldUnits.includes(u)))) return null;
    if (moveDir) {
      const d = src.dir!;
      if (d.isFreshUnit(0, cs) || d.dirty.get(0) === LEVEL_LATE) return null;
    }
    return { old: LEVEL_EARLY, new: LEVEL_LATE };
  }

  private async removeTarget(target: FatNode, level: WriteLevel): Promise<void> {
    target.parent!.removeEntries(target, level);
    this.dirtyDirs.add(target.parent!);
    if (target.isDir) {
      this.fat.freeClusters(target.clusters!);
      if (target.dir) this.dirtyDirs.delete(target.dir);
      target.dir = null;
      target.clusters = [];
    } else if (target.openCount > 0) {
      target.unlinked = true;
    } else {
      await this.release(target);
    }
  }

  private placeMoved(src: FatNode, dst: Dir, name: string, form: { rawName: string; ntCase: number; lfn: boolean }, slot: number, level: WriteLevel): void {
    src.short.rawName = form.rawName;
    src.short.ntCase = form.ntCase;
    const lfnCount = dst.writeEntries(slot, name, form.lfn, src.short, level);
    src.parent = dst;
    src.slot = slot + lfnCount;
    src.lfnCount = lfnCount;
    src.name = name;
    dst.entries.set(nameKey(name), src);
    this.dirtyDirs.add(dst);
  }

  open(path: string, flags: OpenFlags): Promise<FileNode> {
    return this.run('open', path, async () => {
      const { dir, name } = path === '/' ? { dir: null, name: '' } : await this.resolveParent(path);
      let node = dir ? dir.lookup(name) : this.root;
      const writes = flags.write || flags.truncate;
      if (node) {
        if (flags.create && flags.exclusive) throw new Fail('EEXIST');
        if (node.isDir && writes) throw new Fail('EISDIR');
        if (writes && this.readOnly) throw new Fail('EROFS');
        if (writes && node.short.attr & ATTR_READ_ONLY) throw new Fail('EACCES', 'the file has the FAT read-only attribute');
      } else {
        if (!flags.create) throw new Fail('ENOENT');
        await this.beginChange();
        node = await this.createEntry(dir!, name, this.stamp());
      }
      // A size its chain cannot hold is a corrupt entry: EIO now, before a reader allocates for it
      // (opening with truncation rewrites the size, so it may proceed).
      if (!node.isDir && !(flags.truncate && flags.write)) await this.checkSize(node);
      const handle = new FatFileHandle(this, node, path, flags);
      node.openCount++;
      this.openNodes.add(node);
      if (flags.truncate && flags.write && !node.isDir && node.short.size > 0) {
        try {
          await handle.truncateLocked(0);
        } catch (e) {
          await handle.closeLocked();
          throw e;
        }
      }
      return handle;
    });
  }

  sync(): Promise<void> {
    return this.run('sync', '/', () => this.commit('clean'));
  }

  usage(): Promise<FsUsage> {
    return this.run('statfs', '/', async () => {
      return { blockSize: this.g.clusterSize, totalBlocks: this.g.clusterCount, freeBlocks: await this.fat.freeCount() };
    });
  }

  unmount(): Promise<void> {
    return this.run('umount', '/', async () => {
      for (const node of Array.from(this.openNodes)) {
        if (node.unlinked && !this.readOnly) {
          await this.beginChange();
          await this.release(node);
        }
      }
      if (!this.readOnly) await this.commit('clean');
      this.unmounted = true;
    });
  }

  /** Whether the volume was marked dirty (not cleanly synced) when it was mounted. */
  get dirtyAtMount(): boolean {
    return this.wasDirtyAtMount;
  }
}
