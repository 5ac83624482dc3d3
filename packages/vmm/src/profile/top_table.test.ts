// The top-N table on a hand-made profile: the exact text (columns, sort by self then total,
// percentages of all samples), recursion counted once in total, the JavaScript table's self
// taking in the native helpers, the row limit, and a profile without samples.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Profile } from './profile.ts';
import { topTable } from './top_table.ts';

const main: Frame = { name: 'main', location: 'app.ts:1', kind: 'js' };
const fib: Frame = { name: 'fib', location: 'app.ts:3', kind: 'js' };
const add: Frame = { name: 'JS_AddSlow', kind: 'native' };
const gc: Frame = { name: 'gc_collect', kind: 'native' };
const wait: Frame = { name: 'wait', kind: 'host' };

const profile: Profile = {
  platform: 'process',
  hz: 99,
  durationMs: 1500,
  samples: 100,
  dropped: 2,
  stopped: 'the guest exited with code 0',
  stacks: [
    { frames: [main, fib, fib, fib], count: 35 },
    { frames: [main, fib, add], count: 30 },
    { frames: [main], count: 10 },
    { frames: [wait], count: 20 },
    { frames: [gc], count: 5 },
  ],
};

test('the table: header, self then total order, percentages, and the JavaScript functions', () => {
  assert.equal(topTable(profile), [
    'Kiln profile: process, 99 Hz, 1.50 s, 100 samples, 2 dropped',
    'Stopped: the guest exited with code 0',
    '',
    'Functions by self samples (top 5 of 5)',
    'self   self%  total%  function    location',
    '  35   35.0%   65.0%  fib         app.ts:3',
    '  30   30.0%   30.0%  JS_AddSlow',
    '  20   20.0%   20.0%  wait',
    '  10   10.0%   75.0%  main        app.ts:1',
    '   5    5.0%    5.0%  gc_collect',
    '',
    'JavaScript functions, self including the native code they call (top 2 of 2)',
    'self   self%  total%  function  location',
    '  65   65.0%   65.0%  fib       app.ts:3',
    '  10   10.0%   75.0%  main      app.ts:1',
    '',
  ].join('\n'));
});

test('a function is kind + name + location: same name elsewhere is another row', () => {
  const p: Profile = { ...profile, samples: 3, stacks: [{ frames: [fib], count: 2 }, { frames: [{ ...fib, location: 'lib.ts:9' }], count: 1 }] };
  assert.match(topTable(p), /\n {3}2 {3}66\.7% {3}66\.7% {2}fib +app\.ts:3\n {3}1 {3}33\.3% {3}33\.3% {2}fib +lib\.ts:9\n/);
});

test('equal self samples sort by total, not name; limit cuts both tables', () => {
  const p: Profile = { ...profile, samples: 5, stacks: [{ frames: [add], count: 2 }, { frames: [gc], count: 2 }, { frames: [gc, main], count: 1 }] };
  const text = topTable(p, 1);
  assert.match(text, /top 1 of 3\)\nself +self% +total% +function +location\n {3}2 {3}40\.0% {3}60\.0% {2}gc_collect\n\n/);
  assert.match(text, /top 1 of 1\)\nself.*\n {3}1 {3}20\.0% {3}20\.0% {2}main +app\.ts:1\n$/);
});

test('no JavaScript frames, no JavaScript table', () => {
  assert.doesNotMatch(topTable({ ...profile, samples: 25, stacks: [{ frames: [wait], count: 20 }, { frames: [gc], count: 5 }] }), /JavaScript/);
});

test('zero samples: the header and why nothing was sampled', () => {
  const p: Profile = { ...profile, durationMs: 3, samples: 0, dropped: 0, stacks: [], stopped: 'the guest exited with code 0' };
  assert.equal(topTable(p), [
    'Kiln profile: process, 99 Hz, 3 ms, 0 samples, 0 dropped',
    'Stopped: the guest exited with code 0',
    'No samples were taken before sampling ended (the guest exited with code 0).',
    '',
  ].join('\n'));
});
