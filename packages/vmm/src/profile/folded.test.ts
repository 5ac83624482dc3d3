// Folded stacks: golden lines (merged, sorted, kind suffixes), labels with ';', spaces and
// suffix look-alikes coming back with their kind, the parser's errors, and a property (seeded by
// @kiln/common/testing/property.ts: KILN_SEED) that any profile survives the round trip with
// its stacks and totals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { foldedStacks, parseFolded } from './folded.ts';
import { frameLabel, type Frame, type FrameKind, type Profile, type StackCount } from './profile.ts';

function profileOf(stacks: StackCount[]): Profile {
  const samples = stacks.reduce((n, s) => n + s.count, 0);
  return { platform: 'kvm', hz: 99, durationMs: 1000, samples, dropped: 0, stacks, stopped: '--duration 1 s' };
}

const main: Frame = { name: 'main', location: 'app.ts:1', kind: 'js' };
const qjs: Frame = { name: 'JS_CallInternal', kind: 'native' };
const wait: Frame = { name: 'wait', kind: 'host' };

test('one sorted line per distinct stack, identical stacks merged', () => {
  const p = profileOf([
    { frames: [main, qjs], count: 3 },
    { frames: [wait], count: 1 },
    { frames: [main], count: 2 },
    { frames: [main, qjs], count: 4 },
  ]);
  assert.equal(foldedStacks(p), 'main (app.ts:1)_[j] 2\nmain (app.ts:1)_[j];JS_CallInternal 7\nwait_[k] 1\n');
  assert.equal(foldedStacks(profileOf([])), '');
});

test('round trip: ";" and spaces in labels, suffix look-alikes keep their kind', () => {
  const frames: Frame[] = [
    { name: 'a;b c', location: 'my file.ts:7', kind: 'js' },
    { name: 'ends_[j]', kind: 'native' },
    { name: 'ends_[n]', kind: 'js' },
    { name: 'x (y)', kind: 'host' },
    { name: 'plain', kind: 'native' },
  ];
  const text = foldedStacks(profileOf([{ frames, count: 5 }]));
  assert.equal(text, 'a,b c (my file.ts:7)_[j];ends_[j]_[n];ends_[n]_[j];x (y)_[k];plain 5\n');
  const [back] = parseFolded(text);
  assert.equal(back!.count, 5);
  assert.deepEqual(back!.frames.map((f) => [frameLabel(f), f.kind]), frames.map((f) => [frameLabel(f), f.kind]));
  assert.deepEqual(back!.frames[0], { name: 'a,b c', location: 'my file.ts:7', kind: 'js' });
});

test('foreign files: no suffix is native, CRLF and empty lines are fine, stacks stay in file order', () => {
  assert.deepEqual(parseFolded('b;c 2\r\n\na 1'), [
    { frames: [{ name: 'b', kind: 'native' }, { name: 'c', kind: 'native' }], count: 2 },
    { frames: [{ name: 'a', kind: 'native' }], count: 1 },
  ]);
});

test('malformed lines are errors naming the line', () => {
  assert.throws(() => parseFolded('a 1\nb\n'), /^Error: folded stacks line 2: no count$/);
  assert.throws(() => parseFolded('a 1\n\nb;c x\n'), /line 3: count "x" is not a positive integer/);
  assert.throws(() => parseFolded('a 0'), /line 1: count "0"/);
  assert.throws(() => parseFolded('a -3'), /line 1: count "-3"/);
  assert.throws(() => parseFolded('a 1.5'), /line 1: count "1.5"/);
  assert.throws(() => parseFolded('a 1 '), /line 1: count ""/);
  assert.throws(() => parseFolded('a 99999999999999999999'), /line 1: count "99999999999999999999"/);
  assert.throws(() => parseFolded('a 1\n 4'), /line 2: no stack before the count/);
});

const kind = fc.constantFrom<FrameKind>('js', 'native', 'host');
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ';', '\n', '\r', '(', ')', '_', '[', ']', 'j', 'k', 'n', ':', 'é', '🙂'), maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('f_[j]', 'g_[k]', 'h_[n]', 'f (a.ts:1)', '[unknown]', ''),
);
const frame = fc.record({ name: text, location: fc.option(text, { nil: undefined }), kind });
const stacks = fc
  .array(frame, { minLength: 1, maxLength: 8 })
  .chain((pool) => fc.array(fc.record({ frames: fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 6 }), count: fc.integer({ min: 1, max: 1_000_000 }) }), { maxLength: 20 }));

/** Samples per stack, a stack named by its frames' labels and kinds. */
function byStack(stacks: readonly StackCount[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of stacks) {
    const key = JSON.stringify(s.frames.map((f) => [frameLabel(f), f.kind]));
    counts.set(key, (counts.get(key) ?? 0) + s.count);
  }
  return counts;
}

test('any profile round-trips through folded stacks with the same stacks and totals', () => {
  fc.assert(
    fc.property(stacks, (s) => {
      const p = profileOf(s);
      const text = foldedStacks(p);
      const back = parseFolded(text);
      assert.equal(back.reduce((n, b) => n + b.count, 0), p.samples);
      assert.deepEqual(byStack(back), byStack(p.stacks));
      assert.equal(foldedStacks(profileOf(back)), text);
    }),
  );
});
