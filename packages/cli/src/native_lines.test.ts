// native_lines.ts over this checkout's core: an image built here is matched to its core ELF and
// its C functions get their files and lines from addr2line; an image whose code differs, a
// missing file or an unknown name gets none, and only native frames are touched.

import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Profile } from '@kiln/vmm/profile/profile.ts';
import { buildImage } from './build.ts';
import { coreElfOf, nativeLocations, withNativeLocations } from './native_lines.ts';
import { archBuildDir } from './paths.ts';
import { spawnSync } from 'node:child_process';

const core = join(archBuildDir(), 'kiln-core.elf');
const skip = !existsSync(core) ? `${core} is missing (make -C arch)` : spawnSync('addr2line', ['--version']).status !== 0 ? 'addr2line (binutils) is not installed' : undefined;
const dir = mkdtempSync(join(tmpdir(), 'kiln-native-lines-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('an image built here: its core, and its C functions\' files and lines', { skip }, async () => {
  writeFileSync(join(dir, 'main.ts'), "console.log('x');\n");
  const out = join(dir, 'app.elf');
  await buildImage({ entry: join(dir, 'main.ts'), out });
  const image = readFileSync(out);
  assert.equal(coreElfOf(image), core);
  const where = nativeLocations(image, core, ['malloc', 'JS_CallInternal', 'no_such_function']);
  assert.match(where.get('malloc') ?? '', /^malloc\.c:\d+$/);
  assert.match(where.get('JS_CallInternal') ?? '', /^quickjs\.c:\d+$/);
  assert.equal(where.has('no_such_function'), false);

  const p: Profile = {
    platform: 'process', hz: 1000, durationMs: 1, samples: 1, dropped: 0, stopped: 'test',
    stacks: [{ count: 1, frames: [{ kind: 'native', name: 'malloc' }, { kind: 'js', name: 'malloc' }, { kind: 'host', name: '[host]' }] }],
  };
  const located = withNativeLocations(p, out);
  assert.deepEqual(located.stacks[0]!.frames.map((f) => f.location), [where.get('malloc'), undefined, undefined]);
  assert.equal(withNativeLocations(p, join(dir, 'missing.elf')), p);

  // the same image with one byte of code changed is not this core's
  const text = Buffer.from(image);
  const at = text.indexOf(Buffer.from(readFileSync(core).subarray(0x1000, 0x1010)));
  assert.ok(at > 0);
  text[at + 8]! ^= 0xff;
  assert.equal(coreElfOf(text), undefined);
  writeFileSync(join(dir, 'changed.elf'), text);
  assert.equal(withNativeLocations(p, join(dir, 'changed.elf')), p);
});
