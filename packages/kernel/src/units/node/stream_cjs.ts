// What the bundle gets for `node:stream` (build.ts's NODE_COMPAT): stream.ts's default export, the
// legacy Stream carrying the classes and helpers, as a CommonJS module, so `require('stream')` is
// that constructor as in Node (`inherits(X, require('stream'))`, `new Stream()`), while esbuild's
// interop still gives ESM importers the default and the named exports (its properties). esbuild
// treats this file as CommonJS because it has no import or export; TypeScript declares the two
// names here (as assert_cjs.ts does).

declare const module: { exports: unknown };
declare function require(id: './stream.ts'): { default: unknown };

module.exports = require('./stream.ts').default;
