// Properties of the VFS path normalisation: the result is absolute and canonical, equals what
// Node's path.posix.resolve('/', p) gives (lexical resolution from "/"), is idempotent, never
// holds a ".." (so no filesystem can be left through one); NUL is EINVAL, long names and paths
// ENAMETOOLONG; a trailing "/" or "." (directoryForm) is seen whatever the rest of the path.

import { strict as assert } from 'node:assert';
import { posix } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { NAME_MAX, PATH_MAX, directoryForm, isWithin, joinPath, normalizePath, parentOf } from './path.ts';
import { FsError } from './types.ts';

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    return e.code;
  }
};

const pathArb = fc.array(fc.oneof(fc.constantFrom('', '.', '..', '...', 'a', 'b', 'é', ' '), fc.string({ maxLength: 4 }).filter((s) => !s.includes('\0'))), { maxLength: 10 })
  .chain((parts) => fc.boolean().map((abs) => (abs ? '/' : '') + parts.join('/')))
  .filter((p) => p !== '');

test('normalizePath_is_posix_resolve_from_root', () => {
  fc.assert(fc.property(pathArb, (p) => {
    const n = normalizePath(p, 'open');
    assert.equal(n, posix.resolve('/', p));
    assert.equal(normalizePath(n, 'open'), n);
    assert.ok(n.startsWith('/'));
    assert.ok(n === '/' || !n.endsWith('/'));
    assert.ok(!n.includes('//'));
    assert.ok(!n.split('/').includes('..') && !n.split('/').includes('.'));
  }), { numRuns: 3000 });
  assert.equal(normalizePath('a/../../..//b/./c/', 'open'), '/b/c');
  assert.equal(normalizePath('/mnt/data/../../etc', 'open'), '/etc');
});

test('normalizePath_refuses_nul_empty_and_long', () => {
  assert.equal(codeOf(() => normalizePath('a\0b', 'open')), 'EINVAL');
  assert.equal(codeOf(() => normalizePath('', 'open')), 'ENOENT');
  assert.equal(codeOf(() => normalizePath('/' + 'x'.repeat(NAME_MAX), 'open')), 'ok');
  assert.equal(codeOf(() => normalizePath('/' + 'x'.repeat(NAME_MAX + 1), 'open')), 'ENAMETOOLONG');
  assert.equal(codeOf(() => normalizePath('/' + 'é'.repeat(128), 'open')), 'ENAMETOOLONG'); // 256 bytes
  assert.equal(codeOf(() => normalizePath('/a'.repeat(PATH_MAX / 2), 'open')), 'ENAMETOOLONG');
  const e = (() => { try { normalizePath('x\0', 'mkdir'); } catch (err) { return err as FsError; } })()!;
  assert.deepEqual([e.code, e.syscall, e.path], ['EINVAL', 'mkdir', 'x\0']);
});

test('path_helpers', () => {
  assert.equal(parentOf('/a/b'), '/a');
  assert.equal(parentOf('/a'), '/');
  assert.equal(parentOf('/'), '/');
  assert.equal(joinPath('/', 'a'), '/a');
  assert.equal(joinPath('/a', 'b'), '/a/b');
  assert.ok(isWithin('/a/b', '/a') && isWithin('/a', '/a') && isWithin('/x', '/'));
  assert.ok(!isWithin('/ab', '/a') && !isWithin('/a', '/a/b'));
});

test('directoryForm_sees_a_trailing_slash_or_dot', () => {
  for (const [p, want] of [
    ['/index.html/', 'slash'], ['index.html//', 'slash'], ['/a/b/', 'slash'], ['/a/./', 'dot'], ['/a/.', 'dot'], ['.', 'dot'], ['./', 'dot'],
    ['/a/..', null], ['/a/../', 'slash'], ['/', null], ['//', null], ['/a', null], ['/a.', null], ['/.a/', 'slash'], ['/a/..b', null], ['/a/b.', null],
  ] as const) assert.equal(directoryForm(p), want, p);
  fc.assert(fc.property(pathArb, (p) => {
    const last = p.split('/').filter((x) => x !== '').pop();
    const want = last === undefined || last === '..' && !p.endsWith('/') ? null : last === '.' ? 'dot' : p.endsWith('/') ? 'slash' : null;
    assert.equal(directoryForm(p), want);
  }), { numRuns: 2000 });
});
