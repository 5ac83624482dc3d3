// The HTTP server against real peers in one Node process: the server runs over node:net through
// the Conn/Listener adapter (testing/node_net.ts) and is hit by Node's fetch and http client,
// curl (--http1.1), and raw sockets for what clients will not send: pipelining, malformed and
// hostile requests, Expect: 100-continue, HTTP/1.0, limits, and timeouts (short real ones and
// an injected clock).

import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { NodeListener } from '../testing/node_net.ts';
import { ReadableStream } from '../web/readable_stream.ts';
import type { Request } from '../web/request.ts';
import { Response } from '../web/response.ts';
import { HttpServer, serveListener, type ServerOptions } from './server.ts';
import { CONNECTION_COST_BYTES, limitsForHeap, type Handler, type ServerClock } from './types.ts';

const servers: HttpServer[] = [];
after(() => Promise.all(servers.map((s) => s.shutdown())));

async function start(handler: Handler, options: ServerOptions = {}): Promise<{ port: number; server: HttpServer; base: string }> {
  const listener = await NodeListener.listen();
  const server = serveListener(listener, handler, options);
  servers.push(server);
  return { port: listener.addr.port, server, base: `http://127.0.0.1:${listener.addr.port}` };
}

const echoHandler: Handler = async (req) => {
  const body = await req.text();
  return Response.json({ method: req.method, url: req.url, body, headers: Object.fromEntries(req.headers) });
};

/** A raw TCP client: send bytes, read until a condition, see the close. */
class Raw {
  data = '';
  closed = false;
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.data += d;
      this.wake();
    });
    // The server's FIN counts as closed (it then waits for ours, which end()/destroy() send).
    const closed = (): void => {
      this.closed = true;
      this.wake();
    };
    socket.on('end', closed);
    socket.on('close', closed);
    socket.on('error', () => undefined);
  }
  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  send(s: string | Uint8Array): void {
    this.socket.write(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  }
  async until(pred: (data: string) => boolean, ms = 3000): Promise<string> {
    const end = Date.now() + ms;
    while (!pred(this.data)) {
      if (this.closed || Date.now() > end) throw new Error(`timed out (closed=${this.closed}) waiting; got ${JSON.stringify(this.data)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.data;
  }
  async waitClosed(ms = 3000): Promise<string> {
    const end = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > end) throw new Error(`not closed; got ${JSON.stringify(this.data)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.data;
  }
  /** Responses seen so far ("HTTP/1.1 200 OK" lines). */
  statuses(): string[] {
    return this.data.split('\r\n').filter((l) => l.startsWith('HTTP/1.1 '));
  }
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
}

const responseCount = (data: string): number => data.split('HTTP/1.1 ').length - 1;

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['--http1.1', '-sS', '--max-time', '10', ...args], { encoding: 'latin1' }, (e, stdout, stderr) => (e ? reject(Object.assign(e, { stderr })) : resolve({ stdout, stderr })));
  });
}

describe('fetch and node:http clients', () => {
  test('get_and_post_with_fetch', async () => {
    const { base } = await start(echoHandler);
    const r = await fetch(`${base}/a/b?x=1&y=%20`, { headers: { 'X-Test': 'yes' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.match(r.headers.get('date')!, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const j = (await r.json()) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(j.method, 'GET');
    assert.equal(j.url, `${base}/a/b?x=1&y=%20`);
    assert.equal(j.headers['x-test'], 'yes');
    const p = await fetch(`${base}/post`, { method: 'POST', body: 'caf\u00e9 ☕' });
    assert.equal(((await p.json()) as { body: string }).body, 'caf\u00e9 ☕');
  });

  test('status_text_headers_and_bodies', async () => {
    const { base } = await start((req) => {
      const path = new URL(req.url).pathname;
      if (path === '/teapot') return new Response('short and stout', { status: 418, headers: { 'x-a': '1', 'set-cookie': 'a=1' } });
      if (path === '/custom') return new Response(null, { status: 299, statusText: 'Fine Thanks' });
      if (path === '/bytes') return new Response(new Uint8Array([0, 1, 2, 255]));
      if (path === '/empty') return new Response(null, { status: 204 });
      if (path === '/redirect') return Response.redirect('http://example.com/x', 307);
      if (path === '/error') return Response.error();
      return new Response('?', { status: 404 });
    });
    const t = await fetch(`${base}/teapot`);
    assert.deepEqual([t.status, t.statusText, t.headers.get('x-a'), t.headers.get('set-cookie'), await t.text()], [418, "I'm a teapot", '1', 'a=1', 'short and stout']);
    const c = await fetch(`${base}/custom`);
    assert.deepEqual([c.status, c.statusText, c.headers.get('content-length')], [299, 'Fine Thanks', '0']);
    assert.deepEqual(new Uint8Array(await (await fetch(`${base}/bytes`)).arrayBuffer()), new Uint8Array([0, 1, 2, 255]));
    const e = await fetch(`${base}/empty`);
    assert.deepEqual([e.status, e.headers.get('content-length'), await e.text()], [204, null, '']);
    const r = await fetch(`${base}/redirect`, { redirect: 'manual' });
    assert.deepEqual([r.status, r.headers.get('location')], [307, 'http://example.com/x']);
    assert.equal((await fetch(`${base}/error`)).status, 500);
  });

  test('keep_alive_reuses_one_connection', async () => {
    const { port, server } = await start(() => new Response('hello'));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (): Promise<string> => new Promise((resolve, reject) => {
      httpRequest({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (s += d));
        res.on('end', () => resolve(s));
      }).on('error', reject).end();
    });
    for (let i = 0; i < 20; i++) assert.equal(await get(), 'hello');
    agent.destroy();
    assert.equal(server.stats().accepted, 1);
  });

  test('streamed_response_is_chunked_and_request_body_streams_through', async () => {
    const { base } = await start(async (req) => {
      if (req.method === 'POST') return new Response(req.body); // echo, streaming both ways
      async function* gen(): AsyncGenerator<string | Uint8Array> {
        yield 'one,';
        yield new Uint8Array([116, 119, 111, 44]); // "two,"
        yield 'three';
      }
      return new Response(gen(), { headers: { 'content-type': 'text/plain' } });
    });
    const g = await fetch(`${base}/`);
    assert.equal(g.headers.get('transfer-encoding'), 'chunked');
    assert.equal(await g.text(), 'one,two,three');
    const big = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 31) & 255);
    const p = await fetch(`${base}/`, { method: 'POST', body: big });
    assert.deepEqual(new Uint8Array(await p.arrayBuffer()), big);
    // A chunked request body, streamed by fetch.
    const stream = new globalThis.ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('streamed '));
        c.enqueue(new TextEncoder().encode('upload'));
        c.close();
      },
    });
    const s = await fetch(`${base}/`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    assert.equal(await s.text(), 'streamed upload');
  });

  test('readable_stream_body_with_content_length', async () => {
    const { base } = await start(() => new Response(new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array([104, 105]));
        c.close();
      },
    }), { headers: { 'content-length': '2' } }));
    const r = await fetch(base);
    assert.deepEqual([r.headers.get('content-length'), r.headers.get('transfer-encoding'), await r.text()], ['2', null, 'hi']);
  });

  test('handler_errors_are_500_and_the_server_goes_on', async () => {
    const logged: unknown[] = [];
    const { base } = await start((req) => {
      const p = new URL(req.url).pathname;
      if (p === '/throw') throw new Error('boom');
      if (p === '/reject') return Promise.reject(new Error('async boom'));
      if (p === '/notresponse') return 'nope' as unknown as Response;
      return new Response('fine');
    }, { onError: (e) => (logged.push(e), new Response(`sorry: ${(e as Error).message}`, { status: 500 })) });
    assert.deepEqual([(await fetch(`${base}/throw`)).status, await (await fetch(`${base}/reject`)).text()], [500, 'sorry: async boom']);
    assert.equal((await fetch(`${base}/notresponse`)).status, 500);
    assert.equal(await (await fetch(`${base}/ok`)).text(), 'fine');
    assert.equal(logged.length, 3);
    // The default onError logs and answers 500.
    const { base: b2 } = await start(() => {
      throw new Error('default');
    });
    const origError = console.error;
    console.error = () => undefined;
    try {
      const r = await fetch(b2);
      assert.deepEqual([r.status, await r.text()], [500, 'Internal Server Error']);
    } finally {
      console.error = origError;
    }
  });
});

describe('logs', () => {
  /** Runs `f` with console.error captured. */
  async function captureErrors(f: () => Promise<void>): Promise<string> {
    const orig = console.error;
    const out: string[] = [];
    console.error = (...a: unknown[]) => void out.push(a.map(String).join(' '));
    try {
      await f();
    } finally {
      console.error = orig;
    }
    return out.join('\n');
  }

  test('a_failing_handler_logs_the_request_path_escaped', async () => {
    const { port } = await start((req) => {
      throw new Error(`cannot serve ${decodeURIComponent(new URL(req.url).pathname)}`);
    });
    const log = await captureErrors(async () => {
      const raw = await Raw.open(port);
      raw.send('GET /%1B[2J%1B]0;owned%07%0D%0Afake HTTP/1.1\r\nHost: a\r\n\r\n');
      await raw.until((d) => d.endsWith('Internal Server Error'));
      raw.destroy();
    });
    assert.match(log, /the handler failed: Error: cannot serve \/\\x1b\[2J\\x1b\]0;owned\\x07\\x0d\\x0afake\n/);
    assert.ok(!/[\x00-\x09\x0b-\x1f]/.test(log), JSON.stringify(log));
  });

  test('clients_resetting_mid_body_log_one_line_each_rate_limited', async () => {
    const { port } = await start(async (req) => new Response(String((await req.arrayBuffer()).byteLength)));
    const log = await captureErrors(async () => {
      for (let i = 0; i < 8; i++) {
        const raw = await Raw.open(port);
        raw.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nxxxx');
        await new Promise((r) => setTimeout(r, 20));
        raw.socket.resetAndDestroy();
        await raw.waitClosed();
      }
      await new Promise((r) => setTimeout(r, 50));
    });
    const lines = log.split('\n').filter((l) => l !== '');
    assert.ok(lines.length >= 1 && lines.length <= 5, log);
    for (const l of lines) assert.match(l, /^kiln:http: the connection failed inside a request body: \w*Error: /, log);
  });
});

const curlMissing = spawnSync('curl', ['--version']).status === 0 ? undefined : 'curl is not installed (scripts/setup.sh installs it)';

describe('curl', { skip: curlMissing }, () => {
  test('curl_get_post_chunked_upload_and_connection_reuse', async () => {
    const { base, server } = await start(echoHandler);
    const g = await curl(['-i', `${base}/hello?q=1`]);
    assert.match(g.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(g.stdout, /content-length: \d+\r\n/);
    assert.match(g.stdout, /"url":"http:\/\/127\.0\.0\.1:\d+\/hello\?q=1"/);
    const p = await curl(['--data-binary', 'abc=def', `${base}/p`]);
    assert.equal((JSON.parse(p.stdout) as { body: string }).body, 'abc=def');
    const c = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', 'chunky', `${base}/c`]);
    assert.equal((JSON.parse(c.stdout) as { body: string }).body, 'chunky');
    const before = server.stats().accepted;
    const two = await curl(['-v', `${base}/1`, `${base}/2`]);
    assert.match(two.stderr, /Re-using existing connection|Reusing existing/);
    assert.equal(server.stats().accepted - before, 1);
    const head = await curl(['-I', `${base}/h`]);
    assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head.stdout, /content-length: /);
  });
});

describe('raw sockets', () => {
  test('pipelined_requests_are_answered_in_order', async () => {
    const { port } = await start(async (req) => new Response(`${new URL(req.url).pathname}:${await req.text()}`));
    const raw = await Raw.open(port);
    raw.send('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\nGET /4 HTTP/1.1\r\nHost: a\r\n\r\n');
    const data = await raw.until((d) => responseCount(d) === 4 && d.endsWith('/4:'));
    const bodies = data.split('\r\n\r\n').slice(1).map((b) => b.split('HTTP/1.1')[0]);
    assert.deepEqual(bodies, ['/1:', '/2:abc', '/3:xy', '/4:']);
    assert.equal(raw.closed, false);
    // Split across writes, byte by byte, still one request.
    const req = 'GET /5 HTTP/1.1\r\nHost: a\r\n\r\n';
    for (const ch of req) raw.send(ch);
    await raw.until((d) => d.endsWith('/5:'));
    raw.destroy();
  });

  test('head_has_length_but_no_body', async () => {
    const { port } = await start(() => new Response('twelve bytes'));
    const raw = await Raw.open(port);
    raw.send('HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const d = await raw.until((x) => x.endsWith('twelve bytes'));
    assert.equal(responseCount(d), 2);
    assert.match(d, /^HTTP\/1\.1 200 OK\r\n[^]*content-length: 12\r\n\r\nHTTP\/1\.1 200 OK/);
    raw.destroy();
  });

  test('expect_100_continue', async () => {
    const { port } = await start(async (req) => (new URL(req.url).pathname === '/read' ? new Response(`got ${await req.text()}`) : new Response('no thanks', { status: 403 })));
    const raw = await Raw.open(port);
    raw.send('PUT /read HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    await raw.until((d) => d === 'HTTP/1.1 100 Continue\r\n\r\n');
    raw.send('hello');
    await raw.until((d) => d.endsWith('got hello'));
    raw.destroy();
    // A handler that answers without reading: no 100, and the connection closes after the response.
    const r2 = await Raw.open(port);
    r2.send('PUT /refuse HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    const d = await r2.until((x) => x.endsWith('no thanks'));
    assert.ok(!d.includes('100 Continue'));
    assert.match(d, /connection: close\r\n/);
    r2.end();
    await r2.waitClosed();
  });

  test('expect_100_continue_comes_before_a_response_that_streams_the_request_body', async () => {
    const { port } = await start((req) => new Response(req.body));
    for (const framing of ['Content-Length: 5', 'Transfer-Encoding: chunked']) {
      const raw = await Raw.open(port);
      raw.send(`PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n${framing}\r\n\r\n`);
      // The interim response, whole, before any byte of the final one.
      const first = await raw.until((d) => d.includes('\r\n\r\n'));
      assert.ok(first.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), framing);
      raw.send(framing.startsWith('Content') ? 'hello' : '5\r\nhello\r\n0\r\n\r\n');
      const d = await raw.until((x) => x.endsWith('0\r\n\r\n'));
      assert.match(d, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n$/, framing);
      assert.equal(d.split('100 Continue').length, 2, framing);
      // The body was read whole: the connection goes on.
      raw.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await raw.until((x) => responseCount(x) === 3);
      raw.destroy();
    }
  });

  test('http_1_0_closes_unless_keep_alive_and_streams_until_close', async () => {
    const { port } = await start((req) => (new URL(req.url).pathname === '/stream' ? new Response(ReadableStream.from(['a', 'b'])) : new Response('ten')));
    const a = await Raw.open(port);
    a.send('GET / HTTP/1.0\r\n\r\n');
    assert.match(await a.waitClosed(), /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nten$/);
    const b = await Raw.open(port);
    b.send('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.match(await b.until((d) => d.endsWith('ten')), /connection: keep-alive\r\n/);
    b.send('GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const d = await b.waitClosed();
    const second = d.slice(d.indexOf('HTTP/1.1', 5));
    assert.ok(!second.includes('transfer-encoding'));
    assert.match(second, /connection: close\r\n\r\nab$/);
  });

  test('malformed_requests_get_400_and_close', async () => {
    const { port } = await start(async (req) => {
      await req.text();
      return new Response('ok');
    });
    for (const bad of ['GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n', 'GET / HTTP/1.1\nHost: a\n\n', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n']) {
      const raw = await Raw.open(port);
      raw.send(bad);
      const d = await raw.waitClosed();
      assert.match(d, /^HTTP\/1\.1 400 Bad Request\r\n[^]*connection: close\r\n/, JSON.stringify(bad));
    }
    const v = await Raw.open(port);
    v.send('GET / HTTP/2.0\r\nHost: a\r\n\r\n');
    assert.match(await v.waitClosed(), /^HTTP\/1\.1 505 /);
    const te = await Raw.open(port);
    te.send('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n');
    assert.match(await te.waitClosed(), /^HTTP\/1\.1 501 /);
    const chunk = await Raw.open(port);
    chunk.send('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    assert.match(await chunk.waitClosed(), /^HTTP\/1\.1 400 /);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
  });

  test('bad_bytes_get_400_at_once_not_after_the_header_timeout', async () => {
    const { port } = await start(async (req) => new Response(await req.text()));
    for (const bad of ['GET / HTTP/1.1\rHost: a\r\r', '\0'.repeat(1000), 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \0']) {
      const raw = await Raw.open(port);
      const t0 = Date.now();
      raw.send(bad);
      assert.match(await raw.waitClosed(), /^HTTP\/1\.1 400 Bad Request\r\n/, JSON.stringify(bad));
      assert.ok(Date.now() - t0 < 1000, `${JSON.stringify(bad)} took ${Date.now() - t0} ms`);
    }
    // Credentials or https in an absolute-form target.
    for (const target of ['http://a:b@127.0.0.1/', 'https://127.0.0.1/']) {
      const raw = await Raw.open(port);
      raw.send(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      assert.match(await raw.waitClosed(), /^HTTP\/1\.1 400 /, target);
    }
  });

  test('unread_bodies_are_drained_or_the_connection_closes', async () => {
    const { port } = await start(() => new Response('ignored your body'), { limits: { maxDrainBytes: 1000 } });
    const raw = await Raw.open(port);
    raw.send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\n${'x'.repeat(500)}GET / HTTP/1.1\r\nHost: a\r\n\r\n`);
    const d = await raw.until((x) => responseCount(x) === 2 && x.endsWith('body'));
    assert.ok(!d.includes('connection: close'));
    raw.send(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n`);
    await raw.until((x) => responseCount(x) === 4 && x.endsWith('body'));
    raw.destroy();
    const big = await Raw.open(port);
    big.send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(100)}`);
    const d2 = await big.until((x) => x.endsWith('body'));
    assert.match(d2, /connection: close\r\n/);
    big.end();
    await big.waitClosed();
  });

  test('request_body_after_the_response_is_refused', async () => {
    let late: Promise<string> | undefined;
    const { port } = await start((req) => {
      late = new Promise((r) => setTimeout(r, 50)).then(() => req.text());
      return new Response('early');
    });
    const raw = await Raw.open(port);
    raw.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc');
    await raw.until((d) => d.endsWith('early'));
    await assert.rejects(late!, /no longer available/);
    raw.destroy();
  });
});

describe('limits', () => {
  test('head_and_body_limits', async () => {
    const { port, base } = await start(async (req) => new Response(String((await req.bytes()).length)), { limits: { maxHeadBytes: 1024, maxBodyBytes: 100, maxHeaders: 10 } });
    const big = await Raw.open(port);
    big.send(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'y'.repeat(2000)}\r\n\r\n`);
    assert.match(await big.waitClosed(), /^HTTP\/1\.1 431 /);
    const many = await Raw.open(port);
    many.send(`GET / HTTP/1.1\r\nHost: a\r\n${'X: y\r\n'.repeat(11)}\r\n`);
    assert.match(await many.waitClosed(), /^HTTP\/1\.1 431 /);
    const long = await Raw.open(port);
    long.send(`GET /${'a'.repeat(2000)}`);
    assert.match(await long.waitClosed(), /^HTTP\/1\.1 414 /);
    const cl = await Raw.open(port);
    cl.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n');
    assert.match(await cl.waitClosed(), /^HTTP\/1\.1 413 /);
    const ch = await Raw.open(port);
    ch.send(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${'z'.repeat(100)}\r\n1\r\nz\r\n0\r\n\r\n`);
    assert.match(await ch.waitClosed(), /^HTTP\/1\.1 413 /);
    assert.equal(await (await fetch(base, { method: 'POST', body: 'x'.repeat(100) })).text(), '100');
  });

  test('request_bodies_held_across_connections_stay_within_the_budget_503_past_it', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let most = 0;
    const { base, server } = await start(async (req) => {
      const b = await req.arrayBuffer();
      most = Math.max(most, server.bufferedBodyBytes);
      await gate; // held: as a handler buffering uploads would
      return new Response(String(b.byteLength));
    }, { limits: { maxBufferedBodyBytes: 100_000, maxBodyBytes: 80_000 } });
    const body = new Uint8Array(60_000).fill(0x61);
    const post = (): Promise<number> => fetch(`${base}/up`, { method: 'POST', body }).then((r) => r.status, () => -1);
    const all = [post(), post(), post()];
    for (let i = 0; i < 100 && server.bodiesRefused < 2; i++) await new Promise((r) => setTimeout(r, 20));
    open();
    const statuses = (await Promise.all(all)).sort();
    assert.deepEqual(statuses, [200, 503, 503], `statuses ${statuses}`);
    assert.ok(most <= 100_000, `${most} body bytes held`);
    assert.equal(server.bufferedBodyBytes, 0, 'every exchange gave its bytes back');
    assert.equal(await post(), 200, 'the budget is free again');
  });

  test('limits_for_a_guest_heap_fit_its_memory', () => {
    const l = limitsForHeap(58 * 1024 * 1024); // the heap of a 64 MiB guest
    assert.equal(l.maxBufferedBodyBytes, 58 * 1024 * 1024 / 4);
    assert.ok(l.maxBodyBytes <= l.maxBufferedBodyBytes);
    assert.ok(l.maxConnections * CONNECTION_COST_BYTES <= 58 * 1024 * 1024 / 2 + CONNECTION_COST_BYTES);
    assert.ok(l.maxConnections >= 128, `a 64 MiB guest takes wrk -c 64 and more (${l.maxConnections})`);
    assert.equal(limitsForHeap(2 * 1024 * 1024).maxConnections, 16, 'at least 16');
    assert.equal(limitsForHeap(64 * 1024 ** 3).maxConnections, 1024, 'at most the default');
    assert.equal(limitsForHeap(64 * 1024 ** 3).maxBodyBytes, 10 * 1024 * 1024, 'at most the default');
  });

  test('connections_beyond_the_limit_are_closed', async () => {
    const { port, server } = await start(() => new Response('ok'), { limits: { maxConnections: 2 } });
    const a = await Raw.open(port);
    const b = await Raw.open(port);
    a.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    b.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await a.until((d) => d.endsWith('ok'));
    await b.until((d) => d.endsWith('ok'));
    const c = await Raw.open(port);
    c.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(await c.waitClosed(), '');
    assert.equal(server.stats().refused, 1);
    a.destroy();
    await a.waitClosed();
    for (let i = 0; i < 50 && server.stats().active > 1; i++) await new Promise((r) => setTimeout(r, 10));
    const d = await Raw.open(port);
    d.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await d.until((x) => x.endsWith('ok'));
    b.destroy();
    d.destroy();
  });

  test('real_short_timeouts_head_body_idle', async () => {
    const { port } = await start(async (req) => new Response(await req.text()), { limits: { headerTimeoutMs: 150, bodyTimeoutMs: 150, idleTimeoutMs: 150 } });
    const head = await Raw.open(port);
    head.send('GET / HTTP/1.1\r\nHost:');
    assert.match(await head.waitClosed(), /^HTTP\/1\.1 408 /);
    const body = await Raw.open(port);
    body.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
    assert.match(await body.waitClosed(), /^HTTP\/1\.1 408 /);
    const idle = await Raw.open(port);
    idle.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.until((d) => d.includes('\r\n\r\n'));
    const t0 = Date.now();
    const d = await idle.waitClosed();
    assert.equal(responseCount(d), 1);
    assert.ok(Date.now() - t0 < 2000);
    const silent = await Raw.open(port);
    assert.equal(await silent.waitClosed(), '');
  });

  /** A clock that moves only when told; advance() fires the timers that came due. */
  function fakeClock(): { clock: ServerClock; advance(ms: number): void } {
    let now = 0;
    const timers: { at: number; fn: () => void }[] = [];
    const clock: ServerClock = {
      now: () => now,
      wallNow: () => Date.UTC(1994, 10, 6, 8, 49, 37),
      setTimer: (fn, ms) => {
        const t = { at: now + ms, fn };
        timers.push(t);
        return t;
      },
      clearTimer: (h) => {
        const i = timers.indexOf(h as { at: number; fn: () => void });
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const advance = (ms: number): void => {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    };
    return { clock, advance };
  }

  test('a_drip_fed_body_meets_the_minimum_rate_and_the_overall_deadline', async () => {
    const { clock, advance } = fakeClock();
    const limits = { bodyTimeoutMs: 1000, minBodyBytesPerSec: 10, bodyDeadlineMs: 5000 };
    const { port } = await start(async (req) => new Response(await req.text()), { clock, limits });
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
    // One byte per 900 ms: each gap is within the body timeout, the rate (1.1 B/s) is not.
    const slow = await Raw.open(port);
    slow.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n');
    for (let i = 0; i < 10 && !slow.closed; i++) {
      slow.send('x');
      await settle();
      advance(900);
      await settle();
    }
    assert.match(await slow.waitClosed(), /^HTTP\/1\.1 408 /);
    slow.destroy();
    // Ten bytes per 900 ms keep the rate, but the whole body may not take more than 5 s of waiting.
    const steady = await Raw.open(port);
    steady.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n');
    let sent = 0;
    for (let i = 0; i < 20 && !steady.closed; i++, sent += 10) {
      steady.send('y'.repeat(10));
      await settle();
      advance(900);
      await settle();
    }
    assert.match(await steady.waitClosed(), /^HTTP\/1\.1 408 /);
    steady.destroy();
    assert.ok(sent >= 50 && sent <= 70, `closed after ${sent} bytes`);
    // A body that comes in time is served.
    const quick = await Raw.open(port);
    quick.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc');
    await quick.until((d) => d.endsWith('abc'));
    quick.destroy();
  });

  test('timeouts_with_an_injected_clock', async () => {
    const { clock, advance } = fakeClock();
    const { port } = await start(() => new Response('x'), { clock, limits: { idleTimeoutMs: 5000, headerTimeoutMs: 10_000 } });
    const raw = await Raw.open(port);
    raw.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const d = await raw.until((x) => x.endsWith('x'));
    assert.match(d, /date: Sun, 06 Nov 1994 08:49:37 GMT\r\n/);
    advance(4000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(raw.closed, false);
    raw.send('GET / HTTP/1.1\r\nHo'); // the head timeout starts now
    await new Promise((r) => setTimeout(r, 50));
    advance(9000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(raw.closed, false);
    advance(2000);
    assert.match(await raw.waitClosed(), /HTTP\/1\.1 408 /);
    raw.destroy();
  });
});

describe('lifecycle', () => {
  test('shutdown_finishes_in_flight_requests_then_resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { port, server } = await start(async () => {
      await gate;
      return new Response('done');
    });
    const busy = await Raw.open(port);
    busy.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const idle = await Raw.open(port);
    await new Promise((r) => setTimeout(r, 50));
    const finished = server.shutdown();
    let isFinished = false;
    void finished.then(() => (isFinished = true));
    assert.equal(await idle.waitClosed(), '');
    assert.equal(isFinished, false);
    release();
    assert.match(await busy.waitClosed(), /connection: close\r\n\r\ndone$/);
    await finished;
  });

  test('an_aborted_signal_shuts_the_server_down', async () => {
    const ac = new AbortController();
    const { server, port } = await start(() => new Response('x'), { signal: ac.signal });
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'x');
    ac.abort();
    await server.finished;
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
  });
});

describe('properties', () => {
  test('any_bytes_never_crash_the_server', async () => {
    const seen: Request[] = [];
    const { port, base } = await start((req) => {
      seen.push(req);
      return new Response('fine');
    }, { limits: { maxHeadBytes: 256, headerTimeoutMs: 500, bodyTimeoutMs: 500 } });
    const token = fc.constantFrom('GET', 'POST', ' ', '/', 'HTTP/1.1', 'HTTP/1.0', '\r\n', '\r', '\n', ':', 'Host: a', 'Content-Length: 3', 'Transfer-Encoding: chunked',
      '0', '3', 'abc', ',', '\t', '\0', '\xff', 'Expect: 100-continue', 'Connection: close', '\r\n\r\n');
    const input = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.array(token, { maxLength: 30 }).map((t) => Buffer.from(t.join(''), 'latin1')));
    await fc.assert(fc.asyncProperty(input, async (bytes) => {
      const raw = await Raw.open(port);
      raw.send(bytes);
      raw.end();
      const d = await raw.waitClosed(5000);
      // Whatever came back is a sequence of well-formed responses.
      for (const line of raw.statuses()) assert.match(line, /^HTTP\/1\.1 (200|100|4\d\d|5\d\d) /);
      assert.ok(d === '' || d.startsWith('HTTP/1.1 '), JSON.stringify(d));
    }), { numRuns: 150 });
    assert.equal(await (await fetch(base)).text(), 'fine');
  });
});
