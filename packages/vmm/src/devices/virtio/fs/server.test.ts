// The FUSE server against a temp directory, driven with raw requests as a hostile guest would
// send them: escape attempts through "..", "/", absolute names, NUL, symlinks to outside and a
// directory swapped for such a symlink by another process while requests run; read-only shares;
// bad lengths, unknown opcodes, unsafe ids, full tables; and any bytes at all.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { decodeUtf8 } from '@kiln/common/text/utf8.ts';
import * as F from '@kiln/common/wire/fuse.ts';
import { ADDON_PATH } from '@kiln/kvm/native.ts';
import { DIR_CHECKPOINT_EVERY, FUSE_MAX_IO, FuseServer } from './server.ts';

const skip = existsSync(ADDON_PATH) ? false : 'the addon is not built';
const E = F.ERRNO;
const top = mkdtempSync(join(tmpdir(), 'kiln-fuse-'));
after(() => rmSync(top, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => Buffer.from(s);
const cstr = (s: string | Uint8Array): Uint8Array => Buffer.concat([typeof s === 'string' ? enc(s) : s, Buffer.from([0])]);
const cat = (...p: Uint8Array[]): Uint8Array => Buffer.concat(p);

let unique = 1;
function request(opcode: number, nodeid: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(40 + body.length);
  F.IN_HEADER.encode({ len: b.length, opcode, unique: unique++, nodeid, uid: 0, gid: 0, pid: 1, totalExtlen: 0 }, b);
  b.set(body, 40);
  return b;
}

interface Res {
  error: number;
  body: Uint8Array;
}

function call(s: FuseServer, opcode: number, nodeid: number, body?: Uint8Array, capacity = 16 + FUSE_MAX_IO): Res {
  const req = request(opcode, nodeid, body);
  const r = s.handle(req, capacity);
  assert.ok(r, `opcode ${opcode} has a reply`);
  const h = F.OUT_HEADER.decode(r)!;
  assert.equal(h.len, r.length, 'out header len is the reply length');
  assert.equal(h.unique, F.IN_HEADER.decode(req)!.unique, 'unique echoed');
  assert.ok(h.error <= 0);
  return { error: h.error === 0 ? 0 : -h.error, body: r.slice(16) };
}

function ok(r: Res): Uint8Array {
  assert.equal(r.error, 0, `unexpected ${F.errnoName(r.error) ?? r.error}`);
  return r.body;
}

function init(s: FuseServer): F.FuseInitOut {
  const b = new Uint8Array(64);
  F.INIT_IN.encode({ major: 7, minor: 38, maxReadahead: 1 << 20, flags: F.FUSE_MAX_PAGES | F.FUSE_DO_READDIRPLUS | 0x4000_0000, flags2: 0 }, b);
  return F.INIT_OUT.decode(ok(call(s, F.FUSE_INIT, 0, b)))!;
}

function lookup(s: FuseServer, parent: number, name: string | Uint8Array): Res {
  return call(s, F.FUSE_LOOKUP, parent, cstr(name));
}
const entryOf = (r: Res): F.FuseEntryOut => F.ENTRY_OUT.decode(ok(r))!;

function openFile(s: FuseServer, nodeid: number, flags: number): Res {
  const b = new Uint8Array(8);
  F.OPEN_IN.encode({ flags, openFlags: 0 }, b);
  return call(s, F.FUSE_OPEN, nodeid, b);
}
const fhOf = (body: Uint8Array, at = 0): number => F.OPEN_OUT.decode(body, at)!.fh;

function read(s: FuseServer, fh: number, offset: number, size: number): Res {
  const b = new Uint8Array(40);
  F.READ_IN.encode({ fh, offset, size, readFlags: 0, lockOwner: 0, flags: 0 }, b);
  return call(s, F.FUSE_READ, 0, b);
}
function write(s: FuseServer, fh: number, offset: number, data: Uint8Array, size = data.length): Res {
  const b = new Uint8Array(40);
  F.WRITE_IN.encode({ fh, offset, size, writeFlags: 0, lockOwner: 0, flags: 0 }, b);
  return call(s, F.FUSE_WRITE, 0, cat(b, data));
}
function create(s: FuseServer, parent: number, name: string, flags = F.O_RDWR | F.O_CREAT, mode = 0o644): Res {
  const b = new Uint8Array(16);
  F.CREATE_IN.encode({ flags, mode, umask: 0o022, openFlags: 0 }, b);
  return call(s, F.FUSE_CREATE, parent, cat(b, cstr(name)));
}
function mkdir(s: FuseServer, parent: number, name: string | Uint8Array, mode = 0o755): Res {
  const b = new Uint8Array(8);
  F.MKDIR_IN.encode({ mode, umask: 0o022 }, b);
  return call(s, F.FUSE_MKDIR, parent, cat(b, cstr(name)));
}
function rename(s: FuseServer, parent: number, from: string, newdir: number, to: string, flags = 0): Res {
  const b = new Uint8Array(16);
  F.RENAME2_IN.encode({ newdir, flags }, b);
  return call(s, F.FUSE_RENAME2, parent, cat(b, cstr(from), cstr(to)));
}
function release(s: FuseServer, fh: number, dir = false): Res {
  const b = new Uint8Array(24);
  F.RELEASE_IN.encode({ fh, flags: 0, releaseFlags: 0, lockOwner: 0 }, b);
  return call(s, dir ? F.FUSE_RELEASEDIR : F.FUSE_RELEASE, 0, b);
}
function forget(s: FuseServer, nodeid: number, n: number): void {
  const b = new Uint8Array(8);
  F.FORGET_IN.encode({ nlookup: n }, b);
  assert.equal(s.handle(request(F.FUSE_FORGET, nodeid, b), 0), null, 'FORGET has no reply');
}
function readdirNames(s: FuseServer, nodeid: number, plus: boolean): { names: string[]; entries: F.FuseDirent[] } {
  const fh = fhOf(ok(call(s, F.FUSE_OPENDIR, nodeid, new Uint8Array(8))));
  const all: F.FuseDirent[] = [];
  let off = 0;
  for (;;) {
    const b = new Uint8Array(40);
    F.READ_IN.encode({ fh, offset: off, size: 200, readFlags: 0, lockOwner: 0, flags: 0 }, b);
    const body = ok(call(s, plus ? F.FUSE_READDIRPLUS : F.FUSE_READDIR, nodeid, b));
    if (body.length === 0) break;
    const p = F.parseDirents(body, plus);
    assert.equal(p.malformed, false);
    all.push(...p.entries);
    off = p.entries.at(-1)!.off;
  }
  ok(release(s, fh, true));
  return { names: all.map((e) => decodeUtf8(e.name)).sort(), entries: all };
}

function share(name: string, readOnly = false, o: { maxInodes?: number; maxHandles?: number; allowSetid?: boolean } = {}): { s: FuseServer; dir: string; outside: string } {
  const base = join(top, name);
  const dir = join(base, 'share');
  const outside = join(base, 'outside');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), 'SECRET');
  writeFileSync(join(dir, 'hello.txt'), 'hello, world\n');
  writeFileSync(join(dir, 'sub', 'inner.txt'), 'inner');
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'abs-link'));
  symlinkSync('../outside', join(dir, 'dir-link'));
  symlinkSync('..', join(dir, 'up'));
  const s = FuseServer.open({ hostDir: dir, readOnly, ...o });
  init(s);
  return { s, dir, outside };
}

const SECRET = enc('SECRET');
const hasSecret = (b: Uint8Array): boolean => Buffer.from(b).includes(Buffer.from(SECRET));

test('requests_before_init_get_eio_and_init_negotiates', { skip }, () => {
  const s = FuseServer.open({ hostDir: top });
  assert.equal(call(s, F.FUSE_GETATTR, 1, new Uint8Array(16)).error, E.EIO);
  const old = new Uint8Array(64);
  F.INIT_IN.encode({ major: 7, minor: 30, maxReadahead: 0, flags: 0, flags2: 0 }, old);
  assert.equal(call(s, F.FUSE_INIT, 0, old).error, E.EPROTO, 'minor < 31');
  F.INIT_IN.encode({ major: 8, minor: 31, maxReadahead: 0, flags: 0, flags2: 0 }, old);
  assert.equal(call(s, F.FUSE_INIT, 0, old).error, E.EPROTO, 'major 8');
  assert.equal(call(s, F.FUSE_INIT, 0, new Uint8Array(15)).error, E.EINVAL, 'short init_in');
  const i = init(s);
  assert.equal(i.major, 7);
  assert.equal(i.minor, 38);
  assert.equal(i.maxWrite, 1 << 20, 'max_write 1 MiB');
  assert.equal(i.maxReadahead, 1 << 20);
  assert.equal(i.maxPages, 256);
  assert.equal(i.flags, F.FUSE_MAX_PAGES | F.FUSE_DO_READDIRPLUS, 'only offered flags we support come back');
  assert.equal(call(s, F.FUSE_INIT, 0, new Uint8Array(64)).error, E.EINVAL, 'second INIT');
  ok(call(s, F.FUSE_DESTROY, 0));
  assert.equal(call(s, F.FUSE_GETATTR, 1, new Uint8Array(16)).error, E.EIO, 'DESTROY ends the session');
  init(s);
  s.close();
});

test('basic_operations_over_a_temp_dir', { skip }, () => {
  const { s, dir } = share('basic');
  const root = F.ATTR_OUT.decode(ok(call(s, F.FUSE_GETATTR, 1, new Uint8Array(16))))!;
  assert.equal(root.attr.mode & F.S_IFMT, F.S_IFDIR);
  const hello = entryOf(lookup(s, 1, 'hello.txt'));
  assert.equal(hello.attr.size, 13);
  assert.equal(entryOf(lookup(s, 1, 'hello.txt')).nodeid, hello.nodeid, 'one node id per inode');
  const fh = fhOf(ok(openFile(s, hello.nodeid, F.O_RDONLY)));
  assert.equal(Buffer.from(ok(read(s, fh, 7, 100))).toString(), 'world\n');
  assert.equal(ok(read(s, fh, 100, 10)).length, 0, 'EOF');
  assert.equal(write(s, fh, 0, enc('x')).error, E.EBADF, 'read-only handle');
  ok(release(s, fh));
  assert.equal(release(s, fh).error, E.EBADF, 'released twice');
  // create, write, read back, truncate through SETATTR, rename, unlink
  const c = ok(create(s, 1, 'new.bin'));
  const ce = F.ENTRY_OUT.decode(c)!;
  const cfh = fhOf(c, F.ENTRY_OUT.size);
  const big = new Uint8Array(FUSE_MAX_IO).map((_, i) => (i * 7) & 0xff);
  assert.equal(F.WRITE_OUT.decode(ok(write(s, cfh, 5, big)))!.size, big.length);
  assert.deepEqual(ok(read(s, cfh, 5, FUSE_MAX_IO)), big);
  const sa = new Uint8Array(88);
  F.SETATTR_IN.encode({ valid: F.FATTR_SIZE | F.FATTR_FH | F.FATTR_MODE, fh: cfh, size: 10, lockOwner: 0, atime: 0, mtime: 0, ctime: 0, atimensec: 0, mtimensec: 0, ctimensec: 0, mode: 0o600, uid: 0, gid: 0 }, sa);
  const after = F.ATTR_OUT.decode(ok(call(s, F.FUSE_SETATTR, ce.nodeid, sa)))!;
  assert.equal(after.attr.size, 10);
  assert.equal(after.attr.mode & 0o777, 0o600);
  ok(release(s, cfh));
  assert.equal(statSync(join(dir, 'new.bin')).size, 10);
  ok(rename(s, 1, 'new.bin', entryOf(lookup(s, 1, 'sub')).nodeid, 'moved.bin'));
  assert.ok(existsSync(join(dir, 'sub', 'moved.bin')));
  assert.equal(create(s, 1, 'hello.txt', F.O_RDWR | F.O_CREAT | F.O_EXCL).error, E.EEXIST);
  ok(call(s, F.FUSE_UNLINK, 1, cstr('hello.txt')));
  assert.equal(lookup(s, 1, 'hello.txt').error, E.ENOENT);
  // directories
  const m = entryOf(mkdir(s, 1, 'made'));
  assert.equal(m.attr.mode & 0o777, 0o755);
  assert.equal(mkdir(s, 1, 'made').error, E.EEXIST);
  assert.equal(call(s, F.FUSE_UNLINK, 1, cstr('made')).error, E.EISDIR);
  assert.equal(call(s, F.FUSE_RMDIR, 1, cstr('sub')).error, E.ENOTEMPTY);
  ok(call(s, F.FUSE_RMDIR, 1, cstr('made')));
  const list = readdirNames(s, 1, false);
  assert.deepEqual(list.names, ['abs-link', 'dir-link', 'sub', 'up'], 'no "." or ".."');
  const plus = readdirNames(s, 1, true);
  assert.deepEqual(plus.names, list.names);
  const link = plus.entries.find((e) => decodeUtf8(e.name) === 'up')!;
  assert.equal(link.type, F.DT_LNK);
  assert.equal(link.entry!.attr.mode & F.S_IFMT, F.S_IFLNK);
  const st = F.STATFS_OUT.decode(ok(call(s, F.FUSE_STATFS, 1)))!;
  assert.ok(st.bsize > 0 && st.blocks > 0);
  ok(call(s, F.FUSE_SYNCFS, 1, new Uint8Array(8)));
  s.close();
});

test('setuid_and_setgid_bits_are_stripped_unless_the_share_allows_them', { skip }, () => {
  for (const allowSetid of [false, true]) {
    const { s, dir } = share(`setid-${allowSetid}`, false, { allowSetid });
    const want = (m: number): number => (allowSetid ? m : m & ~0o6000);
    const c = ok(create(s, 1, 'planted', F.O_RDWR | F.O_CREAT, 0o7755));
    ok(release(s, fhOf(c, F.ENTRY_OUT.size)));
    assert.equal(statSync(join(dir, 'planted')).mode & 0o7777, want(0o7755), 'CREATE');
    const d = entryOf(mkdir(s, 1, 'pdir', 0o7755));
    // mkdir(2) itself drops setuid/setgid from the mode on Linux: stripped either way.
    assert.equal(statSync(join(dir, 'pdir')).mode & 0o7777, 0o1755, 'MKDIR');
    const sa = new Uint8Array(88);
    F.SETATTR_IN.encode({ valid: F.FATTR_MODE, fh: 0, size: 0, lockOwner: 0, atime: 0, mtime: 0, ctime: 0, atimensec: 0, mtimensec: 0, ctimensec: 0, mode: 0o6755, uid: 0, gid: 0 }, sa);
    const h = entryOf(lookup(s, 1, 'hello.txt'));
    const a = F.ATTR_OUT.decode(ok(call(s, F.FUSE_SETATTR, h.nodeid, sa)))!;
    assert.equal(a.attr.mode & 0o7777, want(0o6755), 'SETATTR (chmod) reply');
    assert.equal(statSync(join(dir, 'hello.txt')).mode & 0o7777, want(0o6755), 'SETATTR (chmod) on the host');
    F.SETATTR_IN.encode({ valid: F.FATTR_MODE, fh: 0, size: 0, lockOwner: 0, atime: 0, mtime: 0, ctime: 0, atimensec: 0, mtimensec: 0, ctimensec: 0, mode: 0o1777, uid: 0, gid: 0 }, sa);
    assert.equal(F.ATTR_OUT.decode(ok(call(s, F.FUSE_SETATTR, d.nodeid, sa)))!.attr.mode & 0o7777, 0o1777, 'the sticky bit stays');
    s.close();
  }
});

test('names_that_could_leave_the_directory_are_refused', { skip }, () => {
  const { s, outside } = share('names');
  const sub = entryOf(lookup(s, 1, 'sub')).nodeid;
  for (const bad of ['..', '.', '', 'sub/inner.txt', '../outside/secret.txt', `${outside}/secret.txt`, '/etc/passwd', '/']) {
    for (const parent of [1, sub]) {
      assert.equal(lookup(s, parent, bad).error, E.EINVAL, `lookup ${JSON.stringify(bad)}`);
      assert.equal(mkdir(s, parent, bad).error, E.EINVAL, `mkdir ${JSON.stringify(bad)}`);
      assert.equal(create(s, parent, bad).error, E.EINVAL, `create ${JSON.stringify(bad)}`);
      assert.equal(call(s, F.FUSE_UNLINK, parent, cstr(bad)).error, E.EINVAL, `unlink ${JSON.stringify(bad)}`);
      assert.equal(call(s, F.FUSE_RMDIR, parent, cstr(bad)).error, E.EINVAL, `rmdir ${JSON.stringify(bad)}`);
      assert.equal(rename(s, parent, 'inner.txt', 1, bad).error, E.EINVAL, `rename to ${JSON.stringify(bad)}`);
      assert.equal(rename(s, parent, bad, 1, 'x').error, E.EINVAL, `rename from ${JSON.stringify(bad)}`);
    }
  }
  assert.equal(call(s, F.FUSE_LOOKUP, 1, enc('hello.txt')).error, E.EINVAL, 'name without its NUL');
  assert.equal(lookup(s, 1, 'x'.repeat(256)).error, E.ENAMETOOLONG);
  assert.equal(lookup(s, 1, 'hello.txt\0../../outside').error, 0, 'a name ends at its NUL');
  // parents that are not directories
  const file = entryOf(lookup(s, 1, 'hello.txt')).nodeid;
  assert.equal(lookup(s, file, 'x').error, E.ENOTDIR);
  assert.deepEqual(readdirSync(outside), ['secret.txt'], 'nothing created outside');
  s.close();
});

test('symlinks_are_reported_but_never_followed', { skip }, () => {
  const { s, dir, outside } = share('links');
  for (const name of ['abs-link', 'dir-link', 'up']) {
    const e = entryOf(lookup(s, 1, name));
    assert.equal(e.attr.mode & F.S_IFMT, F.S_IFLNK, `${name} is a symlink`);
    assert.equal(openFile(s, e.nodeid, F.O_RDONLY).error, E.ELOOP, `open ${name}`);
    assert.equal(openFile(s, e.nodeid, F.O_RDWR | F.O_TRUNC).error, E.ELOOP);
    assert.equal(lookup(s, e.nodeid, 'secret.txt').error, E.ENOTDIR, `${name} as a directory`);
    assert.equal(call(s, F.FUSE_OPENDIR, e.nodeid, new Uint8Array(8)).error, E.ENOTDIR);
    assert.equal(create(s, e.nodeid, 'planted').error, E.ENOTDIR);
    assert.equal(mkdir(s, e.nodeid, 'planted').error, E.ENOTDIR);
    const sa = new Uint8Array(88);
    F.SETATTR_IN.encode({ valid: F.FATTR_SIZE, fh: 0, size: 0, lockOwner: 0, atime: 0, mtime: 0, ctime: 0, atimensec: 0, mtimensec: 0, ctimensec: 0, mode: 0, uid: 0, gid: 0 }, sa);
    assert.notEqual(call(s, F.FUSE_SETATTR, e.nodeid, sa).error, 0, 'no truncate through a symlink');
    F.SETATTR_IN.encode({ valid: F.FATTR_MODE, fh: 0, size: 0, lockOwner: 0, atime: 0, mtime: 0, ctime: 0, atimensec: 0, mtimensec: 0, ctimensec: 0, mode: 0o777, uid: 0, gid: 0 }, sa);
    assert.equal(call(s, F.FUSE_SETATTR, e.nodeid, sa).error, E.EPERM, 'no chmod through a symlink');
  }
  // O_CREAT on a dangling or outward symlink does not create or truncate its target
  symlinkSync(join(outside, 'created-by-guest'), join(dir, 'dangling'));
  assert.equal(create(s, 1, 'dangling').error, E.ELOOP);
  assert.equal(create(s, 1, 'abs-link', F.O_RDWR | F.O_CREAT | F.O_TRUNC).error, E.ELOOP);
  assert.deepEqual(readdirSync(outside), ['secret.txt']);
  assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'SECRET');
  // renaming a symlink moves the link itself
  ok(rename(s, 1, 'abs-link', 1, 'renamed-link'));
  assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'SECRET');
  // FIFOs and other special files are never opened (opening one would block the VMM)
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const fifo = entryOf(lookup(s, 1, 'fifo'));
  assert.equal(openFile(s, fifo.nodeid, F.O_RDONLY).error, E.EPERM);
  assert.equal(create(s, 1, 'fifo', F.O_RDONLY | F.O_CREAT).error, E.EPERM);
  s.close();
});

test('race_a_directory_swapped_for_an_outward_symlink_never_escapes', { skip, timeout: 60_000 }, async () => {
  const { s, dir, outside } = share('race');
  mkdirSync(join(dir, 'real'));
  writeFileSync(join(dir, 'real', 'secret.txt'), 'inside');
  symlinkSync(outside, join(dir, 'evil'));
  const before = readdirSync(outside).sort();
  // Another process swaps "d" between the real directory and a symlink to outside, as fast as it can.
  const swapper = spawn(process.execPath, ['-e', `
    const fs = require('fs'); const p = (n) => ${JSON.stringify(dir)} + '/' + n;
    for (;;) { try { fs.renameSync(p('real'), p('d')); fs.renameSync(p('d'), p('real')); fs.renameSync(p('evil'), p('d')); fs.renameSync(p('d'), p('evil')); } catch {} }
  `], { stdio: 'ignore' });
  const seen = { dir: 0, link: 0, read: 0, created: 0 };
  try {
    await new Promise((r) => setTimeout(r, 50));
    const end = Date.now() + 1500;
    for (let i = 0; Date.now() < end; i++) {
      const l = lookup(s, 1, 'd');
      if (l.error) continue;
      const e = F.ENTRY_OUT.decode(l.body)!;
      if ((e.attr.mode & F.S_IFMT) === F.S_IFLNK) seen.link++;
      else seen.dir++;
      const f = lookup(s, e.nodeid, 'secret.txt');
      if (!f.error) {
        const fe = F.ENTRY_OUT.decode(f.body)!;
        const o = openFile(s, fe.nodeid, F.O_RDONLY);
        if (!o.error) {
          const data = ok(read(s, fhOf(o.body), 0, 100));
          assert.ok(!hasSecret(data), 'read something from outside');
          if (data.length) seen.read++;
          release(s, fhOf(o.body));
        }
        forget(s, fe.nodeid, 1);
      }
      const c = create(s, e.nodeid, `planted${i}`);
      if (!c.error) {
        seen.created++;
        release(s, fhOf(c.body, F.ENTRY_OUT.size));
        forget(s, F.ENTRY_OUT.decode(c.body)!.nodeid, 1);
      }
      const od = call(s, F.FUSE_OPENDIR, e.nodeid, new Uint8Array(8));
      if (!od.error) {
        const b = new Uint8Array(40);
        F.READ_IN.encode({ fh: fhOf(od.body), offset: 0, size: 4096, readFlags: 0, lockOwner: 0, flags: 0 }, b);
        const rd = call(s, F.FUSE_READDIRPLUS, e.nodeid, b);
        if (!rd.error) {
          const names = F.parseDirents(rd.body, true).entries;
          for (const n of names) forget(s, n.entry!.nodeid, 1);
        }
        release(s, fhOf(od.body), true);
      }
      forget(s, e.nodeid, 1);
    }
  } finally {
    swapper.kill('SIGKILL');
    await new Promise((r) => swapper.once('exit', r));
  }
  assert.ok(seen.dir > 0 && seen.link > 0, `both forms were seen (${JSON.stringify(seen)})`);
  assert.ok(seen.read > 0, 'the real directory was read through');
  assert.deepEqual(readdirSync(outside).sort(), before, 'nothing was created outside');
  assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'SECRET');
  assert.equal(s.inodes.size, 1, 'every lookup was forgotten: only the root is held');
  assert.equal(s.handles.size, 0);
  s.close();
});

test('read_only_share_refuses_every_mutation', { skip }, () => {
  const { s, dir } = share('ro', true);
  const hello = entryOf(lookup(s, 1, 'hello.txt')).nodeid;
  const sub = entryOf(lookup(s, 1, 'sub')).nodeid;
  const sa = new Uint8Array(88);
  F.SETATTR_IN.encode({ valid: F.FATTR_SIZE, fh: 0, size: 0, lockOwner: 0, atime: 0, mtime: 0, ctime: 0, atimensec: 0, mtimensec: 0, ctimensec: 0, mode: 0, uid: 0, gid: 0 }, sa);
  assert.equal(call(s, F.FUSE_SETATTR, hello, sa).error, E.EROFS);
  assert.equal(mkdir(s, 1, 'm').error, E.EROFS);
  assert.equal(create(s, 1, 'c').error, E.EROFS);
  assert.equal(call(s, F.FUSE_UNLINK, 1, cstr('hello.txt')).error, E.EROFS);
  assert.equal(call(s, F.FUSE_RMDIR, sub, cstr('x')).error, E.EROFS);
  assert.equal(rename(s, 1, 'hello.txt', 1, 'x').error, E.EROFS);
  assert.equal(call(s, F.FUSE_RENAME, 1, cat(new Uint8Array(8).fill(0).map((_, i) => (i === 0 ? 1 : 0)), cstr('hello.txt'), cstr('y'))).error, E.EROFS);
  for (const op of [F.FUSE_SYMLINK, F.FUSE_MKNOD, F.FUSE_LINK, F.FUSE_SETXATTR, F.FUSE_REMOVEXATTR, F.FUSE_FALLOCATE, F.FUSE_COPY_FILE_RANGE, F.FUSE_TMPFILE]) {
    assert.equal(call(s, op, 1, new Uint8Array(64)).error, E.EROFS, `opcode ${op}`);
  }
  for (const flags of [F.O_WRONLY, F.O_RDWR, F.O_RDONLY | F.O_TRUNC]) assert.equal(openFile(s, hello, flags).error, E.EROFS, `open flags ${flags}`);
  const fh = fhOf(ok(openFile(s, hello, F.O_RDONLY)));
  assert.equal(Buffer.from(ok(read(s, fh, 0, 5))).toString(), 'hello');
  assert.equal(write(s, fh, 0, enc('x')).error, E.EROFS);
  assert.equal(readFileSync(join(dir, 'hello.txt'), 'utf8'), 'hello, world\n');
  assert.deepEqual(readdirSync(dir).sort(), ['abs-link', 'dir-link', 'hello.txt', 'sub', 'up']);
  s.close();
});

test('bad_lengths_unknown_opcodes_and_unsafe_ids', { skip }, () => {
  const { s } = share('bad');
  const hello = entryOf(lookup(s, 1, 'hello.txt')).nodeid;
  // header problems
  const short = s.handle(new Uint8Array(20), 100)!;
  assert.equal(F.OUT_HEADER.decode(short)!.error, -E.EINVAL);
  const lying = request(F.FUSE_GETATTR, 1, new Uint8Array(16));
  new DataView(lying.buffer).setUint32(0, 1000, true);
  assert.equal(F.OUT_HEADER.decode(s.handle(lying, 100)!)!.error, -E.EINVAL, 'len past the request');
  new DataView(lying.buffer).setUint32(0, 39, true);
  assert.equal(F.OUT_HEADER.decode(s.handle(lying, 100)!)!.error, -E.EINVAL, 'len below the header');
  const ext = request(F.FUSE_GETATTR, 1, new Uint8Array(16));
  new DataView(ext.buffer).setUint16(36, 1, true);
  assert.equal(F.OUT_HEADER.decode(s.handle(ext, 100)!)!.error, -E.EINVAL, 'extensions were not negotiated');
  // unknown opcodes
  for (const op of [0, 7, 19, 37, 99, 4096, 0xffff_ffff]) assert.equal(call(s, op, 1, new Uint8Array(64)).error, E.ENOSYS, `opcode ${op}`);
  // bodies too short for their opcode
  for (const op of [F.FUSE_READ, F.FUSE_WRITE, F.FUSE_SETATTR, F.FUSE_OPEN, F.FUSE_CREATE, F.FUSE_MKDIR, F.FUSE_RENAME, F.FUSE_RENAME2, F.FUSE_RELEASE, F.FUSE_FSYNC, F.FUSE_FLUSH, F.FUSE_READDIR, F.FUSE_LOOKUP]) {
    assert.equal(call(s, op, 1, new Uint8Array(3)).error, E.EINVAL, `opcode ${op} with 3 bytes`);
  }
  // WRITE claiming more data than it carries
  const fh = fhOf(ok(openFile(s, hello, F.O_RDWR)));
  assert.equal(write(s, fh, 0, enc('abc'), 4).error, E.EINVAL);
  assert.equal(write(s, fh, F.U64_UNSAFE, enc('abc')).error, E.EINVAL, 'offset ≥ 2^53');
  assert.equal(read(s, fh, F.U64_UNSAFE, 3).error, E.EINVAL);
  // ids that do not exist, or beyond 2^53
  for (const id of [0, 999, F.U64_UNSAFE]) {
    assert.equal(call(s, F.FUSE_GETATTR, id, new Uint8Array(16)).error, E.ESTALE, `nodeid ${id}`);
    assert.equal(read(s, id, 0, 1).error, E.EBADF, `fh ${id}`);
  }
  assert.equal(rename(s, 1, 'hello.txt', 12345, 'x').error, E.ESTALE);
  assert.equal(rename(s, 1, 'hello.txt', 1, 'x', F.RENAME_WHITEOUT).error, E.EINVAL);
  // a directory handle is not a file handle and the other way round
  const dfh = fhOf(ok(call(s, F.FUSE_OPENDIR, 1, new Uint8Array(8))));
  assert.equal(read(s, dfh, 0, 1).error, E.EISDIR);
  assert.equal(release(s, dfh).error, E.EBADF);
  assert.equal(release(s, fh, true).error, E.EBADF);
  // replies larger than the guest's buffer: an error header, or nothing if even that does not fit
  assert.equal(F.OUT_HEADER.decode(s.handle(request(F.FUSE_LOOKUP, 1, cstr('hello.txt')), 40)!)!.error, -E.EINVAL);
  assert.equal(s.handle(request(F.FUSE_GETATTR, 1, new Uint8Array(16)), 8)!.length, 0);
  assert.equal(ok(read(s, fh, 0, 100)).length, 13);
  assert.equal(call(s, F.FUSE_READ, 0, (() => { const b = new Uint8Array(40); F.READ_IN.encode({ fh, offset: 0, size: 100, readFlags: 0, lockOwner: 0, flags: 0 }, b); return b; })(), 16 + 4).body.length, 4, 'READ is clamped to the reply room');
  s.close();
  assert.equal(call(s, F.FUSE_GETATTR, 1, new Uint8Array(16)).error, E.EIO, 'after close');
});

test('readdir_costs_what_its_reply_holds_at_any_offset_and_loses_nothing', { skip }, () => {
  const { s, dir } = share('many-listings');
  const big = join(dir, 'big');
  mkdirSync(big);
  const N = 20_000; // more than one request may read (a whole listing per request before)
  for (let i = 0; i < N; i++) writeFileSync(join(big, `f${i}`), '');
  const bigId = entryOf(lookup(s, 1, 'big')).nodeid;
  const open = (): number => fhOf(ok(call(s, F.FUSE_OPENDIR, bigId, new Uint8Array(8))));
  // At most: the entries skipped from a saved position, the reply's, and one getdents buffer past it.
  const bound = DIR_CHECKPOINT_EVERY + 2 * Math.ceil((64 * 1024) / 24);
  const readAt = (fh: number, off: number, size = 4096, limit = bound): F.FuseDirent[] => {
    const b = new Uint8Array(40);
    F.READ_IN.encode({ fh, offset: off, size, readFlags: 0, lockOwner: 0, flags: 0 }, b);
    const before = s.stats.dirEntriesRead;
    const entries = F.parseDirents(ok(call(s, F.FUSE_READDIR, bigId, b)), false).entries;
    const cost = s.stats.dirEntriesRead - before;
    assert.ok(cost <= limit, `READDIR at ${off} read ${cost} entries (bound ${limit})`);
    return entries;
  };
  const listAll = (fh: number): F.FuseDirent[] => {
    const all: F.FuseDirent[] = [];
    for (let off = 0; ; ) {
      const more = readAt(fh, off);
      if (more.length === 0) return all;
      all.push(...more);
      off = more.at(-1)!.off;
    }
  };
  // READDIR at offset 0 again and again, on 100 handles (the guest's rewinddir): each costs one reply.
  const handles = Array.from({ length: 100 }, open);
  for (const fh of handles) for (let i = 0; i < 3; i++) assert.ok(readAt(fh, 0).length > 0);
  // Handles read in turns, sequentially, each list every name once.
  const lists: F.FuseDirent[][] = handles.slice(0, 3).map(() => []);
  const offs = [0, 0, 0];
  for (let done = 0; done < 3; ) {
    done = 0;
    for (let h = 0; h < 3; h++) {
      const more = readAt(handles[h]!, offs[h]!);
      if (more.length === 0) done++;
      else { lists[h]!.push(...more); offs[h] = more.at(-1)!.off; }
    }
  }
  for (const l of lists) assert.deepEqual(new Set(l.map((e) => decodeUtf8(e.name))).size, N);
  const order = lists[0]!.map((e) => decodeUtf8(e.name));
  assert.equal(order.length, N);
  // Any offset (a seekdir back, part of a reply the guest did not use, past the end) gives the
  // entries from that index on, for what one reply costs.
  const fh = handles[0]!;
  fc.assert(fc.property(fc.integer({ min: 0, max: N + 10 }), fc.integer({ min: 64, max: 8192 }), (off, size) => {
    const got = readAt(fh, off, size).map((e) => [e.off, decodeUtf8(e.name)]);
    const want = order.slice(off, off + got.length).map((name, i) => [off + i + 1, name]);
    assert.deepEqual(got, want);
    if (off < N) assert.ok(got.length > 0);
  }));
  assert.deepEqual(readAt(fh, 2 ** 50), []);
  assert.deepEqual(readAt(fh, 2 ** 50), []);
  // A handle that never read through still gets far offsets right (skipping at most the directory once).
  const fresh = open();
  assert.deepEqual(readAt(fresh, N - 1, 4096, N + 2).map((e) => decodeUtf8(e.name)), [order[N - 1]]);
  assert.deepEqual(readAt(fresh, N - 1, 4096).map((e) => decodeUtf8(e.name)), [order[N - 1]]); // from its saved position now
  for (const h of [...handles, fresh]) ok(release(s, h, true));
  s.close();
});

test('tables_are_bounded_and_forget_closes_fds', { skip }, () => {
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const start = fds();
  const { s, dir } = share('limits', false, { maxInodes: 4, maxHandles: 3 });
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, `f${i}`), String(i));
  const ids = [0, 1, 2].map((i) => entryOf(lookup(s, 1, `f${i}`)).nodeid);
  assert.equal(lookup(s, 1, 'f3').error, E.ENFILE, 'root + 3 inodes is the limit');
  assert.equal(entryOf(lookup(s, 1, 'f0')).nodeid, ids[0], 'a known inode still resolves');
  forget(s, ids[0]!, 2);
  assert.equal(s.inodes.size, 3);
  ok(lookup(s, 1, 'f3'));
  const fhs = [ids[1]!, ids[1]!, ids[2]!].map((id) => fhOf(ok(openFile(s, id, F.O_RDONLY))));
  assert.equal(openFile(s, ids[1]!, F.O_RDONLY).error, E.EMFILE);
  assert.equal(call(s, F.FUSE_OPENDIR, 1, new Uint8Array(8)).error, E.EMFILE);
  ok(release(s, fhs[0]!));
  ok(openFile(s, ids[1]!, F.O_RDONLY));
  // BATCH_FORGET with a count larger than the body holds forgets only what is there
  const bf = new Uint8Array(8 + 16);
  F.BATCH_FORGET_IN.encode({ count: 1000 }, bf);
  F.FORGET_ONE.encode({ nodeid: ids[2]!, nlookup: F.U64_UNSAFE }, bf, 8);
  assert.equal(s.handle(request(F.FUSE_BATCH_FORGET, 0, bf), 0), null);
  assert.equal(s.inodes.get(ids[2]!), undefined, 'forgotten');
  forget(s, 1, 100);
  assert.ok(s.inodes.get(1), 'the root is never forgotten');
  s.close();
  assert.equal(fds(), start, 'no fd left open');
});

test('property_any_bytes_get_a_bounded_reply_and_never_throw', { skip }, () => {
  const { s, outside } = share('fuzz');
  const op = fc.constantFrom(...[1, 2, 3, 4, 9, 10, 11, 12, 14, 15, 16, 17, 18, 20, 25, 26, 27, 28, 29, 30, 35, 36, 38, 42, 44, 45, 50, 77]);
  fc.assert(
    fc.property(op, fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 300 }), fc.boolean(), (opcode, nodeid, body, capacity, lie) => {
      const req = request(opcode, nodeid, body);
      if (lie) new DataView(req.buffer).setUint32(0, body.length * 3, true);
      const r = s.handle(req, capacity);
      if (r) assert.ok(r.length <= capacity);
      if (r && r.length) assert.ok(!hasSecret(r));
    }),
    { numRuns: 3000 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (raw) => void s.handle(raw, 64)), { numRuns: 1000 });
  assert.deepEqual(readdirSync(outside), ['secret.txt']);
  s.close();
});
