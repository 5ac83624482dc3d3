// kiln:http's log lines: control characters escaped (an ESC from a request path never reaches
// the terminal raw, a CR/LF never forges a line), errors as one escaped line plus escaped frames,
// and the rate limit on the lines clients can cause.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RateLimitedLog, describeError, escapeControls } from './log.ts';

test('control_characters_are_escaped', () => {
  assert.equal(escapeControls('/\x1b[31mred\r\nfake line\x00\x7f\x9b ok é'), '/\\x1b[31mred\\x0d\\x0afake line\\x00\\x7f\\x9b ok é');
});

test('an_error_is_one_escaped_line_then_its_frames', () => {
  const e = new Error("ENOENT: no such file, stat '/\x1b]0;pwned\x07\nkiln: fake'");
  const lines = describeError(e).split('\n');
  assert.match(lines[0]!, /^Error: ENOENT: no such file, stat '\/\\x1b\]0;pwned\\x07\\x0akiln: fake'$/);
  assert.ok(lines.length > 1 && lines.slice(1).every((l) => /^ {4}at /.test(l)));
  assert.ok(!/[\x00-\x08\x0b-\x1f]/.test(describeError(e)));
  assert.equal(describeError('plain\x1b'), 'plain\\x1b');
});

test('rate_limited_lines', () => {
  let now = 0;
  const out: string[] = [];
  const log = new RateLimitedLog(() => now, (l) => out.push(l));
  for (let i = 0; i < 100; i++) log.log(`reset ${i}\x1b`);
  assert.deepEqual(out, ['reset 0\\x1b', 'reset 1\\x1b', 'reset 2\\x1b', 'reset 3\\x1b', 'reset 4\\x1b']);
  now += 10_000;
  log.log('later');
  assert.deepEqual(out.slice(5), ['kiln:http: 95 similar lines left out', 'later']);
});
