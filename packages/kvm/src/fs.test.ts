// The addon's file system calls (native/kiln_fs.cc through HostFs) over a temp directory: one
// component per call, no "..", no absolute names, no symlink followed at any point, O_PATH
// inodes reopened through /proc, and errors as negative errno numbers instead of exceptions.

import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { existsSync as addonBuilt } from 'node:fs';
import { ADDON_PATH } from './native.ts';
import { HostFs, O_DIRECTORY, O_PATH, UTIME_OMIT, parseLinuxDirents } from './fs.ts';

const skip = addonBuilt(ADDON_PATH) ? false : 'the addon is not built';
const dir = mkdtempSync(join(tmpdir(), 'kiln-hostfs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const b = (s: string): Uint8Array => Buffer.from(s);
const ENOENT = -2, EINVAL = -22, ELOOP = -40, ENOTDIR = -20, EISDIR = -21, ENOTEMPTY = -39;

test('openat_resolves_one_component_beneath_the_directory', { skip }, () => {
  const h = new HostFs();
  const share = join(dir, 'share');
  mkdirSync(join(share, 'sub'), { recursive: true });
  writeFileSync(join(share, 'sub', 'f.txt'), 'inside');
  writeFileSync(join(dir, 'secret'), 'outside');
  symlinkSync(join(dir, 'secret'), join(share, 'abs-link'));
  symlinkSync('../secret', join(share, 'rel-link'));
  symlinkSync('..', join(share, 'up'));
  const root = h.openRoot(share);
  try {
    const sub = h.openAt(root, b('sub'), O_PATH | O_DIRECTORY);
    assert.ok(sub >= 0);
    const f = h.openAt(sub, b('f.txt'), 0);
    assert.ok(f >= 0);
    const buf = new Uint8Array(16);
    assert.equal(h.pread(f, buf, 0), 6);
    assert.equal(Buffer.from(buf.subarray(0, 6)).toString(), 'inside');
    h.close(f);
    for (const bad of ['..', '../secret', `${dir}/secret`, 'sub/../../secret', 'sub/f.txt']) {
      const r = h.openAt(root, b(bad), 0);
      assert.equal(r, EINVAL, `${bad} refused`);
    }
    assert.equal(h.openAt(root, b('a\0b'), 0), EINVAL, 'NUL in a name');
    for (const link of ['abs-link', 'rel-link']) assert.equal(h.openAt(root, b(link), 0), ELOOP, `${link} not followed`);
    assert.ok([ELOOP, ENOTDIR].includes(h.openAt(root, b('up'), O_DIRECTORY)), 'a symlink to a directory is not one');
    // O_PATH|O_NOFOLLOW gives the symlink itself, which is not a directory to resolve names in
    const link = h.openAt(root, b('up'), O_PATH);
    assert.ok(link >= 0);
    const st = h.fstat(link);
    assert.ok(typeof st !== 'number' && (st.mode & 0o170000) === 0o120000, 'the symlink itself');
    assert.equal(h.openAt(link, b('secret'), 0), ENOTDIR);
    h.close(link);
    assert.equal(h.openAt(root, b('missing'), 0), ENOENT);
    h.close(sub);
  } finally {
    h.close(root);
  }
});

test('mkdirat_unlinkat_renameat_getdents_and_reopen', { skip }, () => {
  const h = new HostFs();
  const share = join(dir, 'ops');
  mkdirSync(share);
  const root = h.openRoot(share);
  try {
    assert.equal(h.mkdirAt(root, b('d'), 0o755), 0);
    assert.equal(h.mkdirAt(root, b('d'), 0o755), -17);
    for (const bad of ['', '..', 'd/e', '/tmp/x']) assert.equal(h.mkdirAt(root, b(bad), 0o755), EINVAL, JSON.stringify(bad));
    const f = h.openAt(root, b('x'), 0o100 | 2, 0o644); // O_CREAT | O_RDWR
    assert.ok(f >= 0);
    assert.equal(h.pwrite(f, b('hello'), 3), 5);
    assert.equal(h.ftruncate(f, 4), 0);
    assert.equal(h.fsync(f, true), 0);
    assert.equal(h.futimens(f, 1000, 0, 0, UTIME_OMIT), 0);
    assert.equal(h.fchmod(f, 0o600), 0);
    h.close(f);
    assert.equal(readFileSync(join(share, 'x')).length, 4);
    assert.equal(h.renameAt(root, b('x'), root, b('y'), 0), 0);
    assert.equal(h.renameAt(root, b('y'), root, b('d'), 0), EISDIR);
    assert.equal(h.unlinkAt(root, b('d'), false), EISDIR);
    writeFileSync(join(share, 'd', 'inner'), '');
    assert.equal(h.unlinkAt(root, b('d'), true), ENOTEMPTY);
    // reopen an O_PATH inode for reading; getdents lists the directory
    const p = h.openAt(root, b('y'), O_PATH);
    const rd = h.reopen(p, 0);
    assert.ok(rd >= 0);
    const st = h.fstat(rd);
    assert.ok(typeof st !== 'number' && st.size === 4 && (st.mode & 0o777) === 0o600);
    h.close(rd);
    h.close(p);
    const dfd = h.openAt(root, b('.'), O_DIRECTORY);
    const buf = new Uint8Array(4096);
    const n = h.getdents(dfd, buf);
    assert.ok(n > 0);
    assert.deepEqual(parseLinuxDirents(buf, n).map((e) => Buffer.from(e.name).toString()).sort(), ['.', '..', 'd', 'y']);
    assert.equal(h.getdents(dfd, buf), 0, 'end of directory');
    assert.equal(h.syncfs(dfd), 0);
    assert.equal(h.seekDir(dfd, 0n), 0);
    const again = parseLinuxDirents(buf, h.getdents(dfd, buf));
    assert.equal(again.length, 4, 'rewound');
    assert.equal(h.seekDir(dfd, again[1]!.cookie), 0);
    assert.deepEqual(parseLinuxDirents(buf, h.getdents(dfd, buf)).map((e) => e.cookie), again.slice(2).map((e) => e.cookie), 'a cookie is where the entry after it starts');
    assert.equal(h.seekDir(dfd, 1n << 64n), -22, 'a cookie past 64 bits is EINVAL');
    h.close(dfd);
    const sfs = h.fstatfs(root);
    assert.ok(typeof sfs !== 'number' && sfs.bsize > 0);
    assert.equal(h.close(9_999_999), -9, 'EBADF as a number');
    assert.ok(existsSync(join(share, 'y')));
  } finally {
    h.close(root);
  }
});
