// File data of a FAT volume: open-file handles (FileNode) and the data paths under them. A file
// is its cluster chain (walked once per mount and kept in step); reads and writes go to the
// device in runs of adjacent clusters, one request per run, with a read-modify-write only for
// partial 512-byte sectors at the ends. Small writes that continue each other are gathered in a
// per-file buffer (up to 64 KiB) and go out as one write; small reads are served from a
// read-ahead block. Clusters are allocated before any byte is written, so ENOSPC and EFBIG
// leave the file as it was; gaps left by writing past the end read as zeros.

import type { FileNode, FileStat, OpenFlags } from '../types.ts';
import { ATTR_ARCHIVE, toDosTime } from './dirent.ts';
import type { FatNode } from './dir.ts';
import { Fail, FAT_MAX_FILE_SIZE } from './errors.ts';
import type { FatVolume } from './volume.ts';

const SECTOR = 512;
const PENDING_MAX = 64 * 1024;
const SMALL_READ = 16 * 1024;
const READ_AHEAD = 64 * 1024;
const ZERO_CHUNK = 1024 * 1024;

let zeros: Uint8Array | null = null;

function zeroBlock(len: number): Uint8Array {
  if (!zeros || zeros.length < len) zeros = new Uint8Array(Math.min(ZERO_CHUNK, Math.max(len, SECTOR)));
  return zeros.subarray(0, len);
}

/** The run of adjacent clusters starting at chain index ci: returns the index after its last cluster. */
function runEnd(chain: number[], ci: number): number {
  let cj = ci + 1;
  while (cj < chain.length && chain[cj] === chain[cj - 1]! + 1) cj++;
  return cj;
}

export class FatFileHandle implements FileNode {
  private closed = false;

  constructor(private readonly vol: FatVolume, readonly node: FatNode, private readonly path: string, private readonly flags: OpenFlags) {}

  private check(write: boolean): void {
    if (this.closed) throw new Fail('EBADF', 'file is closed');
    if (write ? !this.flags.write : !this.flags.read) throw new Fail('EBADF', `file is not open for ${write ? 'writing' : 'reading'}`);
    if (this.node.isDir) throw new Fail('EISDIR');
  }

  read(position: number, buf: Uint8Array, offset: number, length: number): Promise<number> {
    return this.vol.run('read', this.path, async () => {
      this.check(false);
      if (!Number.isSafeInteger(position) || position < 0) throw new Fail('EINVAL', `bad position ${position}`);
      if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
        throw new Fail('EINVAL', `bad buffer range ${offset}+${length} of ${buf.length}`);
      }
      return readData(this.vol, this.node, position, buf, offset, length);
    });
  }

  write(position: number, data: Uint8Array): Promise<number> {
    return this.vol.run('write', this.path, async () => {
      this.check(true);
      if (!Number.isSafeInteger(position) || position < 0) throw new Fail('EINVAL', `bad position ${position}`);
      if (data.length === 0) return 0;
      if (position + data.length > FAT_MAX_FILE_SIZE) throw new Fail('EFBIG', `FAT files end at ${FAT_MAX_FILE_SIZE} bytes`);
      await this.vol.beginChange();
      await writeData(this.vol, this.node, position, data);
      return data.length;
    });
  }

  truncate(size: number): Promise<void> {
    return this.vol.run('ftruncate', this.path, async () => {
      this.check(true);
      if (!Number.isSafeInteger(size) || size < 0) throw new Fail('EINVAL', `bad size ${size}`);
      await this.truncateLocked(size);
    });
  }

  /** Truncate inside an operation already running (open with truncate). */
  async truncateLocked(size: number): Promise<void> {
    if (size > FAT_MAX_FILE_SIZE) throw new Fail('EFBIG', `FAT files end at ${FAT_MAX_FILE_SIZE} bytes`);
    if (size === this.node.short.size) return;
    await this.vol.beginChange();
    await truncateData(this.vol, this.node, size);
  }

  stat(): Promise<FileStat> {
    return this.vol.run('fstat', this.path, async () => {
      if (this.closed) throw new Fail('EBADF', 'file is closed');
      return this.vol.statOf(this.node);
    });
  }

  sync(): Promise<void> {
    return this.vol.run('fsync', this.path, async () => {
      if (this.closed) throw new Fail('EBADF', 'file is closed');
      if (!this.vol.readOnly) await this.vol.commit('clean');
    });
  }

  close(): Promise<void> {
    return this.vol.run('close', this.path, () => this.closeLocked());
  }

  async closeLocked(): Promise<void> {
    if (this.closed) throw new Fail('EBADF', 'file is already closed');
    this.closed = true;
    const node = this.node;
    await flushPending(this.vol, node);
    if (--node.openCount > 0) return;
    this.vol.openNodes.delete(node);
    node.pending = null;
    node.readCache = null;
    if (node.unlinked) {
      await this.vol.beginChange();
      await this.vol.release(node);
    }
  }
}

/** Byte offset on the device of file byte `pos`, which lies in chain[ci]. */
function devOffset(vol: FatVolume, chain: number[], ci: number, pos: number): number {
  return vol.clusterOffset(chain[ci]!) + (pos - ci * vol.g.clusterSize);
}

async function readData(vol: FatVolume, node: FatNode, pos: number, buf: Uint8Array, off: number, len: number): Promise<number> {
  const size = node.short.size;
  if (pos >= size || len === 0) return 0;
  const n = Math.min(len, size - pos);
  await flushPending(vol, node);
  const chain = await vol.chainOf(node); // as long as the size needs: checked at open (FatVolume.checkSize)
  const cs = vol.g.clusterSize;
  const rc = node.readCache;
  if (rc && pos >= rc.pos && pos + n <= rc.pos + rc.bytes.length) {
    buf.set(rc.bytes.subarray(pos - rc.pos, pos - rc.pos + n), off);
    return n;
  }
  if (n <= SMALL_READ) {
    const start = pos - (pos % SECTOR);
    const ci = Math.floor(start / cs);
    const limit = Math.min(runEnd(chain, ci) * cs, Math.ceil(size / SECTOR) * SECTOR, start + Math.max(READ_AHEAD, n + SECTOR));
    if (pos + n <= limit) {
      const bytes = await vol.dev.read(devOffset(vol, chain, ci, start), limit - start);
      node.readCache = { pos: start, bytes };
      buf.set(bytes.subarray(pos - start, pos - start + n), off);
      return n;
    }
  }
  let p = pos;
  const end = pos + n;
  while (p < end) {
    const ci = Math.floor(p / cs);
    const segEnd = Math.min(end, runEnd(chain, ci) * cs);
    const a = p - (p % SECTOR);
    const b = Math.ceil(segEnd / SECTOR) * SECTOR;
    const bytes = await vol.dev.read(devOffset(vol, chain, ci, a), b - a);
    buf.set(bytes.subarray(p - a, segEnd - a), off + (p - pos));
    p = segEnd;
  }
  return n;
}

/** Makes the chain long enough for `size` bytes (allocating before anything is written). */
async function ensureClusters(vol: FatVolume, node: FatNode, size: number): Promise<number[]> {
  const chain = await vol.chainOf(node);
  const need = Math.ceil(size / vol.g.clusterSize);
  if (chain.length >= need) return chain;
  const tail = chain.length ? chain[chain.length - 1]! : 0;
  if (tail && vol.fat.mustCommitBeforeExtending(tail)) {
    await vol.commit('dirty');
  }
  const added = await vol.allocate(need - chain.length, tail ? tail + 1 : 0);
  if (tail) vol.fat.set(tail, added[0]!);
  else node.short.cluster = added[0]!;
  for (const c of added) chain.push(c);
  return chain;
}

/**
 * Writes data at file byte `pos` straight to the device (the clusters exist). Bytes of partial
 * sectors before `pos` are read back; after the end they are read back only if they are inside
 * the file (node.short.size), else written as zeros.
 */
async function writeThrough(vol: FatVolume, node: FatNode, pos: number, data: Uint8Array): Promise<void> {
  const chain = node.clusters!;
  const cs = vol.g.clusterSize;
  const validEnd = node.short.size;
  const end = pos + data.length;
  let p = pos;
  while (p < end) {
    const ci = Math.floor(p / cs);
    const segEnd = Math.min(end, runEnd(chain, ci) * cs);
    let q = p;
    // Head: a partial first sector (possibly also the last).
    if (q % SECTOR !== 0 || segEnd - q < SECTOR) {
      const a = q - (q % SECTOR);
      const stop = Math.min(segEnd, a + SECTOR);
      const needOld = a < q || (stop < a + SECTOR && stop < validEnd);
      const sector = needOld ? await vol.dev.read(devOffset(vol, chain, ci, a), SECTOR) : new Uint8Array(SECTOR);
      sector.set(data.subarray(q - pos, stop - pos), q - a);
      await vol.dev.write(devOffset(vol, chain, ci, a), sector);
      q = stop;
    }
    // Middle: whole sectors, written from the caller's buffer without a copy.
    const mid = segEnd - (segEnd % SECTOR);
    if (mid > q) {
      await vol.dev.write(devOffset(vol, chain, ci, q), data.subarray(q - pos, mid - pos));
      q = mid;
    }
    // Tail: a partial last sector.
    if (q < segEnd) {
      const sector = segEnd < validEnd ? await vol.dev.read(devOffset(vol, chain, ci, q), SECTOR) : new Uint8Array(SECTOR);
      sector.set(data.subarray(q - pos, segEnd - pos), 0);
      await vol.dev.write(devOffset(vol, chain, ci, q), sector);
    }
    p = segEnd;
  }
}

/** Writes zeros over file bytes [from, to) (inside the chain). */
async function zeroRange(vol: FatVolume, node: FatNode, from: number, to: number): Promise<void> {
  for (let p = from; p < to;) {
    const k = Math.min(to - p, ZERO_CHUNK);
    await writeThrough(vol, node, p, zeroBlock(k));
    p += k;
  }
}

/** Writes gathered small writes of a file to the device. */
export async function flushPending(vol: FatVolume, node: FatNode): Promise<void> {
  const p = node.pending;
  if (!p || p.len === 0) return;
  const len = p.len;
  p.len = 0;
  await writeThrough(vol, node, p.pos, p.buf.subarray(0, len));
}

function touchTimes(vol: FatVolume, node: FatNode): void {
  const t = toDosTime(Date.now());
  node.short.mtime = t.time;
  node.short.mdate = t.date;
  node.short.adate = t.date;
  node.short.attr |= ATTR_ARCHIVE;
  vol.touchEntry(node);
}

async function writeData(vol: FatVolume, node: FatNode, pos: number, data: Uint8Array): Promise<void> {
  const end = pos + data.length;
  await ensureClusters(vol, node, Math.max(end, node.short.size));
  node.readCache = null;
  if (pos > node.short.size) {
    await flushPending(vol, node);
    await zeroRange(vol, node, node.short.size, pos);
    node.short.size = pos;
  }
  const p = node.pending;
  if (p && p.len > 0 && pos === p.pos + p.len && p.len + data.length <= PENDING_MAX) {
    if (p.buf.length < p.len + data.length) {
      const bigger = new Uint8Array(Math.min(PENDING_MAX, Math.max(p.buf.length * 2, p.len + data.length)));
      bigger.set(p.buf.subarray(0, p.len));
      p.buf = bigger;
    }
    p.buf.set(data, p.len);
    p.len += data.length;
  } else {
    await flushPending(vol, node);
    if (data.length < PENDING_MAX / 2) {
      const want = Math.max(4096, data.length * 2);
      const buf = p && p.buf.length >= want ? p.buf : new Uint8Array(want);
      buf.set(data, 0);
      node.pending = { pos, buf, len: data.length };
    } else {
      await writeThrough(vol, node, pos, data);
    }
  }
  if (end > node.short.size) node.short.size = end;
  touchTimes(vol, node);
}

async function truncateData(vol: FatVolume, node: FatNode, size: number): Promise<void> {
  const cur = node.short.size;
  node.readCache = null;
  if (size < cur) {
    const p = node.pending;
    if (p && p.len > 0) {
      if (p.pos >= size) p.len = 0;
      else if (p.pos + p.len > size) p.len = size - p.pos;
    }
    const chain = await vol.chainOf(node);
    const keep = Math.ceil(size / vol.g.clusterSize);
    if (keep < chain.length) {
      if (keep === 0) node.short.cluster = 0;
      else vol.fat.set(chain[keep - 1]!, vol.fat.eoc);
      vol.fat.freeClusters(chain, keep);
      chain.length = keep;
    }
    node.short.size = size;
  } else {
    await ensureClusters(vol, node, size);
    await flushPending(vol, node);
    await zeroRange(vol, node, cur, size);
    node.short.size = size;
  }
  touchTimes(vol, node);
}

