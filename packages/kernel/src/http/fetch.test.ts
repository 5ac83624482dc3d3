// Kiln's fetch (http/fetch.ts + client.ts, over node:net here) against Node's own fetch (undici)
// as the peer: each scenario runs with both against the same Node HTTP server and must end the
// same way — status, headers the server set, body, url, redirected, and how it failed. Then
// what only Kiln says (https://, bad schemes), a raw server's framing split at random points
// (chunked, Content-Length, until close: the body is intact), and hostile responses (garbage,
// truncation, oversize heads): a TypeError, never another exception or a hang.

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { NodeConn } from '../testing/node_net.ts';
import { ReadableStream } from '../web/readable_stream.ts';
import { URLSearchParams as KilnURLSearchParams } from '../web/url.ts';
import { makeFetch, type Connect } from './fetch.ts';

const nodeConnect: Connect = (hostname, port) => new Promise((resolve, reject) => {
  const s = netConnect(port, hostname);
  s.once('connect', () => resolve(new NodeConn(s)));
  s.once('error', reject);
});
const kilnFetch = makeFetch(nodeConnect) as unknown as typeof fetch;
const nodeFetch = globalThis.fetch;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function route(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const u = new URL(req.url!, 'http://x');
  const echo = (): void => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({
      method: req.method, url: req.url, type: req.headers['content-type'] ?? null, length: req.headers['content-length'] ?? null,
      te: req.headers['transfer-encoding'] ?? null, custom: req.headers['x-custom'] ?? null, auth: req.headers.authorization ?? null, body: body.toString(),
    }));
  };
  switch (u.pathname) {
    case '/hello':
      res.setHeader('x-server', 'node');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('hello world');
      return;
    case '/echo':
      return echo();
    case '/redirect': {
      const status = Number(u.searchParams.get('status'));
      res.writeHead(status, { location: u.searchParams.get('to') ?? '/echo' });
      res.end();
      return;
    }
    case '/loop':
      res.writeHead(302, { location: `/loop?n=${Number(u.searchParams.get('n') ?? 0) + 1}` });
      res.end();
      return;
    case '/stream':
      res.write('first;');
      setTimeout(() => res.end('second'), 150);
      return;
    case '/slow':
      setTimeout(() => res.end('late'), 2000);
      return;
    case '/big':
      res.end(BIG);
      return;
    case '/nocontent':
      res.writeHead(204);
      res.end();
      return;
    case '/cut':
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part');
      setTimeout(() => res.destroy(), 20);
      return;
    default:
      res.writeHead(404);
      res.end('not here');
  }
}

const BIG = randomBytes(1 << 20);
let server: Server;
let base = '';
before(async () => {
  server = createHttpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => route(req, res, Buffer.concat(parts)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** What an outcome comes to, for comparing the two fetches. */
async function outcome(run: () => Promise<Response>, read: (r: Response) => Promise<unknown> = (r) => r.text()): Promise<unknown> {
  let r: Response;
  try {
    r = await run();
  } catch (e) {
    return { rejected: (e as Error).name };
  }
  const headers: Record<string, string | null> = {};
  for (const h of ['content-type', 'x-server', 'location', 'content-length']) headers[h] = r.headers.get(h);
  let body: unknown;
  try {
    body = await read(r);
  } catch (e) {
    body = { bodyRejected: (e as Error).name };
  }
  return { status: r.status, statusText: r.statusText, ok: r.ok, url: r.url, redirected: r.redirected, headers, body };
}

type Scenario = (f: typeof fetch) => Promise<unknown>;
const SCENARIOS: Record<string, Scenario> = {
  'GET with headers': (f) => outcome(() => f(`${base}/hello`, { headers: { 'x-custom': '1' } })),
  'set-cookie values': async (f) => (await f(`${base}/hello`)).headers.getSetCookie?.() ?? 'no getSetCookie',
  '404': (f) => outcome(() => f(`${base}/missing`)),
  'POST a string': (f) => outcome(() => f(`${base}/echo`, { method: 'POST', body: 'payload', headers: { 'x-custom': 'y' } }), (r) => r.json()),
  'POST bytes': (f) => outcome(() => f(`${base}/echo`, { method: 'PUT', body: new Uint8Array([104, 105]) }), (r) => r.json()),
  'POST a URLSearchParams': (f) => outcome(() => {
    const P = f === nodeFetch ? globalThis.URLSearchParams : KilnURLSearchParams;
    return f(`${base}/echo`, { method: 'POST', body: new P('a=1&b=two') as never });
  }, (r) => r.json()),
  'POST a stream (chunked)': (f) => outcome(() => {
    const S = f === nodeFetch ? globalThis.ReadableStream : ReadableStream;
    const body = new S({ start(c) { c.enqueue(new TextEncoder().encode('str')); c.enqueue(new TextEncoder().encode('eam')); c.close(); } });
    return f(`${base}/echo`, { method: 'POST', body: body as never, duplex: 'half' } as RequestInit);
  }, (r) => r.json()),
  'a framing header from the app is not sent': (f) => outcome(() => f(`${base}/echo`, { method: 'POST', body: 'abc', headers: { 'content-length': '99' } }).catch(() => f(`${base}/echo`, { method: 'POST', body: 'abc' })), (r) => r.json()),
  'HEAD': (f) => outcome(() => f(`${base}/hello`, { method: 'HEAD' }), async (r) => [r.body === null, await r.text()]),
  '204': (f) => outcome(() => f(`${base}/nocontent`), async (r) => [r.body === null, await r.text()]),
  '301 turns POST into GET': (f) => outcome(() => f(`${base}/redirect?status=301&to=/echo`, { method: 'POST', body: 'x' }), (r) => r.json()),
  '302 turns POST into GET': (f) => outcome(() => f(`${base}/redirect?status=302`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }), (r) => r.json()),
  '303 turns PUT into GET': (f) => outcome(() => f(`${base}/redirect?status=303`, { method: 'PUT', body: 'x' }), (r) => r.json()),
  '307 keeps the method and body': (f) => outcome(() => f(`${base}/redirect?status=307`, { method: 'POST', body: 'kept' }), (r) => r.json()),
  '308 with an absolute Location': (f) => outcome(() => f(`${base}/redirect?status=308&to=${encodeURIComponent(`${base}/echo?q=1`)}`, { method: 'PATCH', body: 'p' }), (r) => r.json()),
  'a chain of redirects': (f) => outcome(() => f(`${base}/redirect?status=302&to=${encodeURIComponent('/redirect?status=301&to=/hello')}`)),
  'redirect: manual': (f) => outcome(() => f(`${base}/redirect?status=302&to=/hello`, { redirect: 'manual' })),
  'redirect: error': (f) => outcome(() => f(`${base}/redirect?status=302`, { redirect: 'error' })),
  'more than 20 redirects': (f) => outcome(() => f(`${base}/loop`)),
  'a streamed body arrives before the response ends': async (f) => {
    const r = await f(`${base}/stream`);
    const reader = r.body!.getReader();
    const t0 = Date.now();
    const first = new TextDecoder().decode((await reader.read()).value);
    const early = Date.now() - t0 < 120;
    let rest = '';
    for (let x = await reader.read(); !x.done; x = await reader.read()) rest += new TextDecoder().decode(x.value);
    return { first, early, rest };
  },
  '1 MiB body intact': async (f) => Buffer.from(await (await f(`${base}/big`)).arrayBuffer()).equals(BIG),
  'abort before the response': async (f) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    return outcome(() => f(`${base}/slow`, { signal: ac.signal }));
  },
  'abort while reading the body': async (f) => {
    const ac = new AbortController();
    const r = await f(`${base}/stream`, { signal: ac.signal });
    const reader = r.body!.getReader();
    await reader.read();
    ac.abort(new Error('stop'));
    return reader.read().then(() => 'read', (e: Error) => e.message);
  },
  'an already aborted signal': (f) => outcome(() => f(`${base}/hello`, { signal: AbortSignal.abort() })),
  'the server cuts the body short': (f) => outcome(() => f(`${base}/cut`)),
  'connection refused': (f) => outcome(() => f('http://127.0.0.1:1/')),
  'a bad URL': (f) => outcome(() => f('http://exa mple/')),
  'credentials in the URL': (f) => outcome(() => f(`http://user:pw@127.0.0.1:1/`)),
  'GET with a body': (f) => outcome(() => f(`${base}/echo`, { method: 'GET', body: 'x' })),
  'a bad method': (f) => outcome(() => f(`${base}/echo`, { method: 'CONNECT' })),
  'a bad redirect mode': (f) => outcome(() => f(`${base}/echo`, { redirect: 'sometimes' as 'follow' })),
};

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  test(`fetch: ${name} ends as with Node's fetch`, async () => {
    const theirs = await scenario(nodeFetch);
    const ours = await scenario(kilnFetch);
    // Node's fetch says user-agent "node", Kiln's "Kiln/<version>"; nothing compared here depends on it.
    assert.deepEqual(ours, theirs);
  });
}

test('https:// and other schemes are a TypeError naming what is missing', async () => {
  await assert.rejects(kilnFetch('https://127.0.0.1/'), /TypeError: fetch https:\/\/127\.0\.0\.1\/: https:\/\/ needs TLS, which Kiln guests do not have yet/);
  await assert.rejects(kilnFetch('ftp://127.0.0.1/'), /the ftp: scheme is not supported/);
  await assert.rejects(kilnFetch('http://[::1]:8080/'), /IPv6 addresses are not supported/);
});

/** A raw TCP server answering every connection with `answer(socket)`. */
async function rawServer(answer: (s: Socket) => void): Promise<{ url: string; close(): void }> {
  const srv = createNetServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => answer(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`, close: () => srv.close() };
}

async function writeSplit(s: Socket, bytes: Buffer, cuts: number[]): Promise<void> {
  let prev = 0;
  for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b).concat(bytes.length)) {
    s.write(bytes.subarray(prev, c));
    prev = c;
    await sleep(1);
  }
}

test('framings split at random points: the body is intact (chunked, Content-Length, until close, interim 100)', async () => {
  await fc.assert(fc.asyncProperty(
    fc.uint8Array({ maxLength: 3000 }), fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }),
    fc.constantFrom('chunked', 'length', 'close', 'continue'),
    async (body, sizes, cuts, kind) => {
      const payload = Buffer.from(body);
      let wire: Buffer;
      if (kind === 'chunked') {
        const parts: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')];
        let at = 0;
        for (let i = 0; at < payload.length; i++) {
          const n = Math.min(sizes[i % Math.max(1, sizes.length)] ?? 500, payload.length - at);
          parts.push(Buffer.from(`${n.toString(16)};ext=1\r\n`), payload.subarray(at, at + n), Buffer.from('\r\n'));
          at += n;
        }
        parts.push(Buffer.from('0\r\nx-trailer: yes\r\n\r\n'));
        wire = Buffer.concat(parts);
      } else if (kind === 'close') {
        wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), payload]);
      } else {
        const interim = kind === 'continue' ? 'HTTP/1.1 100 Continue\r\n\r\n' : '';
        wire = Buffer.concat([Buffer.from(`${interim}HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`), payload]);
      }
      const srv = await rawServer((s) => void writeSplit(s, wire, cuts).then(() => s.end()));
      try {
        const r = await kilnFetch(srv.url);
        assert.equal(r.status, 200);
        assert.ok(Buffer.from(await r.arrayBuffer()).equals(payload), kind);
      } finally {
        srv.close();
      }
    },
  ), { numRuns: 40 });
});

test('hostile responses are a TypeError: garbage, bad status lines and fields, truncation, oversize heads', async () => {
  const cases: [string, string | Buffer][] = [
    ['garbage', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['bad status', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['HTTP/2 preface', 'HTTP/2 200\r\n\r\n'],
    ['space before colon', 'HTTP/1.1 200 OK\r\nx-a : b\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nx-a: b\r\n  c\r\n\r\n'],
    ['bare LF in head', 'HTTP/1.1 200 OK\r\nx-a: b\nx-c: d\r\n\r\n'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
    ['bad length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['no response', ''],
    ['half a head', 'HTTP/1.1 200 OK\r\nContent-'],
    ['switching protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'],
    ['oversize head', `HTTP/1.1 200 OK\r\n${'x-pad: '.concat('a'.repeat(1000), '\r\n').repeat(70)}\r\n`],
  ];
  for (const [what, wire] of cases) {
    const srv = await rawServer((s) => s.end(wire));
    try {
      await assert.rejects(kilnFetch(srv.url), TypeError, what);
    } finally {
      srv.close();
    }
  }
  const body: [string, string][] = [
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
    ['chunked cut short', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab'],
    ['length cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
  ];
  for (const [what, wire] of body) {
    const srv = await rawServer((s) => s.end(wire));
    try {
      const r = await kilnFetch(srv.url);
      await assert.rejects(r.text(), TypeError, what);
    } finally {
      srv.close();
    }
  }
});

test('random bytes as a response: a TypeError or a response, never another exception', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (junk, prefixed) => {
    const wire = prefixed ? Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n'), junk]) : Buffer.from(junk);
    const srv = await rawServer((s) => s.end(wire));
    try {
      const r = await kilnFetch(srv.url);
      await r.arrayBuffer();
    } catch (e) {
      assert.ok(e instanceof TypeError, String(e));
    } finally {
      srv.close();
    }
  }), { numRuns: 60 });
});
