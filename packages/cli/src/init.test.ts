// kiln init (init.ts): the files each template writes, the pinned versions (the TypeScript Kiln is
// checked with, the Hono tests/compat runs), the package name taken from the directory, and the
// refusals (an existing file, a file where the directory should be, an unknown template) that
// write nothing. tests/e2e/init.test.ts builds, typechecks and runs what it writes.

import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HONO_VERSION, initProject, TYPESCRIPT_VERSION } from './init.ts';
import { REPO_ROOT } from './paths.ts';

const root = mkdtempSync(join(tmpdir(), 'kiln-init-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

test('the http template: package.json scripts, a one-line tsconfig, main.ts on kiln:http, .gitignore', () => {
  const dir = join(root, 'My App!');
  const r = initProject(dir, 'http');
  assert.deepEqual(readdirSync(dir).sort(), ['.gitignore', 'main.ts', 'package.json', 'tsconfig.json']);
  assert.deepEqual(r.files.sort(), ['.gitignore', 'main.ts', 'package.json', 'tsconfig.json']);
  const pkg = json(join(dir, 'package.json'));
  assert.equal(pkg.name, 'my-app-');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.dependencies, undefined);
  assert.deepEqual(pkg.devDependencies, { typescript: TYPESCRIPT_VERSION });
  assert.match((pkg.scripts as Record<string, string>).build!, /^kiln build main\.ts -o build\/app\.elf$/);
  assert.deepEqual(json(join(dir, 'tsconfig.json')), { extends: join(REPO_ROOT, 'packages/kernel/tsconfig.app.json'), include: ['*.ts', 'src'] });
  assert.match(readFileSync(join(dir, 'main.ts'), 'utf8'), /from 'kiln:http'/);
  assert.deepEqual(r.next.slice(-3), ['npm install', 'npm run build', 'npm start']);
});

test('the hono template pins the Hono the compatibility suite runs; TypeScript is Kiln\'s own', () => {
  const dir = join(root, 'hono-app');
  initProject(dir, 'hono');
  assert.deepEqual(json(join(dir, 'package.json')).dependencies, { hono: HONO_VERSION });
  assert.equal(HONO_VERSION, (json(join(REPO_ROOT, 'tests/compat/package.json')).dependencies as Record<string, string>).hono);
  assert.equal(TYPESCRIPT_VERSION, (json(join(REPO_ROOT, 'package.json')).devDependencies as Record<string, string>).typescript);
  assert.match(readFileSync(join(dir, 'main.ts'), 'utf8'), /from 'hono'[\s\S]*serve\(\{ port: 8080 \}, app\.fetch\)/);
});

test('refusals write nothing', () => {
  const dir = join(root, 'taken');
  mkdirSync(dir);
  writeFileSync(join(dir, 'main.ts'), 'mine');
  assert.throws(() => initProject(dir, 'http'), /taken\/main\.ts already exists; nothing was written/);
  assert.deepEqual(readdirSync(dir), ['main.ts']);
  assert.equal(readFileSync(join(dir, 'main.ts'), 'utf8'), 'mine');
  writeFileSync(join(root, 'afile'), '');
  assert.throws(() => initProject(join(root, 'afile'), 'http'), /exists and is not a directory/);
  assert.throws(() => initProject(join(root, 'new'), 'react' as 'http'), /unknown --template "react" \(choose http or hono\)/);
  assert.equal(existsSync(join(root, 'new')), false);
});
