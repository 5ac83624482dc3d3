// E2E: kiln:http in a guest on Kiln's VMM, once per kilnTargets() entry (on KVM and on the
// process platform). Over vsock (examples/http-vsock): the host connects to the VMM's hybrid
// socket, sends `CONNECT 8080\n`, then speaks HTTP/1.1: pipelined requests (GET, a JSON echo of
// a POST, a chunked stream, a 1 MiB body echoed back), one connection per request too, then
// /quit, after which the guest exits 0. Over TCP (examples/http-hello on kiln:net, user-mode
// networking through passt): curl --http1.1 reuses one connection for several requests and the
// guest ends after its last one. The static web server (examples/static-web-server, files from
// `kiln build --assets`) through passt's hostfwd: curl checks content types, HEAD, 404 and 405,
// hostile paths (NUL, long names and paths: 400/404, no stack in the log),
// wrk loads it with no socket errors; http-hello through a TAP in a network namespace the test
// creates (the VMM, curl and wrk run inside it).

import { strict as assert } from 'node:assert';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandExists, coreSkip, createTapNamespace, deleteNamespace, kiln, KILN, kilnBackground, kilnBuild, kilnTargets, ROOT, sh, tapSkip, until } from './helpers.ts';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-http-'));
const elf = (name: string): string => join(dir, `${name}.elf`);

/** Opens the VMM's vsock socket (once it exists) and CONNECTs to `port`; resolves after "OK ...\n". */
async function vsockConnect(uds: string, port: number, ms = 20_000): Promise<{ socket: Socket; rest: Buffer }> {
  const end = Date.now() + ms;
  for (;;) {
    if (existsSync(uds)) {
      try {
        return await new Promise((resolve, reject) => {
          const s = connect({ path: uds, allowHalfOpen: true }, () => s.write(`CONNECT ${port}\n`));
          let got = Buffer.alloc(0);
          const onData = (d: Buffer): void => {
            got = Buffer.concat([got, d]);
            const nl = got.indexOf(10);
            if (nl < 0) return;
            s.off('data', onData);
            if (!got.subarray(0, nl).toString().startsWith('OK ')) reject(new Error(`vsock handshake: ${got.toString()}`));
            else resolve({ socket: s, rest: got.subarray(nl + 1) });
          };
          s.on('data', onData);
          s.once('error', reject);
          s.once('end', () => reject(new Error('vsock closed during the handshake')));
        });
      } catch (e) {
        if (Date.now() > end) throw e;
      }
    }
    if (Date.now() > end) throw new Error(`${uds} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `request` and collects the answer until `done(data)` or the peer ends. */
async function exchange(uds: string, request: Buffer | string, done: (data: Buffer) => boolean): Promise<Buffer> {
  const { socket, rest } = await vsockConnect(uds, 8080);
  return new Promise((resolve, reject) => {
    let data = rest;
    const timer = setTimeout(() => reject(new Error(`no complete answer; got ${JSON.stringify(data.toString('latin1').slice(0, 500))}`)), 20_000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.end();
      resolve(data);
    };
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      if (done(data)) finish();
    });
    socket.on('end', finish);
    socket.on('error', reject);
    socket.write(request);
  });
}

describe('kiln:http on Kiln\'s VMM', { skip: coreSkip() }, () => {
  before(async () => {
    for (const name of ['http-vsock', 'http-hello']) {
      await kilnBuild(`examples/${name}/main.ts`, elf(name));
    }
    await kilnBuild('examples/static-web-server/main.ts', elf('static-web-server'), ['--assets', 'examples/static-web-server/public']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [index, t] of kilnTargets().entries()) {
    describe(t.name, { skip: t.skip }, () => {
      test(`vsock: pipelined requests, streamed bodies both ways, then /quit ends the guest (${t.name})`, async (c) => {
        c.diagnostic(t.name);
        const uds = join(dir, `http-${index}.sock`);
        const run = kiln(['run', elf('http-vsock'), ...t.flags, '--vsock', `3,${uds}`, '--timeout', '90']);
        const pipelined = [
          'GET / HTTP/1.1\r\nHost: guest\r\n\r\n',
          'POST /json?x=1 HTTP/1.1\r\nHost: guest\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
          'GET /stream HTTP/1.1\r\nHost: guest\r\n\r\n',
          'POST /echo HTTP/1.1\r\nHost: guest\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
        ].join('');
        const a = (await exchange(uds, pipelined, (d) => d.toString('latin1').endsWith('0\r\n\r\n') && d.toString('latin1').split('HTTP/1.1 200').length === 5)).toString('latin1');
        const responses = a.split(/(?=HTTP\/1\.1 )/);
        assert.equal(responses.length, 4, a);
        assert.match(responses[0]!, /^HTTP\/1\.1 200 OK\r\n[^]*content-length: 5\r\n\r\nhello$/);
        const json = JSON.parse(responses[1]!.split('\r\n\r\n')[1]!) as { method: string; query: Record<string, string>; body: string; headers: Record<string, string> };
        assert.deepEqual([json.method, json.query, json.body, json.headers['content-type']], ['POST', { x: '1' }, 'hello', 'text/plain']);
        assert.match(responses[2]!, /transfer-encoding: chunked\r\n\r\n7\r\npart 0\n\r\n7\r\npart 1\n\r\n7\r\npart 2\n\r\n0\r\n\r\n$/);
        assert.match(responses[3]!, /transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n$/);

        // 1 MiB through the guest and back (request with Content-Length, response chunked).
        const big = randomBytes(1 << 20);
        const head = `POST /echo HTTP/1.1\r\nHost: guest\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n`;
        const b = await exchange(uds, Buffer.concat([Buffer.from(head), big]), () => false);
        const bodyStart = b.indexOf('\r\n\r\n') + 4;
        assert.match(b.subarray(0, bodyStart).toString(), /^HTTP\/1\.1 200 OK\r\n[^]*transfer-encoding: chunked\r\n[^]*connection: close\r\n/);
        const chunks: Buffer[] = [];
        for (let at = bodyStart; ;) {
          const eol = b.indexOf('\r\n', at);
          const size = parseInt(b.subarray(at, eol).toString(), 16);
          if (size === 0) break;
          chunks.push(b.subarray(eol + 2, eol + 2 + size));
          at = eol + 2 + size + 2;
        }
        assert.ok(Buffer.concat(chunks).equals(big), 'the echoed body differs');

        const bad = (await exchange(uds, 'GET / HTTP/1.1\r\nHost: guest\r\nBad Header: x\r\n\r\n', () => false)).toString();
        assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
        const quit = (await exchange(uds, 'GET /quit HTTP/1.1\r\nHost: guest\r\n\r\n', (d) => d.toString().endsWith('bye\n'))).toString();
        assert.match(quit, /connection: close\r\n\r\nbye\n$/);
        const r = await run;
        assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /http-vsock: listening on vsock port 8080\n[^]*http-vsock: server stopped\n/);
      });

      test(`tcp: curl --http1.1 through user-mode networking reuses one connection (${t.name})`, { skip: commandExists('passt') && commandExists('curl') ? undefined : 'needs passt and curl' }, async (c) => {
        c.diagnostic(t.name);
        const port = await freeLoopbackPort();
        // Connect only once the guest listens: passt accepts host connections before that.
        const child = spawn(process.execPath, [KILN, 'run', elf('http-hello'), ...t.flags, '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:8080`, '--timeout', '60', '--', '3'], { cwd: ROOT });
        let guest = '';
        child.stdout.on('data', (d: Buffer) => (guest += d.toString()));
        child.stderr.on('data', (d: Buffer) => (guest += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        for (let i = 0; i < 300 && !guest.includes('Listening on'); i++) await new Promise((r) => setTimeout(r, 50));
        assert.match(guest, /Listening on http:\/\/localhost:8080\//);
        const url = `http://127.0.0.1:${port}/`;
        const out = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
          execFile('curl', ['--http1.1', '-sv', '--max-time', '10', url, url, url], (_e, stdout, stderr) => resolve({ stdout, stderr }));
        });
        assert.equal(out.stdout, 'hellohellohello', out.stderr);
        assert.match(out.stderr, /Re-using existing connection|Reusing existing/);
        assert.equal(await exited, 0, guest);
      });

      test(`static-web-server through hostfwd: content types, HEAD, 404, 405; wrk with no errors (${t.name})`, { skip: commandExists('passt') && commandExists('curl') && commandExists('wrk') ? undefined : 'needs passt, curl and wrk' }, async (c) => {
        c.diagnostic(t.name);
        const port = await freeLoopbackPort();
        const child = spawn(process.execPath, [KILN, 'run', elf('static-web-server'), ...t.flags, '--mem', '64', '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:8080`, '--timeout', '60'], { cwd: ROOT });
        let guest = '';
        child.stdout.on('data', (d: Buffer) => (guest += d.toString()));
        child.stderr.on('data', (d: Buffer) => (guest += d.toString()));
        try {
          // The whole line: the console may deliver it in pieces.
          for (let i = 0; i < 300 && !/Listening on .*\n/.test(guest); i++) await new Promise((r) => setTimeout(r, 50));
          assert.match(guest, /Listening on http:\/\/localhost:8080\//);
          const base = `http://127.0.0.1:${port}`;
          // Asynchronous, so this process keeps reading the guest's console meanwhile: the VMM
          // waits (loses nothing) while its stdout pipe is full.
          const curl = (...args: string[]): Promise<string> =>
            new Promise((resolve) => execFile('curl', ['--http1.1', '-s', '--max-time', '10', ...args], { encoding: 'utf8' }, (_e, stdout) => resolve(stdout)));
          const fmt = '%{http_code} %{content_type} %{size_download}\n';
          assert.equal(await curl('-o', '/dev/null', '-w', fmt, `${base}/`), `200 text/html;charset=UTF-8 ${statSync('examples/static-web-server/public/index.html').size}\n`);
          assert.equal(await curl(`${base}/css/site.css`), readFileSync('examples/static-web-server/public/css/site.css', 'utf8'));
          assert.equal(await curl('-o', '/dev/null', '-w', fmt, `${base}/about.json`), `200 application/json ${statSync('examples/static-web-server/public/about.json').size}\n`);
          assert.equal(await curl('-o', '/dev/null', '-w', '%{http_code}\n', `${base}/missing.html`), '404\n');
          assert.equal(await curl('-o', '/dev/null', '-w', '%{http_code}\n', '-X', 'POST', `${base}/`), '405\n');
          assert.match(await curl('-I', `${base}/`), /^HTTP\/1\.1 200 OK\r\n[^]*content-length: \d+\r\n/);
          assert.equal(await curl('-o', '/dev/null', '-w', '%{http_code}\n', '--path-as-is', `${base}/../../etc/passwd`), '404\n');
          // Hostile paths: 400 or 404, never a 500 with a stack; logged in one line, escaped.
          for (const path of ['/%00', `/${'n'.repeat(300)}`, '/a'.repeat(3000) + '/', '/%1B[31mx%00']) {
            assert.match(await curl('-g', '-o', '/dev/null', '-w', '%{http_code}\n', '--path-as-is', `${base}${path}`), /^40[04]\n$/, `${path.slice(0, 40)}: ${guest}`);
          }
          assert.doesNotMatch(guest, /\n\s+at |\x1b|500/, guest);
          const w = spawnSync('wrk', ['-t', '1', '-c', '16', '-d', '2s', `${base}/index.html`], { encoding: 'utf8', timeout: 30_000 });
          assert.equal(w.status, 0, w.stderr);
          assert.match(w.stdout, /Requests\/sec:/);
          assert.doesNotMatch(w.stdout, /Socket errors|Non-2xx/, w.stdout);
          assert.ok(Number(/(\d+) requests in/.exec(w.stdout)![1]) > 100, w.stdout);
        } finally {
          child.kill();
        }
      });

      describe('http-hello through a TAP in a network namespace the test creates', { skip: tapSkip(['curl', 'wrk']) }, () => {
        const NS = `kiln-http-${process.pid}-${index}`;
        const inNs = (args: string[]): { ok: boolean; out: string } => sh(['ip', 'netns', 'exec', NS, ...args]);
        before(() => createTapNamespace(NS, '10.0.5.1/24'));
        after(() => deleteNamespace(NS));

        test(`Linux as the peer: curl keep-alive and wrk with 64 connections, no errors (${t.name})`, async (c) => {
          c.diagnostic(t.name);
          const vm = kilnBackground(['run', elf('http-hello'), ...t.flags, '--mem', '64', '--net', 'tap=tap0,ip=10.0.5.2/24', '--timeout', '60'], { netns: NS });
          try {
            await until(() => vm.stdout().includes('Listening on'), 15_000);
            assert.match(vm.stdout(), /Listening on/);
            const url = 'http://10.0.5.2:8080/';
            const c = inNs(['curl', '--http1.1', '-sv', '--max-time', '10', url, url]);
            assert.ok(c.ok, c.out);
            assert.match(c.out, /hellohello/);
            assert.match(c.out, /Re-using existing connection|Reusing existing/);
            const w = inNs(['wrk', '-t', '2', '-c', '64', '-d', '3s', url]);
            assert.ok(w.ok, w.out);
            assert.doesNotMatch(w.out, /Socket errors|Non-2xx/, w.out);
            assert.ok(Number(/(\d+) requests in/.exec(w.out)![1]) > 200, w.out);
          } finally {
            vm.kill();
          }
        });
      });
    });
  }
});

