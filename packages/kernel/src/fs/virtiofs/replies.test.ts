// Hostile FUSE replies: the guest's FUSE client (session.ts) fed arbitrary reply bytes from a
// fake channel, raw or framed with a plausible out header (its length, error and unique
// perturbed). A fuzz target of npm run fuzz (numRuns: runs(N)). Asserts that every request
// either resolves with a value within bounds or rejects with FuseStatus — never another
// exception (a RangeError from a short DataView, a TypeError from a null decode). Then a corpus
// of replies it must refuse with EIO (one shorter than its header, a wrong unique, ...).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '@kiln/common/testing/property.ts';
import * as F from '@kiln/common/wire/fuse.ts';
import { FuseSession, FuseStatus, type FuseChannel } from './session.ts';

interface Reply {
  framed: boolean;
  lenDelta: number;
  error: number;
  uniqueDelta: number;
  body: Uint8Array;
}

const replyArb: fc.Arbitrary<Reply> = fc.record({
  framed: fc.boolean(),
  lenDelta: fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 20 }), fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff })),
  error: fc.oneof(fc.constant(0), fc.constantFrom(-2, -5, -4095, -4096, 1, -0x8000_0000)),
  uniqueDelta: fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 1 }),
  body: fc.uint8Array({ maxLength: 400 }),
});

/** A channel answering each request with `reply`, cut to the room the request allows (the device writes at most outLen). */
function channel(reply: Reply): FuseChannel {
  return {
    send(inLen, fill, outLen, done) {
      const req = new Uint8Array(inLen);
      fill(req);
      const unique = F.IN_HEADER.decode(req)!.unique;
      let b: Uint8Array;
      if (reply.framed) {
        b = new Uint8Array(F.OUT_HEADER.size + reply.body.length);
        b.set(reply.body, F.OUT_HEADER.size);
        F.OUT_HEADER.encode({ len: (b.length + reply.lenDelta) >>> 0, error: reply.error, unique: unique + reply.uniqueDelta }, b);
      } else b = reply.body;
      b = b.subarray(0, Math.min(b.length, outLen));
      try {
        return Promise.resolve(done(b));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    sendNoReply(inLen, fill) {
      fill(new Uint8Array(inLen));
    },
  };
}

const NAME = Uint8Array.from([0x61]);

/** Each request the session makes, with a check of what it resolved with. */
const requests: [string, (s: FuseSession) => Promise<unknown>, (v: unknown) => void][] = [
  ['init', (s) => s.init(), () => undefined],
  ['lookup', (s) => s.lookup(1, NAME), (v) => assert.equal(typeof (v as F.FuseEntryOut).attr.mode, 'number')],
  ['getattr', (s) => s.getattr(1), (v) => assert.equal(typeof (v as F.FuseAttrOut).attr.size, 'number')],
  ['setattr', (s) => s.setattr(1, { size: 3, mode: 0o644, fh: 2 }), () => undefined],
  ['mkdir', (s) => s.mkdir(1, NAME, 0o755), () => undefined],
  ['unlink', (s) => s.unlink(1, NAME, false), () => undefined],
  ['rename', (s) => s.rename(1, NAME, 1, NAME), () => undefined],
  ['open', (s) => s.open(2, F.O_RDONLY), (v) => assert.equal(typeof v, 'number')],
  ['create', (s) => s.create(1, NAME, F.O_RDWR, 0o644), () => undefined],
  ['read', (s) => s.read(3, 0, 64, new Uint8Array(64), 0), (v) => assert.ok((v as number) >= 0 && (v as number) <= 64)],
  ['write', (s) => s.write(3, 0, new Uint8Array(10)), (v) => assert.equal(typeof v, 'number')],
  ['release', (s) => s.release(3, false), () => undefined],
  ['fsync', (s) => s.fsync(3, true), () => undefined],
  ['opendir', (s) => s.opendir(1), (v) => assert.equal(typeof v, 'number')],
  ['readdir', (s) => s.readdir(4, 0), (v) => {
    for (const e of v as { name: Uint8Array }[]) assert.ok(e.name.length >= 1 && e.name.length <= F.FUSE_NAME_MAX);
  }],
  ['statfs', (s) => s.statfs(), () => undefined],
];

test('hostile_fuse_replies_resolve_in_bounds_or_reject_with_fuse_status', async () => {
  const outcomes = { resolved: 0, rejected: 0 };
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: requests.length - 1 }), replyArb, async (i, reply) => {
      const [name, call, check] = requests[i]!;
      const s = new FuseSession(channel(reply));
      let v: unknown;
      try {
        v = await call(s);
      } catch (e) {
        assert.ok(e instanceof FuseStatus, `${name}: ${String(e)}`);
        assert.ok(e.errno > 0 && e.errno <= 4095, `${name}: errno ${e.errno}`);
        outcomes.rejected++;
        return;
      }
      check(v);
      outcomes.resolved++;
    }),
    { numRuns: runs(2000) },
  );
  // The generators reach both outcomes (a framed reply with error 0 and lenDelta 0 succeeds).
  assert.ok(outcomes.resolved > 0 && outcomes.rejected > 0, JSON.stringify(outcomes));
});

test('corpus_fuse_replies_the_session_refuses_with_eio', async () => {
  const raw = (hex: string): Reply => ({ framed: false, lenDelta: 0, error: 0, uniqueDelta: 0, body: Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex')) });
  const framed = (r: Partial<Reply>): Reply => ({ framed: true, lenDelta: 0, error: 0, uniqueDelta: 0, body: new Uint8Array(0), ...r });
  const eio = async (reply: Reply, call: (s: FuseSession) => Promise<unknown>, name: string) => {
    await assert.rejects(call(new FuseSession(channel(reply))), (e) => e instanceof FuseStatus && e.errno === F.ERRNO.EIO, name);
  };
  await eio(raw(''), (s) => s.statfs(), 'empty reply');
  await eio(raw('10000000 00000000 00000000 000000'), (s) => s.statfs(), 'reply shorter than its header (15 bytes)');
  await eio(framed({ lenDelta: -1 }), (s) => s.fsync(1, false), 'out header len 15 < header');
  await eio(framed({ lenDelta: 1 }), (s) => s.fsync(1, false), 'out header len past what the device wrote');
  await eio(framed({ uniqueDelta: 1 }), (s) => s.fsync(1, false), 'another request\'s unique');
  await eio(framed({ error: 1 }), (s) => s.fsync(1, false), 'positive error');
  await eio(framed({ error: -4096 }), (s) => s.fsync(1, false), 'error below -4095');
  await eio(framed({ body: new Uint8Array(F.STATFS_OUT.size - 1) }), (s) => s.statfs(), 'statfs body 1 byte short');
  await eio(framed({ body: new Uint8Array(24) }), (s) => s.readdir(1, 0), 'a dirent with namelen 0');
  await assert.rejects(new FuseSession(channel(framed({ error: -2 }))).lookup(1, NAME), (e) => e instanceof FuseStatus && e.errno === 2, 'ENOENT passes through');
  assert.equal(await new FuseSession(channel(framed({}))).fsync(1, false), undefined, 'a bare header answers fsync');
});
