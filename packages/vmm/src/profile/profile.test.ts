// frameLabel, the one text form of a frame (folded stacks and flame graph labels), and the
// totals line every renderer starts with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameLabel, profileSummary } from './profile.ts';

test('frameLabel: name and location, never a ";" or a line break', () => {
  assert.equal(frameLabel({ name: 'fib', location: 'app.ts:3', kind: 'js' }), 'fib (app.ts:3)');
  assert.equal(frameLabel({ name: 'JS_CallInternal', kind: 'native' }), 'JS_CallInternal');
  assert.equal(frameLabel({ name: 'a;b\nc\r\nd', location: 'x;y.ts:1', kind: 'js' }), 'a,b c  d (x,y.ts:1)');
  assert.equal(frameLabel({ name: '', kind: 'host' }), '[unknown]');
});

test('profileSummary: milliseconds under a second, seconds above', () => {
  const p = { platform: 'kvm', hz: 997, samples: 12, dropped: 1, stacks: [], stopped: 'x' };
  assert.equal(profileSummary({ ...p, durationMs: 12.4 }), 'kvm, 997 Hz, 12 ms, 12 samples, 1 dropped');
  assert.equal(profileSummary({ ...p, durationMs: 10_000 }), 'kvm, 997 Hz, 10.00 s, 12 samples, 1 dropped');
});
