// Headers, Request, Response, their bodies and the ReadableStream subset: Headers against
// Node's (a random sequence of operations gives the same state, iteration and errors), body
// kinds and consumption rules, constructor checks, and the stream's queueing, pull, cancel,
// locking and async iteration.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { Headers } from './headers.ts';
import { ReadableStream } from './readable_stream.ts';
import { Request, requestFromServer } from './request.ts';
import { Response } from './response.ts';
import { URLSearchParams } from './url.ts';

const NodeHeaders = globalThis.Headers;

test('headers_match_node_under_random_operations', () => {
  const name = fc.constantFrom('Accept', 'accept', 'X-A', 'x-a', 'Set-Cookie', 'set-cookie', 'Content-Type', 'bad name', '', 'é');
  const value = fc.constantFrom('1', ' padded\t', 'a, b', '', 'x\ny', 'nul\0', '\u00e9', '\u0100', 'text/plain');
  const op = fc.oneof(
    fc.tuple(fc.constant('append'), name, value), fc.tuple(fc.constant('set'), name, value),
    fc.tuple(fc.constant('delete'), name, value), fc.tuple(fc.constant('get'), name, value), fc.tuple(fc.constant('has'), name, value),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
    const ours = new Headers();
    const node = new NodeHeaders();
    for (const [o, n, v] of ops) {
      const run = (h: Headers | globalThis.Headers): unknown => {
        try {
          const target = h as unknown as Record<string, (a: string, b: string) => unknown>;
          return target[o]!.call(h, n, v) ?? null;
        } catch (e) {
          return (e as Error).name;
        }
      };
      assert.deepEqual(run(ours), run(node), `${o}(${JSON.stringify(n)}, ${JSON.stringify(v)})`);
    }
    assert.deepEqual([...ours], [...node]);
    assert.deepEqual(ours.getSetCookie(), node.getSetCookie());
  }), { numRuns: 3000 });
});

test('headers_init_forms', () => {
  assert.deepEqual([...new Headers({ B: '2', a: '1' })], [['a', '1'], ['b', '2']]);
  assert.deepEqual([...new Headers([['x', '1'], ['X', '2']])], [['x', '1, 2']]);
  assert.deepEqual([...new Headers(new Headers({ y: 'z' }))], [['y', 'z']]);
  assert.throws(() => new Headers([['only-one']] as unknown as [string, string][]), TypeError);
  const seen: string[] = [];
  new Headers({ a: '1', b: '2' }).forEach((v, k) => seen.push(`${k}=${v}`));
  assert.deepEqual(seen, ['a=1', 'b=2']);
});

test('response_constructor_and_statics', async () => {
  const r = new Response('hi', { status: 201, statusText: 'Made', headers: { 'x-a': '1' } });
  assert.deepEqual([r.status, r.statusText, r.ok, r.headers.get('content-type'), r.headers.get('x-a'), r.type], [201, 'Made', true, 'text/plain;charset=UTF-8', '1', 'default']);
  assert.equal(await r.text(), 'hi');
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), TypeError);
  assert.equal(new Response('x', { headers: { 'content-type': 'text/html' } }).headers.get('content-type'), 'text/html');
  assert.throws(() => new Response(null, { status: 199 }), RangeError);
  assert.throws(() => new Response(null, { status: 600 }), RangeError);
  assert.throws(() => new Response('x', { status: 204 }), TypeError);
  assert.throws(() => new Response(null, { statusText: 'bad\r\n' }), TypeError);
  assert.equal(new Response(null, { status: 304 }).body, null);
  const j = Response.json({ a: [1, 'é'] }, { status: 202 });
  assert.deepEqual([j.status, j.headers.get('content-type'), await j.json()], [202, 'application/json', { a: [1, 'é'] }]);
  assert.throws(() => Response.json(undefined), TypeError);
  const red = Response.redirect('http://a.example/x?y', 301);
  assert.deepEqual([red.status, red.headers.get('location')], [301, 'http://a.example/x?y']);
  assert.throws(() => Response.redirect('http://a.example/', 200), RangeError);
  assert.throws(() => Response.redirect('/relative'), TypeError);
  const e = Response.error();
  assert.deepEqual([e.status, e.type], [0, 'error']);
  assert.equal(new Response(new URLSearchParams({ a: 'b c' })).headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
  assert.equal(await new Response(new URLSearchParams({ a: 'b c' })).text(), 'a=b+c');
});

test('body_kinds_and_consumers', async () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 104, 105]);
  const fromBytes = new Response(bytes);
  bytes[3] = 0; // the body is a copy
  assert.equal(await fromBytes.text(), 'hi'); // BOM dropped
  assert.deepEqual(new Uint8Array(await new Response(new Uint16Array([0x6968]).buffer).arrayBuffer()), new Uint8Array([0x68, 0x69]));
  assert.deepEqual(await new Response(new DataView(new Uint8Array([1, 2]).buffer)).bytes(), new Uint8Array([1, 2]));
  async function* gen(): AsyncGenerator<Uint8Array | string> {
    yield 'a';
    yield new Uint8Array([98]);
  }
  assert.equal(await new Response(gen()).text(), 'ab');
  const streamed = new Response(new ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array([120]));
      c.enqueue(new Uint8Array([121]));
      c.close();
    },
  }));
  const reader = streamed.body!.getReader();
  assert.deepEqual(await reader.read(), { done: false, value: new Uint8Array([120]) });
  assert.equal(streamed.bodyUsed, true);
  await assert.rejects(streamed.text(), TypeError);
  reader.releaseLock();
  const viaBody = new Response('text body');
  const chunks: Uint8Array[] = [];
  for await (const c of viaBody.body!) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString(), 'text body');
  await assert.rejects(new Response(new ReadableStream({ start: (c) => c.enqueue(42 as unknown as Uint8Array) })).text(), TypeError);
  await assert.rejects(new Response('x').formData(), TypeError);
  assert.equal(await new Response().text(), '');
  assert.equal(new Response().body, null);
  const c = new Response('clone me');
  assert.equal(await c.clone().text(), 'clone me');
  assert.equal(await c.text(), 'clone me');
});

test('request_constructor', async () => {
  const r = new Request('http://a.example/p/../q?x#h', { method: 'post', body: 'data', headers: { 'x-y': 'z' } });
  assert.deepEqual([r.url, r.method, r.headers.get('x-y'), r.headers.get('content-type')], ['http://a.example/q?x#h', 'POST', 'z', 'text/plain;charset=UTF-8']);
  assert.equal(new Request('http://a/', { method: 'patch' }).method, 'patch');
  assert.throws(() => new Request('/relative'), TypeError);
  assert.throws(() => new Request('http://a/', { method: 'GET', body: 'x' }), TypeError);
  assert.throws(() => new Request('http://a/', { method: 'CONNECT' }), TypeError);
  assert.throws(() => new Request('http://a/', { method: 'bad method' }), TypeError);
  const copy = new Request(r);
  assert.equal(r.bodyUsed, true);
  assert.equal(await copy.text(), 'data');
  const s = requestFromServer('GET', 'http://h/x', ['host', 'h', 'x-b', '1'], null);
  assert.deepEqual([s.method, s.url, s.headers.get('X-B'), s.body, await s.text()], ['GET', 'http://h/x', '1', null, '']);
  let n = 0;
  const pulled = requestFromServer('POST', 'http://h/', [], { kind: 'pull', next: () => Promise.resolve(n++ < 2 ? new Uint8Array([65 + n]) : null), cancel: () => undefined, length: -1 });
  assert.equal(await pulled.text(), 'BC');
  assert.equal(new Request('http://a/').clone().url, 'http://a/');
});

test('readable_stream_pull_cancel_and_backpressure', async () => {
  let pulls = 0;
  let cancelled: unknown;
  const s = new ReadableStream<number>({
    pull(c) {
      pulls++;
      c.enqueue(pulls);
      if (pulls === 3) c.close();
    },
    cancel(reason) {
      cancelled = reason;
    },
  }, { highWaterMark: 1 });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(pulls, 1); // fills to the high-water mark, no further
  const got: number[] = [];
  for await (const v of s) got.push(v);
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(s.locked, false);
  const t = new ReadableStream<number>({ pull: (c) => c.enqueue(1), cancel: (r) => void (cancelled = r) });
  for await (const v of t) {
    assert.equal(v, 1);
    break; // return() cancels
  }
  assert.equal(cancelled, undefined);
  const u = new ReadableStream<number>({ start: (c) => c.enqueue(1), cancel: (r) => void (cancelled = r) });
  await u.cancel('why');
  assert.equal(cancelled, 'why');
  const locked = new ReadableStream();
  const rd = locked.getReader();
  assert.throws(() => locked.getReader(), TypeError);
  await assert.rejects(locked.cancel(), TypeError);
  rd.releaseLock();
  assert.equal(locked.locked, false);
  const failing = new ReadableStream({ start: (c) => c.error(new Error('bad')) });
  await assert.rejects(failing.getReader().read(), /bad/);
  assert.throws(() => new ReadableStream({ type: 'bytes' } as never), RangeError);
  assert.deepEqual(await (async () => {
    const out: string[] = [];
    for await (const v of ReadableStream.from(['x', 'y'])) out.push(v);
    return out;
  })(), ['x', 'y']);
});
