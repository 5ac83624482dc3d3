// Kiln's version in the guest, as kiln build defines it (__KILN_VERSION__, packages/cli/src/build.ts
// buildDefines), and the user agent built from it: process.versions.kiln, navigator.userAgent and
// fetch's User-Agent read them here. '0.0.0' where nothing defines it (Node tests).

declare const __KILN_VERSION__: string;

export const KILN_VERSION = typeof __KILN_VERSION__ === 'string' ? __KILN_VERSION__ : '0.0.0';

/** `Kiln/<version>`, as Workers says "Cloudflare-Workers" and Deno "Deno/<version>". */
export const KILN_USER_AGENT = `Kiln/${KILN_VERSION}`;
