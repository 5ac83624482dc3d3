// Kiln's npm compatibility suite (issue 12): popular packages, current releases from the registry,
// pinned in this directory's own package.json and lockfile (scripts/setup.sh runs `npm ci` here), so
// Kiln's lockfile never carries them. Each cases/NAME.mjs exercises one package the way its README
// does; `kiln build` bundles it unchanged and its guest output must equal host Node's, line for
// line. Hono's app (hono/app.ts) is also served over kiln:http (hono/serve.ts) and answered through
// passt's hostfwd, compared with app.request() on the host. The cases boot on Kiln's VMM (KVM and
// the process platform, whichever this machine has): the packages exercise the engine, the web
// classes and the bundler, which are the same on every platform; QEMU's boot path is covered by
// tests/e2e. Needs arch/build (make -C arch) and this directory's node_modules.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';
import { commandExists, coreSkip, KILN, kiln, kilnBuild, kilnTargets, ROOT, until } from '../e2e/helpers.ts';

const HERE = join(ROOT, 'tests/compat');
const CASES = join(HERE, 'cases');
const dir = mkdtempSync(join(tmpdir(), 'kiln-compat-'));
const names = readdirSync(CASES).filter((f) => f.endsWith('.mjs')).map((f) => basename(f, '.mjs')).sort();
const elf = (name: string): string => join(dir, `${name}.elf`);

const depsSkip = existsSync(join(HERE, 'node_modules/hono'))
  ? undefined
  : `${HERE}/node_modules is missing: run bash scripts/setup.sh (it runs npm ci in tests/compat)`;
const skip = coreSkip() ?? depsSkip;

/** A case's output on host Node. */
function onHost(name: string): string {
  const r = spawnSync(process.execPath, [join(CASES, `${name}.mjs`)], { cwd: HERE, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, `${name} fails on host Node: ${r.stderr}`);
  return r.stdout;
}

/** Runs `jobs` two at a time (the machines have two CPUs). */
async function inPairs(jobs: (() => Promise<void>)[]): Promise<void> {
  const queue = [...jobs];
  await Promise.all([0, 1].map(async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job();
  }));
}

before(async () => {
  if (skip) return;
  await inPairs([...names.map((n) => () => kilnBuild(join(CASES, `${n}.mjs`), elf(n))), () => kilnBuild(join(HERE, 'hono/serve.ts'), elf('hono-serve'))]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the suite covers at least 25 packages, each pinned and each with a case', { skip }, () => {
  const pinned = Object.keys((JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  assert.ok(names.length >= 25, `${names.length} cases`);
  assert.deepEqual(names.filter((n) => !pinned.includes(n)), [], 'every case is named after a pinned package');
  assert.deepEqual(pinned.filter((p) => !names.includes(p)), [], 'every pinned package has a case');
});

for (const t of kilnTargets()) {
  describe(t.name, { skip: t.skip ?? skip }, () => {
    for (const name of names) {
      test(`${name}: the guest prints what host Node prints`, async () => {
        const expected = onHost(name);
        const r = await kiln(['run', elf(name), ...t.flags]);
        assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
        assert.equal(r.stdout, expected);
      });
    }

    test('Hono serves its app over kiln:http: answers equal app.request() on host Node', { skip: commandExists('passt') ? undefined : 'needs passt (user-mode networking)' }, async () => {
      const { app } = await import('./hono/app.ts');
      const requests: [string, RequestInit?][] = [
        ['/'],
        ['/api/users/42?f=name&f=email', { headers: { origin: 'https://example.com' } }],
        ['/api/users/abc'],
        ['/api/users', { method: 'POST', body: JSON.stringify({ name: 'Grace' }), headers: { 'content-type': 'application/json' } }],
        ['/api/users', { method: 'POST', body: JSON.stringify({ name: 7 }), headers: { 'content-type': 'application/json' } }],
        ['/api/users', { method: 'OPTIONS', headers: { origin: 'https://example.com', 'access-control-request-method': 'POST' } }],
        ['/form', { method: 'POST', body: 'a=1&b=two+words&c=%E2%82%AC', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
        ['/html'],
        ['/stream'],
        ['/redirect'],
        ['/error'],
        ['/v2/ping'],
        ['/v2/headers', { headers: { 'user-agent': 'kiln-compat', accept: 'application/json' } }],
        ['/nowhere'],
      ];
      const port = await freeLoopbackPort();
      const child = spawn(process.execPath, [KILN, 'run', elf('hono-serve'), ...t.flags, '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:8080`, '--timeout', '60', '--', String(requests.length + 1)], { cwd: ROOT });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', r));
      try {
        assert.ok(await until(() => out.includes('Listening on'), 20_000), `guest never listened: ${out}`);
        // The first request also waits out passt's forwarding start.
        assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'Hello Hono!');
        for (const [path, init] of requests) {
          const want = await app.request(path, init);
          const got = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, redirect: 'manual' });
          const what = `${init?.method ?? 'GET'} ${path}`;
          assert.equal(got.status, want.status, what);
          for (const h of ['content-type', 'location', 'x-handled-by', 'access-control-allow-origin', 'access-control-allow-methods', 'x-content-type-options', 'x-frame-options']) {
            assert.equal(got.headers.get(h), want.headers.get(h), `${what}: ${h}`);
          }
          assert.equal(await got.text(), await want.text(), `${what}: body`);
        }
        assert.equal(await exited, 0, out);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
}
