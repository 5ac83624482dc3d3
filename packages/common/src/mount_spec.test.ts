// The `kiln.mounts=` value (mount_spec.ts): format and parse round-trip, and the guest paths the
// CLI refuses (relative, unsafe characters, not in the VFS's normal form, over Linux's limits).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { badMountPath, formatMounts, parseMounts, type MountRequest } from './mount_spec.ts';

test('mounts_format_and_parse_round_trip', () => {
  const mounts: MountRequest[] = [
    { path: '/', source: { kind: 'tmpfs' } },
    { path: '/data', source: { kind: 'disk', index: 2 } },
    { path: '/srv/www', source: { kind: 'virtiofs', tag: 'site' } },
  ];
  assert.equal(formatMounts(mounts), '/=tmpfs,/data=disk:2,/srv/www=virtiofs:site');
  assert.deepEqual(parseMounts(formatMounts(mounts)), mounts);
  assert.deepEqual(parseMounts(''), []);
  assert.throws(() => parseMounts('/x=nfs:1'), /kiln\.mounts: "\/x=nfs:1": the source is not tmpfs/);
  assert.throws(() => parseMounts('/x'), /expected PATH=SOURCE/);
});

test('bad_mount_paths_say_why', () => {
  for (const ok of ['/', '/a', '/a/b.c', `/${'n'.repeat(255)}`]) assert.equal(badMountPath(ok), undefined, ok);
  assert.match(badMountPath('data')!, /must be absolute/);
  assert.match(badMountPath('/a b')!, /may hold only/);
  assert.equal(badMountPath('/a//b'), 'the guest path is not in normal form (/a/b)');
  assert.equal(badMountPath('/a/'), 'the guest path is not in normal form (/a)');
  assert.equal(badMountPath('/a/./b/../c'), 'the guest path is not in normal form (/a/c)');
  assert.equal(badMountPath('/..'), 'the guest path is not in normal form (/)');
  assert.match(badMountPath(`/${'n'.repeat(256)}`)!, /a name in the guest path is longer than 255 bytes/);
  assert.match(badMountPath(`/${'a/'.repeat(2048)}b`)!, /longer than 4095 bytes/);
});
