// The path rules of the guest's VFS that the CLI needs too (a `kiln run --mount` path must be in
// the form the guest resolves it to): Linux's limits, and the lexical resolution from "/" (no
// cwd; "", "." dropped, ".." pops and stays at the root). The VFS's normalizePath
// (packages/kernel/src/fs/path.ts) adds the errors. Pure TS.

/** Longest path in UTF-8 bytes, with its NUL (Linux's PATH_MAX): paths must be shorter. */
export const PATH_MAX = 4096;
/** Longest name (one component) in UTF-8 bytes (Linux's NAME_MAX). */
export const NAME_MAX = 255;

/** `path` resolved lexically from "/": absolute, without "", "." or ".." components or a trailing
 * "/". `eachName` sees every other component as it is reached (before a later ".." drops it). */
export function resolvePath(path: string, eachName?: (name: string) => void): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      out.pop();
      continue;
    }
    eachName?.(part);
    out.push(part);
  }
  return '/' + out.join('/');
}
