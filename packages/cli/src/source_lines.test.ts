// Unit tests of the line map kiln build derives from esbuild's source map (source_lines.ts): how
// sources are named in stack frames, which segment of a bundle line counts, how lines become
// runs, and the line offset of the top-level-await wrapper. Synthetic source maps only; the
// bundles of real apps are in build.test.ts.

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import { COMMON_SRC, KERNEL_SRC } from './paths.ts';
import { lineMapOf, sourceName } from './source_lines.ts';

test('sourceName: app files relative to the entry, packages under node_modules/, Kiln\'s files as kiln:', () => {
  const app = '/home/u/app/src';
  assert.equal(sourceName('/home/u/app/src/main.ts', app), 'main.ts');
  assert.equal(sourceName('/home/u/app/src/lib/util.ts', app), 'lib/util.ts');
  assert.equal(sourceName('/home/u/app/shared/x.ts', app), '../shared/x.ts');
  assert.equal(sourceName('/home/u/app/node_modules/hono/dist/index.js', app), 'node_modules/hono/dist/index.js');
  assert.equal(sourceName('/home/u/app/node_modules/a/node_modules/@s/b/x.js', app), 'node_modules/@s/b/x.js');
  assert.equal(sourceName(join(KERNEL_SRC, 'units/timers.ts'), app), 'kiln:units/timers.ts');
  assert.equal(sourceName(join(COMMON_SRC, 'text/utf8.ts'), app), 'kiln:common/text/utf8.ts');
});

test('lineMapOf: the first segment with a source names a line; consecutive lines make one run', () => {
  const seg = (col: number, src: number, line: number): SourceMapSegment => [col, src, line, 0];
  const mappings = encode([
    [], // bundle line 1: nothing (esbuild's helpers)
    [[0], seg(2, 0, 9)], // line 2: a segment without a source first, then main.ts:10
    [seg(0, 0, 10), seg(8, 1, 40)], // line 3: main.ts:11 (the first segment wins)
    [seg(0, 0, 11)], // line 4: main.ts:12, same run
    [seg(0, 0, 11)], // line 5: main.ts:12 again, a new run
    [seg(0, 2, 0)], // line 6: the generated entry, left out
    [seg(0, 1, 4)], // line 7: util.ts:5
    [seg(0, 3, 0)], // line 8: a plugin namespace, left out
  ]);
  const map = { sources: ['main.ts', 'lib/util.ts', '<kiln-entry>', 'kiln-global:process'], mappings };
  assert.deepEqual(lineMapOf(map, '/app', '/app'), {
    files: ['main.ts', 'lib/util.ts'],
    runs: [
      { bundleLine: 2, count: 3, sourceLine: 10, fileIndex: 0 },
      { bundleLine: 5, count: 1, sourceLine: 12, fileIndex: 0 },
      { bundleLine: 7, count: 1, sourceLine: 5, fileIndex: 1 },
    ],
  });
  // The top-level-await wrapper's line comes first; sources relative to another directory.
  assert.deepEqual(lineMapOf(map, '/app/src', '/app', 1).runs[0], { bundleLine: 3, count: 3, sourceLine: 10, fileIndex: 0 });
  assert.deepEqual(lineMapOf(map, '/app/src', '/app', 1).files, ['src/main.ts', 'src/lib/util.ts']);
});
