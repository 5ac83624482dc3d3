// The DNS codec against dns-packet (a well-used implementation, as the peer): random responses
// it encodes (compressed names, A, CNAME and TXT answers) parse to the same records; our
// queries decode to the question asked; random and hostile bytes (pointer loops, forward
// pointers, overlong names, short records) are a DnsFormatError and nothing else.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Buffer } from 'node:buffer';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import '../testing/property.ts';
import { addressesOf, checkDnsName, DnsFormatError, DnsType, encodeDnsQuery, parseDnsMessage } from './dns.ts';
import { formatIpv4Addr } from './ipv4.ts';

const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,14}$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const answer = fc.oneof(
  fc.record({ type: fc.constant('A' as const), name, ttl: fc.nat(86400), data: ipv4 }),
  fc.record({ type: fc.constant('CNAME' as const), name, ttl: fc.nat(86400), data: name }),
  fc.record({ type: fc.constant('TXT' as const), name, ttl: fc.nat(86400), data: fc.string({ maxLength: 30 }) }),
);

test('responses dns-packet encodes parse to the same question and records', () => {
  fc.assert(fc.property(fc.nat(0xffff), name, fc.array(answer, { maxLength: 8 }), fc.constantFrom(0, 3), (id, qname, answers, rcode) => {
    const bytes = dnsPacket.encode({
      type: 'response', id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: [{ type: 'A', name: qname, class: 'IN' }],
      answers: answers.map((a) => ({ ...a, class: 'IN' as const })),
    });
    const r = parseDnsMessage(new Uint8Array(bytes));
    assert.equal(r.id, id);
    assert.equal(r.response, true);
    assert.equal(r.rcode, rcode);
    assert.deepEqual(r.question, { name: qname, type: DnsType.A, class: 1 });
    assert.equal(r.answers.length, answers.length);
    r.answers.forEach((got, i) => {
      const want = answers[i]!;
      assert.equal(got.name, want.name);
      assert.equal(got.ttl, want.ttl);
      if (want.type === 'A') assert.equal(formatIpv4Addr(got.address!), want.data);
      if (want.type === 'CNAME') assert.equal(got.target, want.data);
      if (want.type === 'TXT') assert.equal(got.type, DnsType.TXT);
    });
  }));
});

test('queries decode with dns-packet to the question asked; bad names are refused', () => {
  fc.assert(fc.property(fc.nat(0xffff), name, (id, qname) => {
    const q = dnsPacket.decode(Buffer.from(encodeDnsQuery(id, qname)));
    assert.equal(q.id, id);
    assert.equal(q.type, 'query');
    assert.equal(q.flags! & dnsPacket.RECURSION_DESIRED, dnsPacket.RECURSION_DESIRED);
    assert.deepEqual(q.questions, [{ name: qname, type: 'A', class: 'IN' }]);
  }));
  for (const bad of ['', 'a..b', '.', `${'x'.repeat(64)}.com`, `${'a.'.repeat(127)}a`, 'sp ace.com', 'ünï.com']) {
    assert.notEqual(checkDnsName(bad), undefined, bad);
    assert.throws(() => encodeDnsQuery(1, bad), RangeError, bad);
  }
  assert.equal(checkDnsName('example.com.'), undefined);
});

test('CNAME chains inside the answer lead to the addresses, with the least TTL', () => {
  const bytes = dnsPacket.encode({
    type: 'response', id: 7, questions: [{ type: 'A', name: 'www.example.test' }],
    answers: [
      { type: 'CNAME', name: 'www.example.test', ttl: 300, data: 'edge.cdn.test' },
      { type: 'CNAME', name: 'edge.cdn.test', ttl: 60, data: 'node1.cdn.test' },
      { type: 'A', name: 'node1.cdn.test', ttl: 120, data: '10.0.2.1' },
      { type: 'A', name: 'node1.cdn.test', ttl: 100, data: '10.0.2.9' },
    ],
  });
  const { addresses, ttl } = addressesOf(parseDnsMessage(new Uint8Array(bytes)), 'WWW.example.test.');
  assert.deepEqual(addresses.map(formatIpv4Addr), ['10.0.2.1', '10.0.2.9']);
  assert.equal(ttl, 60);
  assert.deepEqual(addressesOf(parseDnsMessage(new Uint8Array(bytes)), 'other.test').addresses, []);
});

test('hostile messages are a DnsFormatError: pointer loops, forward pointers, overruns', () => {
  const header = (an: number): number[] => [0, 1, 0x81, 0x80, 0, 0, 0, an, 0, 0, 0, 0];
  const cases: [string, number[]][] = [
    ['pointer to itself', [...header(1), 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]],
    ['forward pointer', [...header(1), 0xc0, 14, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]],
    ['label past the end', [...header(1), 9, 97, 98]],
    ['reserved label type', [...header(1), 0x80, 1, 0]],
    ['A record of 3 bytes', [...header(1), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3]],
    ['rdata past the end', [...header(1), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 40, 1, 2]],
    ['short header', [0, 1, 2]],
    ['overlong name', [...header(1), ...Array.from({ length: 5 }, () => [63, ...Array<number>(63).fill(97)]).flat(), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [what, bytes] of cases) assert.throws(() => parseDnsMessage(new Uint8Array(bytes)), DnsFormatError, what);
});

test('random bytes parse or are a DnsFormatError, never another exception', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
    try {
      parseDnsMessage(junk);
    } catch (e) {
      assert.ok(e instanceof DnsFormatError, String(e));
    }
  }), { numRuns: 2000 });
});
