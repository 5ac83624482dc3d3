// kiln profile's flags: each bad value is one usage error naming the flag (exit 2), checked
// before the guest boots, and good ones become runVm's profile request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileRequest } from './profile.ts';
import { CliError } from './errors.ts';

const ok = { hz: '1000', output: join(tmpdir(), 'kiln-profile-test'), top: '25' };
const usage = (flags: Partial<typeof ok> & { duration?: string }, message: RegExp): void => {
  assert.throws(() => profileRequest({ ...ok, ...flags }, () => {}), (e: unknown) => e instanceof CliError && e.exitCode === 2 && message.test(e.message));
};

test('bad --hz, --top, --duration and --output are usage errors naming the flag', () => {
  for (const hz of ['0', '10001', '1.5', 'fast', '']) usage({ hz }, /^--hz: expected an integer number of samples a second between 1 and 10000/);
  for (const top of ['0', 'x', '-3']) usage({ top }, /^--top: expected an integer number of rows between 1 and 10000/);
  for (const duration of ['0', '-1', '1e3', 'ten', '86401']) usage({ duration }, /^--duration: expected a number of seconds greater than 0 and at most 86400/);
  usage({ output: '/nonexistent-dir/kiln/prof' }, /^--output \/nonexistent-dir\/kiln\/prof: cannot write into \/nonexistent-dir\/kiln$/);
});

test('good flags: the rate, the duration in ms, and an onProfile that writes three files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-profile-flags-'));
  try {
    const r = profileRequest({ hz: '250', duration: '1.5', output: join(dir, 'p'), top: '3' }, () => {});
    assert.equal(r.hz, 250);
    assert.equal(r.durationMs, 1500);
    assert.equal(profileRequest({ ...ok }, () => {}).durationMs, undefined);
    let said = '';
    const w = profileRequest({ hz: '250', output: join(dir, 'p'), top: '3' }, (t) => void (said += t));
    w.onProfile({ platform: 'process', hz: 250, durationMs: 3, samples: 0, dropped: 0, stacks: [], stopped: 'the guest exited with code 0' }, ['a warning']);
    for (const ext of ['txt', 'folded', 'svg']) assert.ok(existsSync(join(dir, `p.${ext}`)), ext);
    assert.match(readFileSync(join(dir, 'p.txt'), 'utf8'), /No samples were taken/);
    assert.match(said, /^kiln: profile: a warning\n[^]*kiln: profile written to /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
