// Virtio benchmark (a script, not a test). Block: a guest app reads a 64 MiB disk sequentially
// in 1 MiB requests and times itself with performance.now(); against host `dd bs=1M` on the same
// file (page cache warmed by reading it once first, on both sides), on Kiln's VMM on each
// platform (runVm directly with `platform: 'process'` and `'kvm'`, so the whole-VM exit counts
// and virtio notify/interrupt counts are available) and on QEMU/KVM (`kiln run --vmm qemu
// --accel kvm`). Every Kiln part runs on both platforms, interleaved (`--platforms` picks). Console: 1000 console.log lines and hello on the
// serial port vs virtio-console (Kiln's VMM). Vsock (Kiln's VMM): a bench guest listens on port
// 5000; a host client in a child process (so it does not share the VMM's event loop) connects
// through the hybrid Unix socket (`CONNECT 5000`), and one VM per mode moves 64 MiB guest → host,
// 64 MiB host → guest, or does 1000 64-byte request/response round trips (after 20 warm-up ones);
// timed on the host, VM exits and vsock notifies/interrupts per MiB from runVm's stats.
// Medians of N interleaved runs; prints a markdown block for bench/RESULTS.md.
// Run: npm run bench:virtio [-- --runs 5] [--only block|vsock] [--platforms process,kvm] (block includes the console part)

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVm, type VmResult } from '@kiln/vmm/vm.ts';
import { ROOT, KILN, median, fmt, machine, platformsArg, PLATFORM_LABEL, type Platform } from './common.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg === -1 ? 5 : Number(process.argv[runsArg + 1]);
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg === -1 ? undefined : process.argv[onlyArg + 1];
if (ONLY !== undefined && ONLY !== 'block' && ONLY !== 'vsock') throw new Error('--only block|vsock');
const PLATFORMS = platformsArg();
const LABEL = PLATFORM_LABEL;
const VSOCK_MIB = 64;
const PING_N = 1000;
const PING_WARMUP = 20;
const PING_BYTES = 64;
const DISK_MIB = 64;
const CONSOLE_MODES: [string, boolean | 'auto'][] = [['serial', false], ['virtio-console', true], ['auto (kiln.console=auto)', 'auto']];

const READER = `
import { openBlockDevice } from 'kiln:block';
async function main(): Promise<void> {
  const disk = await openBlockDevice(0);
  const CHUNK = 1 << 20;
  let sum = 0;
  const t0 = performance.now();
  for (let off = 0; off < disk.size; off += CHUNK) {
    const b = await disk.read(off, CHUNK);
    sum = (sum + b[0]! + b[CHUNK - 1]!) | 0;
  }
  const ms = performance.now() - t0;
  console.log('READ ' + disk.size + ' ' + ms.toFixed(3) + ' ' + sum);
}
main();
`;
const LINES = `
for (let i = 0; i < 1000; i++) console.log('line ' + i + ' of the console benchmark, some text to make it longer');
`;

// Bench guest: `-- send` writes VSOCK_MIB MiB to the first connection then shuts down its write
// side; `-- recv` reads VSOCK_MIB MiB and answers one byte 'K'; `-- echo` echoes until EOF.
// One connection, then the guest exits.
const VSOCK_GUEST = `
import { listen } from 'kiln:vsock';
import { args } from 'kiln:process';
async function main(): Promise<void> {
  const mode = args[0];
  const total = ${VSOCK_MIB} * 1024 * 1024;
  const listener = listen(5000);
  for await (const conn of listener) {
    const buf = new Uint8Array(64 * 1024);
    if (mode === 'send') {
      for (let i = 0; i < buf.length; i++) buf[i] = i & 255;
      for (let sent = 0; sent < total; sent += buf.length) await conn.write(buf);
      await conn.closeWrite();
      while ((await conn.read(buf)) !== null) {}
    } else if (mode === 'recv') {
      let got = 0;
      while (got < total) {
        const n = await conn.read(buf);
        if (n === null) break;
        got += n;
      }
      await conn.write(new Uint8Array([75]));
      while ((await conn.read(buf)) !== null) {}
      console.log('RECV ' + got);
    } else {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        await conn.write(buf.subarray(0, n));
      }
    }
    conn.close();
    break;
  }
  listener.close();
}
main();
`;

// Host client (plain Node, child process): node client.mjs UDS MODE → one JSON line on stdout.
const VSOCK_CLIENT = `
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
const [uds, mode] = process.argv.slice(2);
const TOTAL = ${VSOCK_MIB} * 1024 * 1024;
const now = () => Number(process.hrtime.bigint()) / 1e6;
async function open() {
  const end = Date.now() + 30000;
  for (;;) {
    if (existsSync(uds)) {
      try {
        return await new Promise((res, rej) => { const s = connect({ path: uds, allowHalfOpen: true }, () => res(s)); s.once('error', rej); });
      } catch (e) { if (Date.now() > end) throw e; }
    }
    if (Date.now() > end) throw new Error(uds + ' never appeared');
    await new Promise((r) => setTimeout(r, 5));
  }
}
const s = await open();
let handler = () => {};
let onEnd = () => {};
let ended = false;
s.on('data', (d) => handler(d));
s.on('end', () => { ended = true; onEnd(); });
// The guest may start sending before the OK line was read: bytes after the newline in the same
// chunk are the stream's first bytes (kept in \`early\`).
let early = Buffer.alloc(0);
await new Promise((res, rej) => {
  let b = Buffer.alloc(0);
  handler = (d) => {
    b = Buffer.concat([b, d]);
    const i = b.indexOf(10);
    if (i < 0) return;
    const line = b.subarray(0, i).toString();
    early = b.subarray(i + 1);
    handler = (d2) => { early = Buffer.concat([early, d2]); };
    if (!line.startsWith('OK ')) rej(new Error('handshake: ' + line));
    else res();
  };
  s.write('CONNECT 5000\\n');
});
const out = { mode };
if (mode === 'send') {
  let got = early.length;
  const t0 = now();
  handler = (d) => { got += d.length; };
  if (!ended) await new Promise((r) => { onEnd = r; });
  out.ms = now() - t0;
  out.bytes = got;
  s.end();
} else if (mode === 'recv') {
  const chunk = Buffer.alloc(1 << 20, 0xab);
  let ack;
  const acked = new Promise((r) => { ack = r; });
  handler = (d) => { if (d.includes(75)) ack(); };
  const t0 = now();
  for (let sent = 0; sent < TOTAL; sent += chunk.length) {
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
  }
  await acked;
  out.ms = now() - t0;
  out.bytes = TOTAL;
  s.end();
} else {
  const msg = Buffer.alloc(${PING_BYTES}, 0x61);
  let got = 0;
  let done = () => {};
  handler = (d) => { got += d.length; if (got >= msg.length) { got -= msg.length; done(); } };
  const rtt = [];
  for (let i = 0; i < ${PING_WARMUP + PING_N}; i++) {
    const p = new Promise((r) => { done = r; });
    const t0 = now();
    s.write(msg);
    await p;
    if (i >= ${PING_WARMUP}) rtt.push((now() - t0) * 1000);
  }
  rtt.sort((a, b) => a - b);
  out.medianUs = rtt[rtt.length >> 1];
  out.p99Us = rtt[Math.floor(rtt.length * 0.99)];
  out.n = rtt.length;
  s.end();
}
process.stdout.write(JSON.stringify(out) + '\\n');
`;

function sh(cmd: string, args: string[]): { code: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}


interface KilnRun {
  r: VmResult;
  out: string;
  wallMs: number;
}

/** One VM on Kiln's VMM, guest console to a temp file through the fast path (as `kiln run` does). */
async function kilnRun(dir: string, image: Uint8Array, platform: Platform, o: { disk?: string; virtioConsole?: boolean | 'auto'; vsock?: string; cmdline?: string }): Promise<KilnRun> {
  const outPath = join(dir, 'console.out');
  const fd = openSync(outPath, 'w');
  const t0 = process.hrtime.bigint();
  let r: VmResult;
  try {
    r = await runVm({
      image,
      memMiB: 256,
      platform,
      stdoutFd: fd,
      bootTimer: true,
      stderr: { write: () => true },
      timeoutMs: 120_000,
      ...(o.disk ? { disks: [{ path: o.disk, readOnly: true }] } : {}),
      ...(o.virtioConsole ? { virtioConsole: o.virtioConsole } : {}),
      ...(o.vsock ? { vsock: { cid: 3, udsPath: o.vsock } } : {}),
      ...(o.cmdline ? { cmdline: o.cmdline } : {}),
    });
  } finally {
    closeSync(fd);
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { r, out: readFileSync(outPath, 'utf8'), wallMs };
}

type VsockMode = 'send' | 'recv' | 'echo';
interface VsockRun {
  k: KilnRun;
  client: { mode: string; ms?: number; bytes?: number; medianUs?: number; p99Us?: number; n?: number } | undefined;
  clientErr: string;
}

/** One vsock bench VM in `mode` with the host client in a child process. */
async function vsockRun(dir: string, image: Uint8Array, platform: Platform, clientPath: string, mode: VsockMode): Promise<VsockRun> {
  const uds = join(dir, `v-${mode}.sock`);
  rmSync(uds, { force: true });
  const child = spawn(process.execPath, [clientPath, uds, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const k = await kilnRun(dir, image, platform, { vsock: uds, cmdline: `-- ${mode}` });
  const t = setTimeout(() => child.kill(), 10_000);
  await exited;
  clearTimeout(t);
  let client: VsockRun['client'];
  try {
    client = JSON.parse(out.trim()) as VsockRun['client'];
  } catch {
    client = undefined;
  }
  return { k, client, clientErr: err.slice(0, 300) };
}

const vsockStat = (r: VmResult, key: 'notifies' | 'interrupts'): number => r.stats.virtio.filter((v) => v.name.includes('vsock')).reduce((a, v) => a + v[key], 0);

const step = (r: VmResult, name: string): number => r.timings.find((t) => t.step === name)?.ms ?? NaN;
const virtioSum = (r: VmResult, key: 'notifies' | 'interrupts'): number => r.stats.virtio.reduce((a, v) => a + v[key], 0);


async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-virtio-'));
  try {
    const build = (name: string, src: string): Uint8Array => {
      const out = join(dir, `${name}.elf`);
      const b = sh(KILN, ['build', src, '-o', out]);
      if (b.code !== 0) throw new Error(`kiln build ${src}: ${b.stderr}`);
      return readFileSync(out);
    };
    const doBlock = ONLY === undefined || ONLY === 'block';
    const doVsock = ONLY === undefined || ONLY === 'vsock';
    writeFileSync(join(dir, 'reader.ts'), READER);
    writeFileSync(join(dir, 'lines.ts'), LINES);
    writeFileSync(join(dir, 'vsock_bench.ts'), VSOCK_GUEST);
    const clientPath = join(dir, 'vsock_client.mjs');
    writeFileSync(clientPath, VSOCK_CLIENT);
    const reader = doBlock ? build('reader', join(dir, 'reader.ts')) : new Uint8Array();
    const lines = doBlock ? build('lines', join(dir, 'lines.ts')) : new Uint8Array();
    const hello = doBlock ? build('hello', 'examples/hello/main.ts') : new Uint8Array();
    const vsockGuest = doVsock ? build('vsock_bench', join(dir, 'vsock_bench.ts')) : new Uint8Array();
    const disk = join(dir, 'disk.img');
    const bytes = new Uint8Array(DISK_MIB << 20);
    randomFillSync(bytes);
    writeFileSync(disk, bytes);
    const dd = (): number => {
      const r = sh('dd', [`if=${disk}`, 'of=/dev/null', 'bs=1M']);
      const m = /copied, ([\d.]+) s/.exec(r.stderr);
      return m ? DISK_MIB / Number(m[1]) : NaN;
    };
    dd(); // warm the page cache (no cache dropping here)

    const s0 = { dd: [] as number[], qemu: [] as number[] };
    const blockState = () => ({ kiln: [] as number[], exits: [] as number[], mmio: [] as number[], pio: [] as number[], notifies: [] as number[], irqs: [] as number[] });
    const blk = Object.fromEntries(PLATFORMS.map((p) => [p, blockState()])) as Record<Platform, ReturnType<typeof blockState>>;
    const consState = () => new Map(CONSOLE_MODES.map(([label]) => [label, { linesRun: [] as number[], linesExits: [] as number[], linesNotifies: [] as number[], helloBoot: [] as number[], helloRun: [] as number[], helloExits: [] as number[] }]));
    const consP = Object.fromEntries(PLATFORMS.map((p) => [p, consState()])) as Record<Platform, ReturnType<typeof consState>>;
    const failures: string[] = [];
    const expectLines = Array.from({ length: 1000 }, (_, i) => `line ${i} of the console benchmark, some text to make it longer\n`).join('');
    const vsState = () => ({
      g2hMiBs: [] as number[], h2gMiBs: [] as number[], rttUs: [] as number[], rttP99Us: [] as number[],
      g2hExits: [] as number[], h2gExits: [] as number[], g2hNotifies: [] as number[], h2gNotifies: [] as number[],
      g2hIrqs: [] as number[], h2gIrqs: [] as number[], pingExits: [] as number[], pingNotifies: [] as number[], pingIrqs: [] as number[],
    });
    const vsP = Object.fromEntries(PLATFORMS.map((p) => [p, vsState()])) as Record<Platform, ReturnType<typeof vsState>>;
    for (let i = 0; i < RUNS; i++) {
      // Alternate which platform goes first.
      const order = i % 2 ? [...PLATFORMS].reverse() : PLATFORMS;
      if (doVsock) {
        for (const mode of ['send', 'recv', 'echo'] as const) for (const platform of order) {
          const vs = vsP[platform];
          const v = await vsockRun(dir, vsockGuest, platform, clientPath, mode);
          const c = v.client;
          if (v.k.r.exitCode !== 0 || !c) {
            failures.push(`vsock ${mode} (${platform}): exit ${v.k.r.exitCode} ${v.k.r.message ?? ''} ${v.k.out.slice(0, 200)} client: ${v.clientErr}`);
            continue;
          }
          const r = v.k.r;
          if (mode === 'echo') {
            vs.rttUs.push(c.medianUs!);
            vs.rttP99Us.push(c.p99Us!);
            const trips = PING_N + PING_WARMUP;
            vs.pingExits.push(r.stats.exits / trips);
            vs.pingNotifies.push(vsockStat(r, 'notifies') / trips);
            vs.pingIrqs.push(vsockStat(r, 'interrupts') / trips);
            continue;
          }
          if (c.bytes !== VSOCK_MIB << 20) {
            failures.push(`vsock ${mode} (${platform}): ${c.bytes} bytes moved`);
            continue;
          }
          const mibs = VSOCK_MIB / (c.ms! / 1000);
          if (mode === 'send') {
            vs.g2hMiBs.push(mibs);
            vs.g2hExits.push(r.stats.exits / VSOCK_MIB);
            vs.g2hNotifies.push(vsockStat(r, 'notifies') / VSOCK_MIB);
            vs.g2hIrqs.push(vsockStat(r, 'interrupts') / VSOCK_MIB);
          } else {
            vs.h2gMiBs.push(mibs);
            vs.h2gExits.push(r.stats.exits / VSOCK_MIB);
            vs.h2gNotifies.push(vsockStat(r, 'notifies') / VSOCK_MIB);
            vs.h2gIrqs.push(vsockStat(r, 'interrupts') / VSOCK_MIB);
          }
        }
      }
      if (!doBlock) {
        process.stderr.write(`run ${i + 1}/${RUNS} done\n`);
        continue;
      }
      s0.dd.push(dd());
      for (const platform of order) {
      const s = blk[platform];
      const k = await kilnRun(dir, reader, platform, { disk });
      const m = /READ (\d+) ([\d.]+)/.exec(k.out);
      if (k.r.exitCode !== 0 || !m) failures.push(`kiln read (${platform}): exit ${k.r.exitCode} ${k.r.message ?? ''} ${k.out.slice(0, 200)}`);
      else {
        s.kiln.push(DISK_MIB / (Number(m[2]) / 1000));
        s.exits.push(k.r.stats.exits / DISK_MIB);
        s.mmio.push(k.r.stats.mmioExits / DISK_MIB);
        s.pio.push(k.r.stats.pioExits / DISK_MIB);
        s.notifies.push(virtioSum(k.r, 'notifies') / DISK_MIB);
        s.irqs.push(virtioSum(k.r, 'interrupts') / DISK_MIB);
      }
      }
      const q = sh(KILN, ['run', join(dir, 'reader.elf'), '--vmm', 'qemu', '--accel', 'kvm', '--mem', '256', '--disk', `${disk},ro`]);
      const qm = /READ (\d+) ([\d.]+)/.exec(q.stdout);
      if (q.code !== 0 || !qm) failures.push(`qemu read: exit ${q.code} ${q.stderr.slice(0, 200)}`);
      else s0.qemu.push(DISK_MIB / (Number(qm[2]) / 1000));

      for (const platform of order) for (const [label, mode] of CONSOLE_MODES) {
        const c = consP[platform].get(label)!;
        const l = await kilnRun(dir, lines, platform, { virtioConsole: mode });
        if (l.r.exitCode !== 0 || l.out !== expectLines) failures.push(`lines (${label}, ${platform}): exit ${l.r.exitCode}, ${l.out.length} bytes`);
        else {
          c.linesRun.push(step(l.r, 'run'));
          c.linesExits.push(l.r.stats.exits);
          c.linesNotifies.push(virtioSum(l.r, 'notifies'));
        }
        const h = await kilnRun(dir, hello, platform, { virtioConsole: mode });
        if (h.r.exitCode !== 0 || !h.out.includes('Hello from Kiln')) failures.push(`hello (${label}, ${platform}): exit ${h.r.exitCode} ${h.out.slice(0, 100)}`);
        else {
          c.helloBoot.push((h.r.bootTime?.wallUs ?? NaN) / 1000);
          c.helloRun.push(step(h.r, 'run'));
          c.helloExits.push(h.r.stats.exits);
        }
      }
      process.stderr.write(`run ${i + 1}/${RUNS} done\n`);
    }

    const date = new Date().toISOString().slice(0, 10);
    const ratio = (a: number, b: number): string => fmt(a / b, 2);
    const vsockMd = [
      `Vsock (Kiln's VMM, hybrid Unix-socket backend, on ${PLATFORMS.map((p) => LABEL[p]).join(' and ')}): a bench guest listens on port 5000, a host client in a`,
      'separate Node process connects with `CONNECT 5000` and times on the host; one VM per direction, platform and run.',
      `Throughput: ${VSOCK_MIB} MiB in one stream (guest writes 64 KiB per \`write\`, host 1 MiB per socket write),`,
      'from the `OK` line to end of stream (guest → host) or from the first byte to the guest\'s 1-byte ack (host → guest).',
      `Latency: ${PING_N} round trips of a ${PING_BYTES}-byte request echoed by the guest, one at a time, after ${PING_WARMUP} warm-up ones.`,
      '',
      '| direction | platform | MiB/s | vs KVM | exits to the VMM / MiB | vsock notifies / MiB | vsock interrupts / MiB |',
      '|---|---|---|---|---|---|---|',
      ...(['g2h', 'h2g'] as const).flatMap((d) => PLATFORMS.map((p) => {
        const v = vsP[p];
        return `| ${d === 'g2h' ? 'guest → host' : 'host → guest'} | ${LABEL[p]} | ${fmt(median(v[`${d}MiBs`]))} | ${vsP.kvm ? ratio(median(v[`${d}MiBs`]), median(vsP.kvm[`${d}MiBs`])) : ''} | ${fmt(median(v[`${d}Exits`]), 2)} | ${fmt(median(v[`${d}Notifies`]), 2)} | ${fmt(median(v[`${d}Irqs`]), 2)} |`;
      })),
      '',
      `Round trip (${PING_BYTES} B request/response; medians over runs of each run's median and p99):`,
      '',
      '| platform | median µs | p99 µs | median vs KVM | exits to the VMM / trip | vsock notifies / trip | interrupts / trip |',
      '|---|---|---|---|---|---|---|',
      ...PLATFORMS.map((p) => {
        const v = vsP[p];
        return `| ${LABEL[p]} | ${fmt(median(v.rttUs))} | ${fmt(median(v.rttP99Us))} | ${vsP.kvm ? ratio(median(v.rttUs), median(vsP.kvm.rttUs)) : ''} | ${fmt(median(v.pingExits), 2)} | ${fmt(median(v.pingNotifies), 2)} | ${fmt(median(v.pingIrqs), 2)} |`;
      }),
      '',
      '"Exits to the VMM" count every device-register access that reached the VMM\'s JS device models over the',
      'whole VM (boot, rng and vsock probe included): KVM exits, or register-channel requests on the process',
      'platform. Notifies (ioeventfd / notify eventfd + control-page bit) and interrupts (irqfd / wake eventfd +',
      'control-page bit) are neither.',
      '',
    ];
    const md = [
      `### Virtio${ONLY ? ` ${ONLY}` : ''}: ${PLATFORMS.map((p) => LABEL[p]).join(' vs ')} (${date}, ${RUNS} interleaved runs, medians)`,
      '',
      `Machine: ${machine()}`,
      '',
      ...(doVsock ? vsockMd : []),
      ...(doBlock ? [
      `Block: sequential read of a ${DISK_MIB} MiB disk image (raw file, read-only) in 1 MiB requests, one at a time,`,
      'timed in the guest with performance.now(); host `dd if=FILE of=/dev/null bs=1M` on the same file. The',
      'page cache was warmed by one host read first (dropping caches is not possible here).',
      '',
      '| reader | MiB/s | vs host dd | exits to the VMM / MiB (MMIO, port I/O) | notifies / MiB | interrupts / MiB |',
      '|---|---|---|---|---|---|',
      `| host dd bs=1M | ${fmt(median(s0.dd))} | 1.00 | | | |`,
      ...PLATFORMS.map((p) => {
        const b = blk[p];
        return `| guest on Kiln's VMM, ${LABEL[p]} | ${fmt(median(b.kiln))} | ${ratio(median(b.kiln), median(s0.dd))} | ${fmt(median(b.exits), 2)} (${fmt(median(b.mmio), 2)}, ${fmt(median(b.pio), 2)}) | ${fmt(median(b.notifies), 2)} | ${fmt(median(b.irqs), 2)} |`;
      }),
      `| guest on QEMU/KVM (microvm, virtio-blk-device) | ${fmt(median(s0.qemu))} | ${ratio(median(s0.qemu), median(s0.dd))} | | | |`,
      '',
      ...(blk.process && blk.kvm ? [`Block, process platform / KVM: ${ratio(median(blk.process.kiln), median(blk.kvm.kiln))}.`, ''] : []),
      `Per MiB moved: the whole VM (boot, rng probe and disk probe included, ${DISK_MIB} MiB read) divided by ${DISK_MIB}.`,
      '',
      'Console: 1000 `console.log` lines of 63 bytes and hello, Kiln\'s VMM, console to a file through the',
      'fast path (`stdoutFd`). `run` = the guest running to the end of the VM.',
      '',
      '| program | console | platform | run ms | exits to the VMM | virtio notifies | Guest-boot-time ms |',
      '|---|---|---|---|---|---|---|',
      ...['lines', 'hello'].flatMap((prog) => CONSOLE_MODES.flatMap(([label]) => PLATFORMS.map((p) => {
        const c = consP[p].get(label)!;
        return prog === 'lines'
          ? `| 1000 lines | ${label} | ${LABEL[p]} | ${fmt(median(c.linesRun), 2)} | ${fmt(median(c.linesExits), 0)} | ${fmt(median(c.linesNotifies), 0)} | |`
          : `| hello | ${label} | ${LABEL[p]} | ${fmt(median(c.helloRun), 2)} | ${fmt(median(c.helloExits), 0)} | | ${fmt(median(c.helloBoot), 2)} |`;
      }))),
      '',
      'Serial output on the fast path is written by the vCPU thread (KVM) or the tender (process platform)',
      'itself and is not counted in "exits to the VMM" (on KVM each `rep outsb` still traps, one exit per byte).',
      '',
      ] : []),
      `Command: \`npm run bench:virtio -- --runs ${RUNS}${ONLY ? ` --only ${ONLY}` : ''}${process.argv.includes('--platforms') ? ` --platforms ${PLATFORMS.join(',')}` : ''}\`.`,
      ...(failures.length ? ['', `Failures (${failures.length}): ${failures.slice(0, 5).join('; ')}`] : []),
      '',
    ].join('\n');
    process.stdout.write(md + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
