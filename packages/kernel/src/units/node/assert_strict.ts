// What the bundle gets for `node:assert/strict` (build.ts's NODE_COMPAT): assert.ts's `strict`
// (the strict comparisons under the loose names too) as a CommonJS module, as assert_cjs.ts does.

declare const module: { exports: unknown };
declare function require(id: './assert.ts'): { strict: unknown };

module.exports = require('./assert.ts').strict;
