// What `kiln run --mount GUESTPATH=SPEC` asks the guest to mount, as the kernel parameter
// `kiln.mounts=PATH=SOURCE[,PATH=SOURCE...]` carries it. SOURCE is resolved by the CLI:
// `tmpfs`, `disk:N` (the N-th --disk, filesystem detected from its first sector) or
// `virtiofs:TAG` (a --share). Shared by the CLI (format, validation) and the guest (parse);
// pure TS. Spec: docs/ARCHITECTURE.md "Filesystems".

import { NAME_MAX, PATH_MAX, resolvePath } from './guest_path.ts';

export const MOUNTS_PARAM = 'kiln.mounts';

export type MountSource = { kind: 'tmpfs' } | { kind: 'disk'; index: number } | { kind: 'virtiofs'; tag: string };

export interface MountRequest {
  path: string;
  source: MountSource;
}

/** Characters a mount path or tag may hold on the command line (no separators, quotes, blanks). */
const SAFE = /^[A-Za-z0-9._~+@/-]+$/;

export function formatMountSource(s: MountSource): string {
  return s.kind === 'tmpfs' ? 'tmpfs' : s.kind === 'disk' ? `disk:${s.index}` : `virtiofs:${s.tag}`;
}

/** `tmpfs`, `disk:N` or `virtiofs:TAG`; undefined for anything else. */
export function parseMountSource(text: string): MountSource | undefined {
  if (text === 'tmpfs') return { kind: 'tmpfs' };
  const disk = /^disk:([0-9]{1,3})$/.exec(text);
  if (disk) return { kind: 'disk', index: Number(disk[1]) };
  const tag = /^virtiofs:(.+)$/.exec(text);
  if (tag && SAFE.test(tag[1]!) && !tag[1]!.includes('/')) return { kind: 'virtiofs', tag: tag[1]! };
  return undefined;
}

/** Why `path` cannot be a mount point on the command line, or undefined. */
export function badMountPath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'the guest path must be absolute (start with /)';
  if (!SAFE.test(path)) return 'the guest path may hold only letters, digits and . _ ~ + @ / -';
  // SAFE characters are ASCII: lengths are UTF-8 bytes.
  if (path.length >= PATH_MAX) return `the guest path is longer than ${PATH_MAX - 1} bytes`;
  if (path.split('/').some((name) => name.length > NAME_MAX)) return `a name in the guest path is longer than ${NAME_MAX} bytes`;
  if (resolvePath(path) !== path) return `the guest path is not in normal form (${resolvePath(path)})`;
  return undefined;
}

/** The kernel parameter's value for these mounts (the caller validated paths and sources). */
export function formatMounts(mounts: readonly MountRequest[]): string {
  return mounts.map((m) => `${m.path}=${formatMountSource(m.source)}`).join(',');
}

/** Parses the kernel parameter's value; throws Error naming the bad entry. */
export function parseMounts(value: string): MountRequest[] {
  if (value === '') return [];
  return value.split(',').map((entry) => {
    const eq = entry.indexOf('=');
    const path = eq < 0 ? '' : entry.slice(0, eq);
    const source = parseMountSource(entry.slice(eq + 1));
    const bad = eq < 0 ? 'expected PATH=SOURCE' : badMountPath(path) ?? (source ? undefined : 'the source is not tmpfs, disk:N or virtiofs:TAG');
    if (bad !== undefined) throw new Error(`${MOUNTS_PARAM}: ${JSON.stringify(entry)}: ${bad}`);
    return { path, source: source! };
  });
}
