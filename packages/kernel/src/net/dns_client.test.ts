// kiln:net's resolver (NetApi.resolve and connect by name) on two stacks joined by a simulated
// link (testing/sim_net.ts): the other stack runs a DNS server scripted with dns-packet (the
// peer codec). Answers, CNAMEs, NXDOMAIN, no A record, SERVFAIL then a second server, the
// --dns override, answers that must be ignored (wrong id, wrong question, wrong port, junk),
// timeouts on the simulated clock (two rounds, then EAI_AGAIN), the TTL cache and shared
// in-flight queries, literals and localhost without a query, and bad names.

import { strict as assert } from 'node:assert';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { SimClock, SimLink, runUntil } from '../testing/sim_net.ts';
import { NetApi } from './api.ts';
import { StackDriver } from './driver.ts';
import type { IpConfig } from './ip_config.ts';
import { NetError, type TcpLayerApi } from './types.ts';
import type { UdpConn } from './udp_conn.ts';

const noTcp = (): TcpLayerApi => ({
  input() {}, listen: () => assert.fail('no TCP here'), connect: () => assert.fail('no TCP here'), poll() {}, nextDeadline: () => undefined,
});
const cfg = (address: number, dns: number[]): IpConfig => ({ method: 'static', address, netmask: 0xffffff00, gateway: 0, hostname: 'sim', dns });

const GUEST = 0x0a00020f;
const SERVER = 0x0a000202;

type Reply = (q: dnsPacket.Packet) => { reply?: Buffer; port?: number; extra?: Buffer[] } | undefined;

/** A DNS server on 10.0.2.2:53 (and the same script on :5353, unused by the guest) answering with `reply`. */
function setup(reply: Reply, o: { guestDns?: number[]; override?: number[] } = {}) {
  const clock = new SimClock();
  const link = new SimLink(clock, { seed: 3, loss: 0, delayMs: 1 });
  const da = new StackDriver(link.a, clock.env(1), cfg(GUEST, o.guestDns ?? [SERVER]), noTcp);
  const db = new StackDriver(link.b, clock.env(2), cfg(SERVER, []), noTcp);
  const guest = new NetApi(() => da, o.override ? () => o.override : undefined);
  const server = new NetApi(() => db);
  const queries: dnsPacket.Packet[] = [];
  const serve = (sock: UdpConn): void => {
    void (async () => {
      for (;;) {
        let d;
        try {
          d = await sock.receive();
        } catch {
          return;
        }
        const q = dnsPacket.decode(Buffer.from(d.data));
        queries.push(q);
        const r = reply(q);
        if (!r) continue;
        const to = { hostname: d.remoteAddr.hostname, port: d.remoteAddr.port };
        for (const x of r.extra ?? []) await sock.send(new Uint8Array(x), to);
        if (r.port !== undefined) {
          const other = server.listenDatagram({ port: r.port });
          await other.send(new Uint8Array(r.reply!), to);
          other.close();
        } else if (r.reply) await sock.send(new Uint8Array(r.reply), to);
      }
    })();
  };
  const sock = server.listenDatagram({ port: 53 });
  serve(sock);
  const resolve = async (name: string): Promise<string[] | NetError> => {
    let out: string[] | NetError | undefined;
    guest.resolve(name).then((a) => (out = a), (e: NetError) => (out = e));
    await runUntil(clock, () => out !== undefined);
    return out!;
  };
  return { clock, guest, resolve, queries, close: () => sock.close() };
}

const answer = (q: dnsPacket.Packet, answers: dnsPacket.Answer[], rcode = 0): Buffer =>
  dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode, questions: q.questions, answers });
const a = (name: string, data: string, ttl = 60): dnsPacket.Answer => ({ type: 'A', name, data, ttl, class: 'IN' });

const isCode = (code: string, re?: RegExp) => (r: unknown): boolean => r instanceof NetError && r.code === code && (re === undefined || re.test(r.message));

test('a name resolves to its A records, through a CNAME; queries are recursive A queries from random ids', async () => {
  const s = setup((q) => ({ reply: answer(q, q.questions![0]!.name === 'www.kiln.test'
    ? [{ type: 'CNAME', name: 'www.kiln.test', data: 'edge.kiln.test', ttl: 30, class: 'IN' }, a('edge.kiln.test', '10.0.2.7'), a('edge.kiln.test', '10.0.2.8')]
    : [a(q.questions![0]!.name, '10.0.2.9')]) }));
  assert.deepEqual(await s.resolve('WWW.kiln.test.'), ['10.0.2.7', '10.0.2.8']);
  assert.deepEqual(await s.resolve('api.kiln.test'), ['10.0.2.9']);
  assert.equal(s.queries.length, 2);
  assert.deepEqual(s.queries[0]!.questions, [{ name: 'www.kiln.test', type: 'A', class: 'IN' }]);
  assert.ok(s.queries[0]!.flags! & dnsPacket.RECURSION_DESIRED);
  assert.notEqual(s.queries[0]!.id, s.queries[1]!.id);
  s.close();
});

test('NXDOMAIN and a name without an A record are ENOTFOUND; no server is ENOTFOUND saying how to give one', async () => {
  const s = setup((q) => (q.questions![0]!.name === 'gone.test' ? { reply: answer(q, [], 3) } : { reply: answer(q, []) }));
  assert.ok(isCode('ENOTFOUND', /no such name \(NXDOMAIN\)/)(await s.resolve('gone.test')));
  assert.ok(isCode('ENOTFOUND', /no IPv4 \(A\) address/)(await s.resolve('v6only.test')));
  s.close();
  const none = setup(() => undefined, { guestDns: [] });
  assert.ok(isCode('ENOTFOUND', /kiln run --dns/)(await none.resolve('x.test')));
  none.close();
});

test('answers with a wrong id, question or source port, and junk, are ignored; the right one is taken', async () => {
  const s = setup((q) => {
    const wrongId = dnsPacket.encode({ ...dnsPacket.decode(answer(q, [a('x.test', '6.6.6.6')])), id: (q.id! + 1) & 0xffff });
    const wrongQ = dnsPacket.encode({ type: 'response', id: q.id, questions: [{ type: 'A', name: 'evil.test' }], answers: [a('x.test', '6.6.6.6')] });
    return { extra: [wrongId, wrongQ, Buffer.from([1, 2, 3])], reply: answer(q, [a('x.test', '10.0.2.5')]) };
  });
  assert.deepEqual(await s.resolve('x.test'), ['10.0.2.5']);
  s.close();
  const spoof = setup((q) => ({ reply: answer(q, [a('y.test', '6.6.6.6')]), port: 5353 }));
  assert.ok(isCode('EAI_AGAIN', /no answer within 1000 ms; 10\.0\.2\.2: no answer within 2000 ms/)(await spoof.resolve('y.test')), 'an answer from another port does not count');
  assert.equal(spoof.queries.length, 2, 'two rounds');
  spoof.close();
});

test('SERVFAIL from the first server moves on to the next; --dns wins over ip=/DHCP servers', async () => {
  let n = 0;
  const s = setup((q) => (n++ === 0 ? { reply: answer(q, [], 2) } : { reply: answer(q, [a('z.test', '10.0.2.4')]) }), { guestDns: [SERVER, SERVER] });
  assert.deepEqual(await s.resolve('z.test'), ['10.0.2.4']);
  assert.equal(n, 2);
  s.close();
  const o = setup((q) => ({ reply: answer(q, [a('o.test', '10.0.2.6')]) }), { guestDns: [0x0a0002fe], override: [SERVER] });
  assert.deepEqual(await o.resolve('o.test'), ['10.0.2.6']);
  o.close();
});

test('answers are cached for their TTL; concurrent queries for a name share one; TTL 0 is not cached', async () => {
  const s = setup((q) => ({ reply: answer(q, [a(q.questions![0]!.name, '10.0.2.3', q.questions![0]!.name === 'nocache.test' ? 0 : 5)]) }));
  const both = Promise.all([s.guest.resolve('c.test'), s.guest.resolve('c.test')]);
  let done: string[][] | undefined;
  void both.then((r) => (done = r));
  await runUntil(s.clock, () => done !== undefined);
  assert.deepEqual(done, [['10.0.2.3'], ['10.0.2.3']]);
  assert.equal(s.queries.length, 1);
  await s.resolve('c.test');
  assert.equal(s.queries.length, 1, 'cached');
  s.clock.t += 6000;
  await s.resolve('c.test');
  assert.equal(s.queries.length, 2, 'expired after the TTL');
  await s.resolve('nocache.test');
  await s.resolve('nocache.test');
  assert.equal(s.queries.length, 4);
  s.close();
});

test('literals and localhost need no query; bad names are EINVAL; connect resolves names', async () => {
  const s = setup(() => undefined);
  assert.deepEqual(await s.resolve('10.1.2.3'), ['10.1.2.3']);
  assert.deepEqual(await s.resolve('localhost'), ['127.0.0.1']);
  assert.deepEqual(await s.resolve('api.localhost'), ['127.0.0.1']);
  for (const bad of ['a..b', 'sp ace', `${'x'.repeat(64)}.test`]) assert.ok(isCode('EINVAL')(await s.resolve(bad)), bad);
  assert.equal(s.queries.length, 0);
  await assert.rejects(s.guest.connect({ hostname: 'a..b', port: 80 }), isCode('EINVAL'));
  await assert.rejects(s.guest.connect({ hostname: 'ok.test', port: 0 }), isCode('EINVAL'));
  s.close();
});
