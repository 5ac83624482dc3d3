// Tests of stack frames in the app's source lines (stack_lines.ts): which frame lines are
// rewritten and which stay; the image's line map read lazily from the payload, once; the
// console's inspect of an Error and the core's exit hook (lifecycle.ts beforeCoreExit) print the
// mapped frames while err.stack keeps the bundle's. Runs on a fake machine (testing/fake_ops.ts);
// outside kiln build the bundle is named 'app.js' (lib/app_bundle.ts).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { PAYLOAD_KIND_LINE_MAP } from '@kiln/common/image/payload.ts';
import { decodeLineMap, encodeLineMap, type LineMapData } from '@kiln/common/image/line_map.ts';
import { setOpsForTesting } from '../ops.ts';
import { createFakeMachine } from '../testing/fake_ops.ts';
import { inspect } from './inspect.ts';
import { beforeCoreExit } from './lifecycle.ts';
import { mapStack, mapStackWith, mappedStackOf } from './stack_lines.ts';

const DATA: LineMapData = {
  files: ['main.ts', 'kiln:units/timers.ts'],
  runs: [
    { bundleLine: 10, count: 5, sourceLine: 3, fileIndex: 0 },
    { bundleLine: 40, count: 1, sourceLine: 77, fileIndex: 1 },
  ],
};
const MAP = decodeLineMap(encodeLineMap(DATA));

test('frames of the bundle that the map covers name the source file and line', () => {
  const stack = [
    '    at parseConfig (main.js:12)',
    '    at <anonymous> (main.js:40)',
    '    at loadConfig (main.js:20)', // not in the map
    '    at Number (native)',
    '    at f (other.js:12)', // another script
    '    at <eval> (main.js:14)',
    '',
  ].join('\n');
  assert.equal(mapStackWith(stack, MAP, 'main.js'), [
    '    at parseConfig (main.ts:5)',
    '    at <anonymous> (kiln:units/timers.ts:77)',
    '    at loadConfig (main.js:20)',
    '    at Number (native)',
    '    at f (other.js:12)',
    '    at <eval> (main.ts:7)',
    '',
  ].join('\n'));
});

test('only frame lines change: a message naming a bundle line, a frame with more after it, a near name', () => {
  const stack = 'Error: failed (main.js:12)\n    at f (main.js:12) extra\n    at g (xmain.js:12)\n    at h (main.jsx:12)\n    at (odd) name (main.js:11)';
  assert.equal(mapStackWith(stack, MAP, 'main.js'), 'Error: failed (main.js:12)\n    at f (main.js:12) extra\n    at g (xmain.js:12)\n    at h (main.jsx:12)\n    at (odd) name (main.ts:4)');
});

test('a bundle name with regular-expression characters matches only itself', () => {
  assert.equal(mapStackWith('    at f (a+b.js:10)\n    at g (aab.js:10)', MAP, 'a+b.js'), '    at f (main.ts:3)\n    at g (aab.js:10)');
});

test('the image line map is read once, on the first stack printed, and maps console and exit-hook output', () => {
  const m = createFakeMachine();
  m.payload.set(PAYLOAD_KIND_LINE_MAP, encodeLineMap(DATA));
  let reads = 0;
  const read = m.ops.op_payload_section;
  setOpsForTesting({ ...m.ops, op_payload_section: (kind) => (reads++, read(kind)) });

  const err = new Error('bad port');
  err.stack = 'Error: bad port\n    at parseConfig (app.js:11)\n    at main (app.js:99)';
  assert.equal(reads, 0, 'nothing is read before a stack is printed');
  assert.equal(inspect(err), 'Error: bad port\n    at parseConfig (main.ts:4)\n    at main (app.js:99)');
  assert.equal(err.stack, 'Error: bad port\n    at parseConfig (app.js:11)\n    at main (app.js:99)', 'err.stack keeps the bundle lines');
  assert.equal(inspect({ nested: err }), "{\n  nested: Error: bad port\n      at parseConfig (main.ts:4)\n      at main (app.js:99)\n}");
  assert.equal(beforeCoreExit(err), 'Error: bad port\n    at parseConfig (main.ts:4)\n    at main (app.js:99)');
  assert.equal(mapStack('    at x (app.js:40)'), '    at x (kiln:units/timers.ts:77)');
  assert.equal(reads, 1, 'the section is decoded once');

  // What the core prints as it is: no stack to map, or out of memory.
  assert.equal(beforeCoreExit(42), undefined);
  assert.equal(beforeCoreExit(undefined), undefined);
  assert.equal(beforeCoreExit({ stack: 7 }), undefined);
  const oom = new Error('out of memory');
  oom.name = 'InternalError';
  assert.equal(beforeCoreExit(oom), undefined);
  assert.equal(mappedStackOf({ get stack(): string { throw new Error('hostile'); } }), undefined);
  assert.equal(mappedStackOf({ stack: '    at f (app.js:10)' }), '    at f (main.ts:3)');
});
