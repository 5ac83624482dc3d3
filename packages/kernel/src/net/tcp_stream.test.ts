// Two full stacks (interface + TcpLayer) in one process, joined frame to frame by a seeded
// simulated link, used through kiln:net's API (NetApi, TcpStream, TcpStreamListener) with a simulated clock:
// an echo exchange, bulk data both ways intact over links that lose, duplicate and reorder
// frames, close() delivering what was written, connect errors (refused, no route, timeout),
// idle timeouts, listener close, and the keep-alive rule (nothing held once all is closed).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { SimClock, SimLink, runUntil, seededRandom, type LinkOptions } from '../testing/sim_net.ts';
import { NetApi } from './api.ts';
import { StackDriver } from './driver.ts';
import type { IpConfig } from './ip_config.ts';
import type { TcpStream } from './tcp_stream.ts';
import { TcpLayer } from './tcp/layer.ts';
import { NetError } from './types.ts';

const A = 0x0a00020f; // 10.0.2.15
const B = 0x0a000202; // 10.0.2.2
const cfg = (address: number): IpConfig => ({ method: 'static', address, netmask: 0xffffff00, gateway: 0, hostname: '', dns: [] });

function pair(link: Omit<LinkOptions, 'seed'> = {}, seed = 1) {
  const clock = new SimClock();
  const l = new SimLink(clock, { seed, delayMs: 1, ...link });
  const da = new StackDriver(l.a, clock.env(seed * 2 + 1), cfg(A), (o) => new TcpLayer(o));
  const db = new StackDriver(l.b, clock.env(seed * 2 + 2), cfg(B), (o) => new TcpLayer(o));
  return { clock, link: l, da, db, a: new NetApi(() => da), b: new NetApi(() => db) };
}

/** Settles a promise inside the simulation. */
async function sim<T>(clock: SimClock, p: Promise<T>, limitMs?: number): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then((v) => ((done = true), (value = v)), (e: unknown) => ((done = true), (error = e)));
  await runUntil(clock, () => done, limitMs);
  if (error !== undefined) throw error;
  return value as T;
}

async function readAll(conn: TcpStream, chunk = 8192): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(chunk);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const code = (c: string) => (e: unknown): boolean => e instanceof NetError && e.code === c;

test('tcp_echo_through_the_kiln_net_api', async () => {
  const { clock, a, b, da, db } = pair();
  const listener = b.listen({ port: 7 });
  assert.deepEqual(listener.addr, { transport: 'tcp', hostname: '0.0.0.0', port: 7 });
  const server = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(100);
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) await conn.write(buf.subarray(0, n));
      conn.close();
      listener.close();
    }
  })();
  const conn = await sim(clock, a.connect({ hostname: '10.0.2.2', port: 7 }));
  assert.deepEqual(conn.remoteAddr, { transport: 'tcp', hostname: '10.0.2.2', port: 7 });
  assert.equal(conn.localAddr.hostname, '10.0.2.15');
  assert.equal(await sim(clock, conn.write(new TextEncoder().encode('hello, kiln'))), 11);
  await sim(clock, conn.closeWrite());
  const echoed = await sim(clock, readAll(conn));
  assert.equal(new TextDecoder().decode(echoed), 'hello, kiln');
  conn.close();
  await sim(clock, server);
  await runUntil(clock, () => !da.held && !db.held);
  await assert.rejects(conn.write(new Uint8Array(1)), code('EPIPE'));
  assert.equal(await conn.read(new Uint8Array(1)), null);
});

for (const [name, link, seed] of [
  ['clean', {}, 1],
  ['lossy_5pct_dup_2pct_reordering', { loss: 0.05, duplicate: 0.02, jitterMs: 3 }, 2],
  ['lossy_10pct_reordering', { loss: 0.1, jitterMs: 5 }, 3],
  ['lossy_2pct_dup_10pct_heavy_reordering', { loss: 0.02, duplicate: 0.1, jitterMs: 20 }, 4],
] as [string, Omit<LinkOptions, 'seed'>, number][]) {
  test(`tcp_bulk_both_ways_intact_${name}`, async () => {
    const { clock, a, b, da, db, link: l } = pair(link, seed);
    const up = randomBytes(300_000, seed);
    const down = randomBytes(200_000, seed + 100);
    const listener = b.listen({ port: 5001 });
    const server = (async () => {
      const conn = await listener.accept();
      listener.close();
      const got = await readAll(conn, 3000);
      await conn.write(down);
      conn.close();
      return got;
    })();
    const conn = await sim(clock, a.connect({ hostname: '10.0.2.2', port: 5001 }));
    const client = (async () => {
      for (let at = 0; at < up.length; at += 50_000) await conn.write(up.subarray(at, at + 50_000));
      await conn.closeWrite();
      const got = await readAll(conn, 5000);
      conn.close();
      return got;
    })();
    const [atServer, atClient] = await sim(clock, Promise.all([server, client]));
    assert.equal(atServer.length, up.length);
    assert.ok(Buffer.from(atServer).equals(Buffer.from(up)), 'client → server intact');
    assert.equal(atClient.length, down.length);
    assert.ok(Buffer.from(atClient).equals(Buffer.from(down)), 'server → client intact');
    await runUntil(clock, () => !da.held && !db.held);
    if (link.loss) assert.ok(l.stats.lost > 0, 'the link did lose frames');
  });
}

test('close_after_write_delivers_everything_and_then_lets_go', async () => {
  const { clock, a, b, da, db } = pair({ loss: 0.03 }, 9);
  const data = randomBytes(150_000, 9);
  const listener = b.listen({ port: 80 });
  const got = (async () => {
    const c = await listener.accept();
    listener.close();
    const all = await readAll(c);
    c.close();
    return all;
  })();
  const conn = await sim(clock, a.connect({ hostname: '10.0.2.2', port: 80 }));
  await sim(clock, conn.write(data)); // taken into the send buffer, not yet delivered
  conn.close();
  assert.ok(da.held, 'the closing connection still holds the driver');
  const all = await sim(clock, got);
  assert.ok(Buffer.from(all).equals(Buffer.from(data)));
  await runUntil(clock, () => !da.held && !db.held);
});

test('connect_errors_refused_no_route_timeout_and_bad_arguments', async () => {
  const { clock, a, da, db } = pair();
  db.hold(); // B is up (as a real host would be) with nothing on port 9
  await assert.rejects(sim(clock, a.connect({ hostname: '10.0.2.2', port: 9 })), code('ECONNREFUSED'));
  await assert.rejects(sim(clock, a.connect({ hostname: '8.8.8.8', port: 53 })), code('ENETUNREACH'));
  const t0 = clock.t;
  await assert.rejects(sim(clock, a.connect({ hostname: '10.0.2.77', port: 80, timeoutMs: 3000 })), code('ETIMEDOUT'));
  assert.equal(clock.t - t0, 3000);
  await assert.rejects(a.connect({ hostname: 'not a name', port: 80 }), code('EINVAL'));
  await assert.rejects(a.connect({ hostname: '10.0.2.2', port: 0 }), code('EINVAL'));
  await assert.rejects(a.connect({ hostname: '10.0.2.2', port: 1, timeoutMs: -1 }), code('EINVAL'));
  await runUntil(clock, () => !da.held);
});

test('idle_timeout_aborts_the_connection_and_the_peer_sees_a_reset', async () => {
  const { clock, a, b } = pair();
  const listener = b.listen({ port: 7, idleTimeoutMs: 2000 });
  const accepted = sim(clock, listener.accept());
  const conn = await sim(clock, a.connect({ hostname: '10.0.2.2', port: 7 }));
  const s = await accepted;
  const t0 = clock.t;
  await assert.rejects(sim(clock, s.read(new Uint8Array(10))), code('ETIMEDOUT'));
  assert.ok(clock.t - t0 >= 2000 && clock.t - t0 < 2100, `${clock.t - t0} ms`);
  await assert.rejects(sim(clock, conn.read(new Uint8Array(10))), code('ECONNRESET'));
  await assert.rejects(s.write(new Uint8Array(1)), code('ETIMEDOUT'));
  listener.close();
  conn.close();
});

test('idle_timer_is_reset_by_traffic', async () => {
  const { clock, a, b } = pair();
  const listener = b.listen({ port: 7 });
  const accepted = sim(clock, listener.accept());
  const conn = await sim(clock, a.connect({ hostname: '10.0.2.2', port: 7, idleTimeoutMs: 1000 }));
  const s = await accepted;
  for (let i = 0; i < 5; i++) {
    await sim(clock, new Promise<void>((r) => clock.setTimeout(r, 600)));
    await sim(clock, s.write(Uint8Array.of(i)));
    assert.equal(await sim(clock, conn.read(new Uint8Array(1))), 1);
  }
  assert.ok(clock.t > 3000, 'alive well past the idle timeout thanks to traffic');
  conn.close();
  s.close();
  listener.close();
});

test('listener_close_ends_accept_and_listen_errors', async () => {
  const { clock, a, b, db } = pair();
  const l = b.listen({ port: 8080, hostname: '10.0.2.2', backlog: 4 });
  assert.throws(() => b.listen({ port: 8080 }), code('EADDRINUSE'));
  assert.throws(() => b.listen({ port: 8081, hostname: '10.0.2.3' }), code('EADDRNOTAVAIL'));
  assert.throws(() => b.listen({ port: 70000 }), code('EINVAL'));
  assert.throws(() => b.listen({ port: 1, backlog: 0 }), code('EINVAL'));
  const pending = l.accept();
  l.close();
  await assert.rejects(pending, code('EBADF'));
  await assert.rejects(l.accept(), code('EBADF'));
  await runUntil(clock, () => !db.held);
  db.hold(); // B stays up with nothing listening: a SYN gets RST
  await assert.rejects(sim(clock, a.connect({ hostname: '10.0.2.2', port: 8080 })), code('ECONNREFUSED'));
});

test('reads_wait_for_data_and_zero_length_reads_return_0', async () => {
  const { clock, a, b } = pair();
  const l = b.listen({ port: 7 });
  const accepted = sim(clock, l.accept());
  const conn = await sim(clock, a.connect({ hostname: '10.0.2.2', port: 7 }));
  const s = await accepted;
  assert.equal(await conn.read(new Uint8Array(0)), 0);
  const r1 = conn.read(new Uint8Array(3));
  const r2 = conn.read(new Uint8Array(3));
  s.setNoDelay(true);
  await sim(clock, s.write(Uint8Array.of(1, 2, 3, 4, 5)));
  assert.equal(await sim(clock, r1), 3);
  assert.equal(await sim(clock, r2), 2);
  s.close();
  assert.equal(await sim(clock, conn.read(new Uint8Array(3))), null);
  await assert.rejects(conn.read('x' as unknown as Uint8Array), code('EINVAL'));
  conn.close();
  l.close();
});

test('zero_length_read_queued_behind_another_does_not_stall_the_readers', async () => {
  // A read of 0 bytes waiting behind a pending read used to sit at the head of the queue for
  // ever (the socket gives it 0 bytes, which meant "nothing yet"), and every read after it too.
  const { clock, a, b } = pair();
  const l = b.listen({ port: 7 });
  const accepted = sim(clock, l.accept());
  const conn = await sim(clock, a.connect({ hostname: '10.0.2.2', port: 7 }));
  const s = await accepted;
  s.setNoDelay(true);
  const r1 = conn.read(new Uint8Array(2));
  const r0 = conn.read(new Uint8Array(0));
  const r2 = conn.read(new Uint8Array(8));
  await sim(clock, s.write(Uint8Array.of(1, 2, 3, 4, 5)));
  assert.equal(await sim(clock, r1), 2);
  assert.equal(await sim(clock, r0), 0);
  assert.equal(await sim(clock, r2), 3);
  // and at end of stream a queued zero-length read gets null like the others
  const r3 = conn.read(new Uint8Array(4));
  const r4 = conn.read(new Uint8Array(0));
  s.close();
  assert.equal(await sim(clock, r3), null);
  assert.equal(await sim(clock, r4), null);
  conn.close();
  l.close();
});

test('tcp_to_ourselves_over_loopback_and_our_own_address', async () => {
  const { clock, a, da, link } = pair();
  const l = a.listen({ port: 9000 });
  const server = (async () => {
    for (let i = 0; i < 2; i++) {
      const c = await l.accept();
      const got = await readAll(c);
      await c.write(got);
      c.close();
    }
    l.close();
  })();
  for (const hostname of ['127.0.0.1', '10.0.2.15']) {
    const c = await sim(clock, a.connect({ hostname, port: 9000 }));
    assert.equal(c.localAddr.hostname, hostname);
    const data = randomBytes(100_000, 5);
    await sim(clock, c.write(data));
    await sim(clock, c.closeWrite());
    const back = await sim(clock, readAll(c));
    assert.ok(Buffer.from(back).equals(Buffer.from(data)), hostname);
    c.close();
  }
  await sim(clock, server);
  await runUntil(clock, () => !da.held);
  assert.equal(link.stats.frames, 2, 'only the two gratuitous ARPs went on the wire');
});
