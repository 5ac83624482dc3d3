// E2E: `kiln init` projects build, typecheck and run with no edits. For each template (http, hono)
// the real CLI scaffolds a directory; its own tsconfig.json typechecks main.ts (Kiln's TypeScript;
// the hono project gets the Hono that tests/compat pins, linked in place of `npm install`, which
// would need the registry); its `npm run build` script runs with `kiln` on the PATH (as after
// the setup) and the image answers HTTP through passt on the process platform.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';
import { commandExists, coreSkip, kiln, KILN, ROOT, TENDER, until } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-e2e-init-'));
const bin = join(dir, 'bin');
mkdirSync(bin);
symlinkSync(KILN, join(bin, 'kiln'));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const HONO = join(ROOT, 'tests/compat/node_modules/hono');

const skip = coreSkip() ?? (existsSync(TENDER) ? undefined : 'the process platform\'s tender is not built')
  ?? (commandExists('passt') ? undefined : 'needs passt (user-mode networking)');

describe('kiln init', { skip }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [template, path, expect] of [
    ['http', '/hello', '{"message":"Hello from Kiln","path":"/hello"}'],
    ['hono', '/hello/you', '{"hello":"you"}'],
  ] as const) {
    test(`the ${template} template builds, typechecks and serves as written`, { skip: template === 'hono' && !existsSync(HONO) ? `${HONO} is missing (bash scripts/setup.sh)` : undefined }, async () => {
      const project = join(dir, `${template}-app`);
      const init = await kiln(['init', project, '--template', template]);
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stdout, /created package\.json, tsconfig\.json, main\.ts, \.gitignore in .*\nNext:\n(.*\n)*  npm run build\n  npm start\n$/);
      if (template === 'hono') {
        mkdirSync(join(project, 'node_modules'));
        symlinkSync(HONO, join(project, 'node_modules/hono'));
      }
      const tsc = spawnSync(process.execPath, [TSC, '-p', project, '--noEmit'], { encoding: 'utf8' });
      assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
      const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: project, env, encoding: 'utf8' });
      assert.equal(build.status, 0, build.stdout + build.stderr);
      const port = await freeLoopbackPort();
      const child = spawn(process.execPath, [KILN, 'run', join(project, 'build/app.elf'), '--accel', 'process', '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:8080`, '--timeout', '60'], { cwd: project });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        assert.ok(await until(() => out.includes('Listening on'), 20_000), out);
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), expect);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }
});
