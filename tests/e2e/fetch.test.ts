// E2E: fetch in a guest, by hostname. The test creates a network namespace (kiln-fetch-<pid>) with
// tap0 = 10.0.2.1/24, runs dnsmasq there as the DNS server (api.kiln.test → 10.0.2.1; the rest of
// kiln.test does not exist) and a Node HTTP server on 10.0.2.1:8080, and boots
// tests/e2e/web/fetch.mjs with `--net tap=tap0,ip=10.0.2.15/24,gw=10.0.2.1 --dns 10.0.2.1` on
// every available VMM/accelerator. Host Node runs the same program in the namespace (its resolver
// reads /etc/netns/<ns>/resolv.conf, which `ip netns exec` mounts): both must print the same
// lines. No traffic leaves the namespace. Skipped with the reason when not root or a tool is missing.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, createTapNamespace, deleteNamespace, kilnBackground, kilnBuild, ROOT, sh, tapSkip, targets, until } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-e2e-fetch-'));
const image = join(dir, 'fetch.elf');
const program = join(ROOT, 'tests/e2e/web/fetch.mjs');
const NS = `kiln-fetch-${process.pid}`;
const NETNS_ETC = `/etc/netns/${NS}`;
const SERVER = join(dir, 'server.cjs');

writeFileSync(SERVER, `
const http = require('http');
const big = Buffer.alloc(256 * 1024, 0).map((_, i) => (i * 7) & 255);
http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    if (req.url === '/hello') { res.setHeader('x-server', 'node'); return res.end('hello from the namespace'); }
    if (req.url === '/echo') return res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], length: req.headers['content-length'], body: Buffer.concat(parts).toString() }));
    if (req.url === '/redirect') { res.writeHead(302, { location: '/hello' }); return res.end(); }
    if (req.url === '/stream') { res.write('one;'); return setTimeout(() => res.end('two'), 100); }
    if (req.url === '/big') return res.end(big);
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 3000);
    res.writeHead(404); res.end();
  });
}).listen(8080, '10.0.2.1', () => console.log('listening'));
`);

describe('fetch by hostname in a guest', { skip: coreSkip() ?? tapSkip(['dnsmasq']) }, () => {
  const children: ChildProcess[] = [];
  before(async () => {
    await kilnBuild(program, image);
    createTapNamespace(NS, '10.0.2.1/24');
    mkdirSync(NETNS_ETC, { recursive: true });
    writeFileSync(join(NETNS_ETC, 'resolv.conf'), 'nameserver 10.0.2.1\n');
    let ready = '';
    const http = spawn('ip', ['netns', 'exec', NS, process.execPath, SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    http.stdout!.on('data', (c: Buffer) => (ready += c.toString()));
    children.push(http);
    children.push(spawn('ip', ['netns', 'exec', NS, 'dnsmasq', '--no-daemon', '--no-resolv', '--no-hosts', '--bind-interfaces', '--listen-address=10.0.2.1',
      '--except-interface=lo', '--address=/api.kiln.test/10.0.2.1', '--local=/kiln.test/', `--pid-file=${join(dir, 'dnsmasq.pid')}`], { stdio: 'ignore' }));
    await until(() => ready.includes('listening'), 10_000);
    await until(() => sh(['ip', 'netns', 'exec', NS, 'getent', 'hosts', 'api.kiln.test']).ok, 10_000);
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    deleteNamespace(NS);
    rmSync(NETNS_ETC, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  for (const t of targets()) {
    test(`the guest prints what host Node prints (${t.name})`, { skip: t.skip }, async () => {
      const host = sh(['ip', 'netns', 'exec', NS, process.execPath, program]);
      assert.ok(host.ok, host.out);
      const vm = kilnBackground(['run', image, ...t.flags, '--net', 'tap=tap0,ip=10.0.2.15/24,gw=10.0.2.1', '--dns', '10.0.2.1'], { netns: NS, timeoutMs: t.name.includes('tcg') ? 120_000 : 60_000 });
      const r = await vm.done;
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(r.stdout, host.out);
    });
  }
});
