// HTTP benchmark (a script, not a test): a handler returning "hello", 64 keep-alive connections.
// - host Node: node:http on loopback, wrk -t2 -c64 (the reference of issue 4's target: the guest
//   should reach half of it);
// - guest over TCP (examples/http-hello on kiln:net, `--net user` through passt), wrk -t2 -c64;
// - guest over vsock (examples/http-vsock): a host client in a child process opens 64
//   connections through the VMM's hybrid socket (CONNECT 8080) and sends sequential keep-alive
//   GET / requests (wrk cannot do the CONNECT preamble);
// - guest in memory: the HTTP server alone in the guest (kiln:http over an in-memory
//   Conn/Listener, 64 connections, 20000 requests): microseconds per request.
// Medians of N interleaved runs; prints a markdown block for bench/RESULTS.md.
// Run: npm run bench:http [-- --runs 3] [--seconds 5]

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const RUNS = arg('--runs', 3);
const SECONDS = arg('--seconds', 5);
const CONNS = 64;
const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-http-'));

const NODE_SERVER = `
require('http').createServer((req, res) => { res.setHeader('content-type', 'text/plain;charset=UTF-8'); res.end('hello'); })
  .listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
`;

const VSOCK_CLIENT = `
const net = require('net');
const [uds, conns, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const REQ = Buffer.from('GET / HTTP/1.1\\r\\nHost: guest\\r\\n\\r\\n');
let done = 0; let running = true; let open = 0;
function one() {
  const s = net.connect({ path: uds });
  let buf = '';
  let ok = false;
  s.setEncoding('latin1');
  s.on('data', (d) => {
    buf += d;
    if (!ok) {
      const nl = buf.indexOf('\\n');
      if (nl < 0) return;
      ok = true; buf = buf.slice(nl + 1); open++;
      s.write(REQ);
    }
    // One request in flight per connection: each response ends with its 5-byte body "hello".
    while (buf.includes('hello')) {
      buf = buf.slice(buf.indexOf('hello') + 5);
      done++;
      if (running) s.write(REQ); else { s.destroy(); return; }
    }
  });
  s.on('error', () => {});
  s.write('CONNECT 8080\\n');
}
for (let i = 0; i < conns; i++) one();
setTimeout(() => { const start = done; const t0 = Date.now();
  setTimeout(() => { running = false; console.log(JSON.stringify({ reqs: done - start, ms: Date.now() - t0, open })); process.exit(0); }, seconds * 1000);
}, 1000);
`;

const IN_MEMORY = `
import { serve } from 'kiln:http';
const REQ = 'GET / HTTP/1.1\\r\\nHost: localhost:8080\\r\\n\\r\\n';
const req = new Uint8Array(REQ.length);
for (let i = 0; i < REQ.length; i++) req[i] = REQ.charCodeAt(i);
const TOTAL = 20000;
let served = 0;
let t0 = 0;
class MemConn {
  remoteAddr = { transport: 'tcp', hostname: '10.0.0.1', port: 1 };
  constructor(private left: number) {}
  read(buf: Uint8Array): Promise<number | null> {
    if (this.left-- <= 0) return Promise.resolve(null);
    buf.set(req);
    return Promise.resolve(req.length);
  }
  write(bytes: Uint8Array): Promise<number> {
    if (++served === TOTAL) {
      const ms = performance.now() - t0;
      console.log('INMEM ' + (ms * 1000 / TOTAL).toFixed(2));
      void server.shutdown();
    }
    return Promise.resolve(bytes.length);
  }
  closeWrite(): Promise<void> { return Promise.resolve(); }
  close(): void {}
}
const conns = Array.from({ length: 64 }, () => new MemConn(TOTAL / 64));
let next = 0;
const listener = {
  addr: { transport: 'tcp', hostname: '0.0.0.0', port: 8080 },
  accept: (): Promise<MemConn> => (next < conns.length ? Promise.resolve(conns[next++]!) : new Promise<MemConn>((_, reject) => (closeListener = () => reject(new Error('closed'))))),
  close: () => closeListener(),
};
let closeListener = (): void => undefined;
t0 = performance.now();
const server = serve({ listener, onListen: () => undefined }, () => new Response('hello'));
`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function waitFor(child: ChildProcess, text: string, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms: ${out}`)), ms);
    const on = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('close', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000);
  });
}

function wrk(url: string): number {
  const r = spawnSync('wrk', ['-t2', `-c${CONNS}`, `-d${SECONDS}s`, url], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`wrk: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

let nextPort = 18600 + (process.pid % 1000);

async function hostNode(): Promise<number> {
  const port = nextPort++;
  const file = join(dir, 'node_server.cjs');
  writeFileSync(file, NODE_SERVER);
  const child = spawn(process.execPath, [file, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, 'ready');
  try {
    return wrk(`http://127.0.0.1:${port}/`);
  } finally {
    await stop(child);
  }
}

async function guestTcp(): Promise<number> {
  const port = nextPort++;
  const child = spawn(process.execPath, [KILN, 'run', join(dir, 'http-hello.elf'), '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:8080`], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, 'Listening on');
  try {
    wrk(`http://127.0.0.1:${port}/`); // warm-up (ARP, first connections)
    return wrk(`http://127.0.0.1:${port}/`);
  } finally {
    await stop(child);
  }
}

async function guestVsock(): Promise<number> {
  const uds = join(dir, `h${nextPort++}.sock`);
  const child = spawn(process.execPath, [KILN, 'run', join(dir, 'http-vsock.elf'), '--vsock', `3,${uds}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, 'listening on vsock');
  try {
    const file = join(dir, 'vsock_client.cjs');
    writeFileSync(file, VSOCK_CLIENT);
    const r = spawnSync(process.execPath, [file, uds, String(CONNS), String(SECONDS)], { encoding: 'utf8' });
    const j = JSON.parse(r.stdout) as { reqs: number; ms: number; open: number };
    if (j.open !== CONNS) throw new Error(`only ${j.open} vsock connections opened`);
    return (j.reqs / j.ms) * 1000;
  } finally {
    await stop(child);
  }
}

function inMemory(): number {
  const r = spawnSync(process.execPath, [KILN, 'run', join(dir, 'inmem.elf')], { encoding: 'utf8' });
  const m = /INMEM ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`in-memory guest: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  writeFileSync(join(dir, 'inmem.ts'), IN_MEMORY);
  for (const [name, src] of [['http-hello', 'examples/http-hello/main.ts'], ['http-vsock', 'examples/http-vsock/main.ts'], ['inmem', join(dir, 'inmem.ts')]]) {
    const r = spawnSync(process.execPath, [KILN, 'build', src!, '-o', join(dir, `${name}.elf`)], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const node: number[] = [];
  const tcp: number[] = [];
  const vsock: number[] = [];
  const mem: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    node.push(await hostNode());
    tcp.push(await guestTcp());
    vsock.push(await guestVsock());
    mem.push(inMemory());
    console.error(`run ${i + 1}/${RUNS}: node ${node[i]!.toFixed(0)}, guest tcp ${tcp[i]!.toFixed(0)}, guest vsock ${vsock[i]!.toFixed(0)} req/s, in memory ${mem[i]} us/req`);
  }
  const n = median(node);
  const line = (what: string, v: number): string => `| ${what} | ${v.toFixed(0)} | ${(v / n).toFixed(2)} |`;
  console.log(`### HTTP (${new Date().toISOString().slice(0, 10)}, ${RUNS} interleaved runs, medians)

Handler returning "hello", ${CONNS} keep-alive connections, ${SECONDS} s per measurement. Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Linux ${release()}.

| server | req/s | vs host Node |
|---|---|---|
${line('host Node (node:http), wrk -t2 -c64', n)}
${line('guest kiln:http over kiln:net TCP, --net user (passt), wrk -t2 -c64', median(tcp))}
${line('guest kiln:http over vsock (host client through the hybrid socket)', median(vsock))}

The HTTP server alone in the guest (in-memory Conn/Listener, 64 connections): ${median(mem).toFixed(1)} us per request (${(1e6 / median(mem)).toFixed(0)} req/s).
`);
}

main().finally(() => rmSync(dir, { recursive: true, force: true }));
