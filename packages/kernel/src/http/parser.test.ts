// The request head parser: golden requests, every strictness rule with its status, request
// smuggling shapes (RFC 9112 §6.3, §11.2), limits, incremental input, and properties: any bytes
// give a head, a 4xx/5xx ParseError or "need more" — never an exception — and a valid head
// parses the same however it is split.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '@kiln/common/testing/property.ts';
import { ParseError, parseRequestHead, type HeadLimits, type RequestHead } from './parser.ts';

const LIMITS: HeadLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 100 };
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const parse = (s: string, limits = LIMITS) => parseRequestHead(bytes(s), 0, s.length, limits);

function ok(s: string): RequestHead {
  const r = parse(s);
  assert.ok(r !== null && !(r instanceof ParseError), `expected a head, got ${JSON.stringify(r)} for ${JSON.stringify(s)}`);
  return r;
}

function err(s: string, status: number, limits = LIMITS): void {
  const r = parse(s, limits);
  assert.ok(r instanceof ParseError, `expected ${status}, got ${JSON.stringify(r)} for ${JSON.stringify(s)}`);
  assert.equal(r.status, status, `${r.reason} for ${JSON.stringify(s)}`);
}

test('parse_simple_get', () => {
  const h = ok('GET /plaintext?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent:wrk \r\nAccept: */*\r\n\r\n');
  assert.deepEqual(h, {
    method: 'GET', target: '/plaintext?x=1', minor: 1,
    headers: ['host', 'localhost:8080', 'user-agent', 'wrk', 'accept', '*/*'],
    contentLength: -1, chunked: false, keepAlive: true, expectContinue: false, host: 'localhost:8080', length: 83,
  });
});

test('parse_framing_and_connection', () => {
  assert.equal(ok('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n').contentLength, 42);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42, 42\r\nContent-Length: 42\r\n\r\n').contentLength, 42);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n').chunked, true);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,Chunked\r\n\r\n').chunked, true);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\n\r\n').host, null);
  assert.equal(ok('GET / HTTP/1.2\r\nHost: a\r\n\r\n').minor, 1);
  assert.equal(ok('PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n').expectContinue, true);
  assert.equal(ok('PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n').expectContinue, false);
});

test('parse_targets_and_values', () => {
  assert.equal(ok('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').target, '*');
  assert.equal(ok('GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n').target, 'http://a.example/x');
  assert.equal(ok('M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n').method, 'M-SEARCH');
  assert.equal(ok('GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n').host, '[::1]:80');
  assert.equal(ok('GET / HTTP/1.1\r\nHost:\r\n\r\n').host, '');
  const h = ok('GET / HTTP/1.1\r\nHost: a\r\nX-A:  spaced  out \t\r\nX-B:\r\nX-C: caf\xe9\r\n\r\n');
  assert.deepEqual(h.headers.slice(2), ['x-a', 'spaced  out', 'x-b', '', 'x-c', 'caf\xe9']);
});

test('parse_skips_leading_blank_lines_and_reports_length', () => {
  const s = '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next';
  const h = ok(s);
  assert.equal(h.length, s.indexOf('GET /next'));
});

test('parse_needs_more_until_the_blank_line', () => {
  const s = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
  for (let i = 0; i < s.length; i++) assert.equal(parse(s.slice(0, i)), null, `prefix ${i}`);
  assert.ok(parse(s) !== null);
});

test('parse_rejects_bad_syntax_with_400', () => {
  const bad = [
    'GET / HTTP/1.1\nHost: a\r\n\r\n', // bare LF
    'GET / HTTP/1.1\r\nHost: a\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n\n',
    '\nGET / HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', // bare CR
    'GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n', // NUL
    'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', // DEL
    'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', // obs-fold
    'GET / HTTP/1.1\r\nHost: a\r\n\tX: b\r\n\r\n',
    'GET / HTTP/1.1\r\nHost : a\r\n\r\n', // whitespace before colon
    'GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n', // empty name
    'GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n', // not a token
    'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n',
    'GET /  HTTP/1.1\r\nHost: a\r\n\r\n', // two spaces
    'GET / HTTP/1.1 \r\nHost: a\r\n\r\n',
    ' GET / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n',
    'G(T / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / http/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1\r\nHost: a\r\n\r\n',
    'GET / HTTP/11.1\r\nHost: a\r\n\r\n',
    'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', // non-ASCII target
    'GET x HTTP/1.1\r\nHost: a\r\n\r\n', // not origin/absolute form
    'GET * HTTP/1.1\r\nHost: a\r\n\r\n', // asterisk only for OPTIONS
    'GET / HTTP/1.1\r\n\r\n', // no Host in 1.1
    'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', // two Hosts
    'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', // invalid Host
    'GET / HTTP/1.1\r\nHost: a@b\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a b\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456\r\n\r\n', // beyond 15 digits
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n',
  ];
  for (const s of bad) err(s, 400);
});

test('parse_bad_bytes_in_an_unfinished_head_are_400_at_once', () => {
  // Without waiting for the end of the head (and the header timeout): a bare CR, NULs, controls.
  for (const s of ['GET / HTTP/1.1\rHost: a\r\r', '\0'.repeat(1000), 'GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m', 'GET /\x7f', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'GET / HTTP/1.1\r\n\rX']) err(s, 400);
  // Still unfinished, nothing wrong yet: a CR that may be followed by its LF, tabs, obs-text.
  for (const s of ['GET / HTTP/1.1\r', 'GET / HTTP/1.1\r\nX: a\tb\xff\r']) assert.equal(parse(s), null, JSON.stringify(s));
  // Bytes before `from` were checked by an earlier call.
  const b = bytes('GET / HTTP/1.1\r\nHost: a\r\nX: \x01');
  assert.ok(parseRequestHead(b, 0, b.length, LIMITS, b.length - 1) instanceof ParseError);
  assert.equal(parseRequestHead(b, 0, b.length - 1, LIMITS, 0), null);
});

test('parse_absolute_form_is_plain_http_without_userinfo', () => {
  assert.equal(ok('GET HTTP://a.example/x@y HTTP/1.1\r\nHost: a.example\r\n\r\n').target, 'HTTP://a.example/x@y');
  for (const s of ['GET http://a:b@host/ HTTP/1.1\r\nHost: host\r\n\r\n', 'GET http://u@host HTTP/1.1\r\nHost: host\r\n\r\n', 'GET http://host\\@evil/ HTTP/1.1\r\nHost: host\r\n\r\n',
    'GET https://host/ HTTP/1.1\r\nHost: host\r\n\r\n', 'GET ftp://host/ HTTP/1.1\r\nHost: host\r\n\r\n', 'OPTIONS https://host HTTP/1.1\r\nHost: host\r\n\r\n']) err(s, 400);
});

test('parse_smuggling_shapes_are_400', () => {
  const smuggling = [
    // CL.CL: conflicting lengths, in one line or two
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n',
    // CL.TE and TE.CL: both framings
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n',
    // TE variants other parsers read differently
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\r\n : chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'.replace('chunked\r\n', 'chunked\n'),
    // Transfer-Encoding in HTTP/1.0
    'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
  ];
  for (const s of smuggling) err(s, 400);
});

test('parse_other_statuses', () => {
  err('GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505);
  err('GET / HTTP/0.9\r\nHost: a\r\n\r\n', 505);
  err('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501);
  err('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n', 501);
  err('PUT / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n', 417);
});

test('parse_limits', () => {
  const small: HeadLimits = { maxHeadBytes: 64, maxHeaders: 3 };
  err(`GET /${'a'.repeat(100)}`, 414, small);
  err(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(60)}`, 431, small);
  err(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(60)}\r\n\r\n`, 431, small);
  err('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 431, small);
  assert.ok(!(parse('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n', small) instanceof ParseError));
  // Exactly at the limit is accepted.
  const exact = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(64 - 32)}\r\n\r\n`;
  assert.equal(exact.length, 64);
  assert.ok(!(parse(exact, small) instanceof ParseError));
  err(`${exact.slice(0, 28)}b${exact.slice(28)}`, 431, small);
});

test('parse_any_bytes_never_throws', () => {
  const token = fc.constantFrom('GET', 'POST', ' ', '/', 'HTTP/1.1', 'HTTP/1.0', '\r\n', '\r', '\n', ':', 'Host', 'Content-Length', 'Transfer-Encoding',
    'chunked', '5', ',', '\t', 'a', '\0', '\xff', 'Expect', '100-continue', 'Connection', 'close', '*', 'http://a/');
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.array(token, { maxLength: 40 }).map((t) => bytes(t.join(''))),
  );
  const small: HeadLimits = { maxHeadBytes: 120, maxHeaders: 5 };
  fc.assert(fc.property(input, fc.boolean(), (b, useSmall) => {
    const r = parseRequestHead(b, 0, b.length, useSmall ? small : LIMITS);
    if (r instanceof ParseError) assert.ok(r.status >= 400 && r.status < 600 && r.reason.length > 0);
    else if (r !== null) assert.ok(r.length > 0 && r.length <= b.length && r.method.length > 0);
  }), { numRuns: runs(10000) });
});

test('parse_valid_heads_from_offsets_and_with_trailing_bytes', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
  const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);
  fc.assert(fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), fc.uint8Array({ maxLength: 20 }), fc.nat(10), (fields, tail, pad) => {
    const filtered = fields.filter(([n]) => !['host', 'content-length', 'transfer-encoding', 'expect', 'connection'].includes(n.toLowerCase()));
    const head = `GET /p HTTP/1.1\r\nHost: h\r\n${filtered.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    const buf = new Uint8Array(pad + head.length + tail.length);
    buf.set(bytes(head), pad);
    buf.set(tail, pad + head.length);
    const r = parseRequestHead(buf, pad, buf.length, LIMITS);
    assert.ok(r !== null && !(r instanceof ParseError), JSON.stringify(r));
    assert.equal(r.length, head.length);
    assert.deepEqual(r.headers, ['host', 'h', ...filtered.flatMap(([n, v]) => [n.toLowerCase(), v])]);
  }), { numRuns: 2000 });
});
