// E2E: the web APIs Kiln adds for apps (web/): crypto.subtle (every algorithm, keys in each
// format), crypto.randomUUID, atob/btoa, DOMException, FormData with files through a Request,
// Blob, TransformStream and the text streams, pipeThrough, CompressionStream/DecompressionStream, Event/EventTarget/CustomEvent, AbortController and
// AbortSignal (a pending AbortSignal.timeout does not keep the guest alive), structuredClone.
// tests/e2e/web/web_apis.mjs uses each as an app would; the image boots on every available
// VMM/accelerator and must print what host Node prints.
// Needs arch/build (make -C arch).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, kilnBuild, ROOT, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-e2e-web-'));
const image = join(dir, 'web_apis.elf');
const program = join(ROOT, 'tests/e2e/web/web_apis.mjs');

describe('web APIs', { skip: coreSkip() }, () => {
  before(() => kilnBuild(program, image));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of targets()) {
    test(`the guest prints what host Node prints (${t.name})`, { skip: t.skip }, async () => {
      const host = spawnSync(process.execPath, [program], { encoding: 'utf8' });
      assert.equal(host.status, 0, host.stderr);
      const r = await kiln(['run', image, ...t.flags]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(r.stdout, host.stdout);
    });
  }
});
