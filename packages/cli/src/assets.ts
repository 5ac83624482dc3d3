// `kiln build --assets DIR[:/MOUNTPOINT]`: reads a host directory into a bootfs tree (regular
// files and directories; symbolic links are followed only while they stay inside DIR; devices,
// sockets and FIFOs are refused) and encodes it as the image's bootfs section. Every refusal is
// a CliError naming the file. Format: @kiln/common image/bootfs.ts.

import { lstatSync, readFileSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { BootfsError, badEntryName, badMountPoint, encodeBootfs, type BootfsDir, type BootfsEntry } from '@kiln/common';
import { CliError } from './errors.ts';

export interface AssetsSpec {
  dir: string;
  mountPoint: string;
}

/** Most files, and bytes, one image's bootfs may hold (the payload is loaded into guest RAM). */
export const ASSETS_MAX_FILES = 100_000;
export const ASSETS_MAX_BYTES = 1 << 30;

/** `DIR` or `DIR:/MOUNTPOINT` (default mount point "/"). */
export function parseAssets(value: string): AssetsSpec {
  const colon = value.lastIndexOf(':/');
  const dir = colon >= 0 ? value.slice(0, colon) : value;
  const mountPoint = colon >= 0 ? value.slice(colon + 1) : '/';
  if (dir === '') throw new CliError('EUSAGE', `--assets: expected DIR or DIR:/MOUNTPOINT, got ${JSON.stringify(value)}`);
  const bad = badMountPoint(mountPoint);
  if (bad !== undefined) throw new CliError('EUSAGE', `--assets ${value}: ${bad}`);
  return { dir, mountPoint };
}

/** Reads `spec.dir` into a bootfs section. */
export function readAssets(spec: AssetsSpec): Uint8Array {
  const fail = (why: string): CliError => new CliError('EUSAGE', `--assets ${spec.dir}: ${why}`);
  let root: string;
  try {
    root = realpathSync(spec.dir);
    if (!statSync(root).isDirectory()) throw fail('not a directory');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message);
  }
  let files = 0;
  let bytes = 0;
  const inside = (p: string): boolean => p === root || p.startsWith(root + sep);

  // Real paths of the directories being walked: a link back to one of them is a loop.
  const active = new Set<string>();
  const walk = (dir: string, shown: string): BootfsDir => {
    active.add(dir);
    const entries = new Map<string, BootfsEntry>();
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const show = join(shown, name);
      const why = badEntryName(name);
      if (why !== undefined) throw fail(`${show}: ${why}`);
      let st: Stats = lstatSync(path);
      let real = path;
      if (st.isSymbolicLink()) {
        try {
          real = realpathSync(path);
        } catch {
          throw fail(`${show} is a symbolic link to nothing`);
        }
        if (!inside(real)) throw fail(`${show} is a symbolic link leading outside the directory (to ${real})`);
        st = statSync(real);
        if (st.isDirectory() && active.has(real)) throw fail(`${show} is a symbolic link to a directory that contains it (a loop)`);
      }
      if (st.isDirectory()) {
        entries.set(name, walk(real, show));
      } else if (st.isFile()) {
        files++;
        bytes += st.size;
        if (files > ASSETS_MAX_FILES) throw fail(`more than ${ASSETS_MAX_FILES} files`);
        if (bytes > ASSETS_MAX_BYTES) throw fail(`more than ${ASSETS_MAX_BYTES / (1 << 20)} MiB of files`);
        entries.set(name, { type: 'file', data: readFileSync(real), mtimeMs: Math.floor(st.mtimeMs) });
      } else {
        throw fail(`${show} is not a regular file or directory (devices, sockets and FIFOs cannot be assets)`);
      }
    }
    active.delete(dir);
    return { type: 'dir', entries, mtimeMs: Math.floor(statSync(dir).mtimeMs) };
  };

  let tree: BootfsDir;
  try {
    tree = walk(root, spec.dir);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw fail((e as Error).message); // unreadable file or directory
  }
  try {
    return encodeBootfs(tree, spec.mountPoint);
  } catch (e) {
    if (e instanceof BootfsError) throw fail(e.message);
    throw e;
  }
}

/** The bootfs section of an app that uses kiln:fs but was given no --assets: empty, at "/". */
export function emptyAssets(): Uint8Array {
  return encodeBootfs({ type: 'dir', entries: new Map(), mtimeMs: 0 }, '/');
}
