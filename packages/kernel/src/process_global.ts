// Installs Node's `process` global (units/node/process.ts). Not part of prelude.ts: kiln build
// imports it after the prelude only when the bundle names `process` as a global (a package that
// reads process.env.DEBUG, calls process.nextTick, ...); `process.env.NODE_ENV` alone is replaced
// at build time and needs no global.

import process from './units/node/process.ts';

Object.defineProperty(globalThis, 'process', { value: process, writable: true, configurable: true, enumerable: false });
