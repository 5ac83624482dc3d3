// Path normalisation of the VFS: an app path becomes an absolute path without ".", "..", "//"
// or a trailing "/", resolved lexically (there is no cwd: relative paths start at "/", and
// ".." at the root stays at the root), so no filesystem ever sees a ".." and a mount cannot be
// left through one. NUL bytes are refused (EINVAL), over-long paths and names ENAMETOOLONG.
// Limits are Linux's (PATH_MAX, NAME_MAX), counted in UTF-8 bytes. A trailing "/" or "/." says
// the path must be a directory (directoryForm; the VFS checks it: ENOTDIR for a file).

import { NAME_MAX, PATH_MAX, resolvePath } from '@kiln/common/guest_path.ts';
import { utf8Length } from '@kiln/common/text/utf8.ts';
import { FsError } from './types.ts';

export { NAME_MAX, PATH_MAX };

/** The absolute normalised form of `path`; FsError EINVAL (NUL) or ENAMETOOLONG. */
export function normalizePath(path: string, syscall: string): string {
  if (path.indexOf('\0') !== -1) throw new FsError('EINVAL', syscall, path, 'path contains a NUL byte');
  if (path === '') throw new FsError('ENOENT', syscall, path);
  if (path.length >= PATH_MAX / 4 && utf8Length(path) >= PATH_MAX) throw new FsError('ENAMETOOLONG', syscall, path);
  return resolvePath(path, (name) => {
    if (name.length > NAME_MAX / 4 && utf8Length(name) > NAME_MAX) throw new FsError('ENAMETOOLONG', syscall, path);
  });
}

/**
 * Whether `path` names a directory by its form, which normalisation drops: "slash" when it ends
 * in "/" (POSIX: only a directory resolves there, and nothing can be created there but one),
 * "dot" when its last component is "." (the path walks into an existing directory); else null.
 * "/" and a last ".." are directories by construction (null).
 */
export function directoryForm(path: string): 'slash' | 'dot' | null {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  if (end === 0) return null;
  if (path[end - 1] === '.' && (end === 1 || path.charCodeAt(end - 2) === 47)) return 'dot';
  return end < path.length ? 'slash' : null;
}

/** The directory holding `p` ("/" for "/" itself). `p` is normalised. */
export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** `p` inside `dir` or equal to it (both normalised). */
export function isWithin(p: string, dir: string): boolean {
  return dir === '/' || p === dir || (p.startsWith(dir) && p.charCodeAt(dir.length) === 47);
}

/** `child` joined under `dir` (normalised dir, one plain name). */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
