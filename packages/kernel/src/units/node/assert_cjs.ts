// What the bundle gets for `node:assert` (build.ts's NODE_COMPAT): assert.ts's default export as a
// CommonJS module, so `require('assert')(value)` calls it as in Node, while esbuild's interop still
// gives ESM importers the default and the named exports (its properties). esbuild treats this file
// as CommonJS because it has no import or export; TypeScript declares the two names here.

declare const module: { exports: unknown };
declare function require(id: './assert.ts'): { default: unknown };

module.exports = require('./assert.ts').default;
