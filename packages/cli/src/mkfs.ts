// `kiln mkfs fat -o disk.img --size 64M [--from DIR] [--fat 12|16|32] [--label NAME]`: creates
// a FAT disk image with Kiln's own formatter and, with --from, copies a host directory tree in
// through Kiln's own FAT driver over the image file (so the image holds exactly what the guest
// driver writes). Errors name the flag, file or name and the fix; a failed run removes the image.

import { closeSync, lstatSync, openSync, readdirSync, readSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, formatFat, mountFat, planFat, type FatType, type FormatOptions } from '@kiln/kernel/fs/fat/index.ts';
import { FsError, type FileSystem } from '@kiln/kernel/fs/types.ts';
import { CliError } from './errors.ts';
import { FileBlockDevice } from './file_block_device.ts';

export interface MkfsOptions {
  out: string;
  /** Bytes, a multiple of 512. */
  size: number;
  from?: string;
  fat?: FatType;
  label?: string;
}

export interface MkfsResult {
  type: FatType;
  clusterSize: number;
  files: number;
  dirs: number;
  bytes: number;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, KIB: 1024, M: 1024 ** 2, MIB: 1024 ** 2, G: 1024 ** 3, GIB: 1024 ** 3 };

/** `--size` value: bytes, or a number with K/M/G (KiB/MiB/GiB), a multiple of 512. */
export function parseSize(value: string): number {
  const m = /^([0-9]+)([A-Za-z]*)$/.exec(value);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) throw new CliError('EUSAGE', `--size: expected a size such as 64M, 1G or 1048576, got ${JSON.stringify(value)}`);
  const bytes = Number(m[1]) * unit;
  if (bytes % 512 !== 0) throw new CliError('EUSAGE', `--size: ${value} is not a multiple of 512 bytes`);
  if (bytes === 0) throw new CliError('EUSAGE', '--size: must be greater than 0');
  return bytes;
}

export function parseFatType(value: string): FatType {
  if (value === '12' || value === '16' || value === '32') return `fat${value}` as FatType;
  throw new CliError('EUSAGE', `--fat: expected one of 12, 16, 32, got ${JSON.stringify(value)}`);
}

const COPY_CHUNK = 1024 * 1024;

export async function mkfsFat(o: MkfsOptions): Promise<MkfsResult> {
  if (o.from !== undefined) {
    let st;
    try {
      st = statSync(o.from);
    } catch {
      throw new CliError('EUSAGE', `--from ${o.from}: no such directory`);
    }
    if (!st.isDirectory()) throw new CliError('EUSAGE', `--from ${o.from}: not a directory`);
  }
  const formatOptions: FormatOptions = { ...(o.fat ? { type: o.fat } : {}), ...(o.label !== undefined ? { label: o.label } : {}) };
  try {
    planFat(o.size, formatOptions);
  } catch (e) {
    if (e instanceof FormatError) throw new CliError('EUSAGE', `${e.message.startsWith('label') ? '--label' : '--size'}: ${e.message}`);
    throw e;
  }
  try {
    writeFileSync(o.out, new Uint8Array(0));
    truncateSync(o.out, o.size);
  } catch (e) {
    throw new CliError('EUSAGE', `-o ${o.out}: cannot create the image (${(e as Error).message})`);
  }
  const dev = new FileBlockDevice(o.out);
  try {
    const plan = await formatFat(dev, formatOptions);
    const result: MkfsResult = { type: plan.geometry.type, clusterSize: plan.geometry.clusterSize, files: 0, dirs: 0, bytes: 0 };
    if (o.from !== undefined) {
      const fs = await mountFat(dev);
      const image = statSync(o.out);
      // The image may lie inside --from: it is left out (as tar leaves out its own archive).
      await copyTree(fs, o.from, '', result, { dev: image.dev, ino: image.ino });
      await fs.unmount();
    }
    dev.close();
    return result;
  } catch (e) {
    dev.close();
    rmSync(o.out, { force: true });
    throw e;
  }
}

async function copyTree(fs: FileSystem, hostDir: string, volDir: string, r: MkfsResult, image: { dev: number; ino: number }): Promise<void> {
  const names = readdirSync(hostDir).sort();
  for (const name of names) {
    const host = join(hostDir, name);
    const path = `${volDir}/${name}`;
    const st = lstatSync(host);
    if (st.dev === image.dev && st.ino === image.ino) continue;
    try {
      if (st.isDirectory()) {
        await fs.mkdir(path);
        r.dirs++;
        await copyTree(fs, host, path, r, image);
      } else if (st.isFile()) {
        await copyFile(fs, host, path, st.size);
        r.files++;
        r.bytes += st.size;
      } else {
        throw new CliError('EUSAGE', `--from: ${host} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file or directory'}; FAT holds only files and directories`);
      }
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      throw new CliError('EUSAGE', `--from: cannot copy ${host}: ${explain(e)}`);
    }
  }
}

function explain(e: FsError): string {
  switch (e.code) {
    case 'ENOSPC': return 'out of space (use a larger --size)';
    case 'EEXIST': return 'a name that differs only in case is already there (FAT names are case-insensitive)';
    case 'EINVAL':
    case 'ENAMETOOLONG': return `the name cannot be stored in FAT (${e.message.replace(/^[A-Z]+: /, '').replace(/, [a-z]+ '.*'$/, '')})`;
    case 'EFBIG': return 'FAT files are at most 4 GiB - 1 bytes';
    default: return e.message;
  }
}

async function copyFile(fs: FileSystem, host: string, path: string, size: number): Promise<void> {
  if (size > 0xffffffff) throw new FsError('EFBIG', 'write', path);
  const f = await fs.open(path, { read: false, write: true, create: true, exclusive: true, truncate: false });
  const fd = openSync(host, 'r');
  try {
    const buf = new Uint8Array(COPY_CHUNK);
    for (let p = 0; ;) {
      const n = readSync(fd, buf, 0, buf.length, p);
      if (n === 0) break;
      await f.write(p, buf.subarray(0, n));
      p += n;
    }
  } finally {
    closeSync(fd);
    await f.close();
  }
}
