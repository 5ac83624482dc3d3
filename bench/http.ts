// HTTP benchmark (a script, not a test; issue 4). wrk with 1 and 64 connections for DURATION
// seconds against:
//   - host Node: the same handlers on Node's own HTTP server on the host (the ceiling):
//     bench/http/node_hello.mjs and bench/http/node_static.mjs;
//   - Kiln: examples/http-hello and examples/static-web-server on Kiln's VMM (1 vCPU, 64 MiB) on
//     each platform (the process platform and KVM, interleaved; `--platforms` picks), runVm in
//     this process (so VM exits / register-channel requests are counted), reached through
//     `--net user` hostfwd on 127.0.0.1 (passt) — and, when run as root, through a TAP device in
//     a network namespace this script creates (`kiln run --accel P` and wrk run inside it),
//     which leaves passt out of the path;
//   - Linux+Node under QEMU TCG: Debian's kernel is not PVM-aware, so on these machines a
//     Linux+Node guest only runs emulated — a reference, labelled as such
//     (bench/http/linux_guest.sh builds it).
// Also: the time from VM start to the first HTTP response (runVm here, a client in a child
// process polling; both stamp wall-clock microseconds), and from `kiln run` spawned to it.
// Medians of RUNS interleaved runs; prints a markdown block for bench/RESULTS.md.
// Run: npm run bench:http [-- --runs 3] [--duration 10] [--warmup S] [--no-tcg] [--no-tap] [--platforms process,kvm]

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVm, type VmResult } from '@kiln/vmm/vm.ts';
import { USER_NET_IP } from '../packages/cli/src/run.ts';
import { ROOT, KILN, arg, median, fmt, platformsArg, PLATFORM_LABEL, runWrk, pollerProcess, wallUs, type Platform, type WrkResult } from './common.ts';

const RUNS = arg('--runs', 3);
const DURATION = arg('--duration', 10);
const WARMUP = arg('--warmup', DURATION);
const PLATFORMS = platformsArg();
const LABEL = PLATFORM_LABEL;
const WITH_TCG = !process.argv.includes('--no-tcg');
const WITH_TAP = !process.argv.includes('--no-tap') && process.getuid?.() === 0;
const GUEST_PORT = 8080;
const GUEST_IP = '10.0.2.15';
const STATIC_DIR = join(ROOT, 'examples/static-web-server/public');
const STATIC_PATH = '/index.html';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (what: string): void => void process.stderr.write(`bench:http ${new Date().toISOString().slice(11, 19)} ${what}\n`);

/** wrk for DURATION seconds by default. */
const wrk = (url: string, conns: number, netns?: string, seconds = DURATION): Promise<WrkResult> => runWrk(url, conns, seconds, netns);

/** Polls `url` until it answers 200 (each attempt a fresh connection); resolves with the wall-clock µs of that answer. */
async function firstResponse(url: string, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200) return wallUs();
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`${url}: no answer within ${timeoutMs} ms`);
    await sleep(1);
  }
}

function build(example: string, out: string, assets?: string): Uint8Array {
  const r = spawnSync(process.execPath, [KILN, 'build', join(ROOT, 'examples', example, 'main.ts'), '-o', out, ...(assets ? ['--assets', assets] : [])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kiln build ${example}: ${r.stderr}`);
  return new Uint8Array(readFileSync(out));
}

/** Stops a `kiln run` child (the tender dies with it) and waits for its exit. */
async function stopKiln(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill();
  await exited;
}

let nextPort = 18000 + (process.pid % 1000) * 2;

interface KilnServer {
  url: string;
  /** Resolves when the VM ended (its lifetime is a runVm timeout). */
  result: Promise<VmResult>;
  startUs: number;
}

/** Boots an image on Kiln's VMM (runVm here) with user networking; the VM ends after `lifetimeMs` (a timeout is how it is stopped). */
function kilnServer(image: Uint8Array, lifetimeMs: number, path: string, platform: Platform): KilnServer {
  const hostPort = nextPort++;
  const startUs = wallUs();
  const result = runVm({
      image,
      memMiB: 64,
      cpus: 1,
      platform,
      stdout: { write: () => true },
      stderr: { write: () => true },
      timeoutMs: lifetimeMs,
      cmdline: USER_NET_IP,
      net: { user: { hostfwd: [{ hostAddr: '127.0.0.1', hostPort, guestPort: GUEST_PORT }] } },
  });
  const url = `http://127.0.0.1:${hostPort}${path}`;
  return { url, result, startUs };
}

function hostServer(script: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const port = nextPort++;
  const child = spawn(process.execPath, [join(ROOT, 'bench/http', script), ...args.map((a) => a.replace('PORT', String(port)))], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    child.stdout!.once('data', () => res({ child, url: `http://127.0.0.1:${port}` }));
    child.once('exit', (c) => rej(new Error(`${script} exited ${c}`)));
  });
}

/** The Linux+Node guest under QEMU TCG with user networking; resolves once node listens. */
async function linuxGuest(): Promise<{ child: ChildProcess; url: string } | undefined> {
  const dir = join(ROOT, 'bench/out/linux-guest');
  if (!existsSync(join(dir, 'initrd.cpio.gz'))) {
    const r = spawnSync('bash', [join(ROOT, 'bench/http/linux_guest.sh')], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`Linux guest not built (${r.stderr.trim()}); skipping the TCG reference`);
      return undefined;
    }
  }
  const port = nextPort++;
  const child = spawn('qemu-system-x86_64', [
    '-M', 'pc', '-accel', 'tcg', '-cpu', 'max', '-m', '1024', '-smp', '1', '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
    '-kernel', join(dir, 'vmlinuz'), '-initrd', join(dir, 'initrd.cpio.gz'), '-append', 'console=ttyS0 quiet panic=-1',
    '-netdev', `user,id=n,hostfwd=tcp:127.0.0.1:${port}-:8080`, '-device', 'virtio-net-pci,netdev=n,romfile=',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error('Linux guest: no "listening" within 120 s')), 120_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('listening')) {
        clearTimeout(t);
        res();
      }
    });
    child.once('exit', (c) => rej(new Error(`qemu exited ${c}: ${out.slice(-500)}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * A network namespace with a TAP device "tap0" (host side 10.0.3.1/24); the guest gets 10.0.3.2.
 * The VMM must open the TAP inside the namespace, so the Kiln guest runs as `kiln run` there.
 */
function tapNamespace(): { netns: string; guestUrl: string; cleanup(): void } | undefined {
  const netns = `kiln-bench-${process.pid}`;
  const run = (...a: string[]): boolean => spawnSync(a[0]!, a.slice(1), { stdio: 'ignore' }).status === 0;
  if (!run('ip', 'netns', 'add', netns)) return undefined;
  const inNs = (...a: string[]): boolean => run('ip', 'netns', 'exec', netns, ...a);
  const ok = inNs('ip', 'link', 'set', 'lo', 'up') && inNs('ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap')
    && inNs('ip', 'addr', 'add', '10.0.3.1/24', 'dev', 'tap0') && inNs('ip', 'link', 'set', 'tap0', 'up');
  const cleanup = (): void => void run('ip', 'netns', 'del', netns);
  if (!ok) {
    cleanup();
    return undefined;
  }
  return { netns, guestUrl: `http://10.0.3.2:${GUEST_PORT}`, cleanup };
}

/** `kiln run ELF --net tap=tap0,ip=10.0.3.2/24` inside the namespace; resolves once the guest listens. */
async function kilnInNamespace(netns: string, elf: string, platform: Platform): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, KILN, 'run', elf, '--accel', platform, '--mem', '64', '--cpus', '1', '--net', 'tap=tap0,ip=10.0.3.2/24', '--timeout', String(WARMUP + DURATION + 30)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error('Kiln guest in the namespace: not listening within 20 s')), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Listening on')) {
        clearTimeout(t);
        res();
      }
    });
    child.once('exit', (c) => rej(new Error(`kiln run exited ${c}: ${out}`)));
  });
  return child;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-http-'));
  const hello = build('http-hello', join(dir, 'http-hello.elf'));
  const stat = build('static-web-server', join(dir, 'static.elf'), STATIC_DIR);
  const rows = new Map<string, { rps: number[]; p99: number[]; exitsPerReq: number[]; errors: number }>();
  const add = (k: string, w: WrkResult, exitsPerReq?: number): void => {
    const r = rows.get(k) ?? { rps: [], p99: [], exitsPerReq: [], errors: 0 };
    r.rps.push(w.rps);
    r.p99.push(w.p99Ms);
    if (exitsPerReq !== undefined) r.exitsPerReq.push(exitsPerReq);
    r.errors += w.errors;
    rows.set(k, r);
  };
  const perPlatform = (): Record<Platform, number[]> => ({ process: [], kvm: [] });
  const firstFromVm = perPlatform();
  const firstFromSpawn = perPlatform();
  const bootTimes = perPlatform();
  const tapNs = WITH_TAP ? tapNamespace() : undefined;
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const conns of [1, 64]) {
        for (const [app, image, elf, path, script, args] of [
          ['http-hello', hello, join(dir, 'http-hello.elf'), '/', 'node_hello.mjs', ['PORT', '127.0.0.1']],
          ['static-web-server', stat, join(dir, 'static.elf'), STATIC_PATH, 'node_static.mjs', [STATIC_DIR, 'PORT']],
        ] as const) {
          const host = await hostServer(script, [...args]);
          try {
            await wrk(host.url + path, conns, undefined, WARMUP); // warm-up
            add(`${app} | ${conns} | host Node`, await wrk(host.url + path, conns));
          } finally {
            host.child.kill();
          }
          // Alternate which platform goes first.
          for (const platform of run % 2 ? [...PLATFORMS].reverse() : PLATFORMS) {
            progress(`run ${run + 1}, ${app}, ${conns} connections, ${platform}, passt`);
            const s = kilnServer(image, (WARMUP + DURATION + 6) * 1000, path, platform);
            await firstResponse(s.url, 10_000);
            const warm = await wrk(s.url, conns, undefined, WARMUP);
            const w = await wrk(s.url, conns);
            const r = await s.result;
            // Exits over the VM's whole life (boot, probe, warm-up and run) per request served.
            add(`${app} | ${conns} | Kiln, ${LABEL[platform]} (user net, passt)`, w, r.stats.vcpuExits / (warm.requests + w.requests));
          }
          if (tapNs) {
            for (const platform of run % 2 ? [...PLATFORMS].reverse() : PLATFORMS) {
              progress(`run ${run + 1}, ${app}, ${conns} connections, ${platform}, TAP`);
              const vm = await kilnInNamespace(tapNs.netns, elf, platform);
              progress('  guest listening');
              try {
                await wrk(tapNs.guestUrl + path, conns, tapNs.netns, WARMUP);
                progress('  warm-up done');
                add(`${app} | ${conns} | Kiln, ${LABEL[platform]} (TAP)`, await wrk(tapNs.guestUrl + path, conns, tapNs.netns));
              } finally {
                await stopKiln(vm);
              }
            }
          }
        }
      }
      progress(`run ${run + 1}, first response`);
      // Time to first response: runVm started here, a poller in a child process.
      for (const platform of PLATFORMS) {
        const port = nextPort;
        const poll = pollerProcess(port);
        await sleep(300); // the poller's Node is up and probing before the VM starts
        const s = kilnServer(hello, 5000, '/', platform);
        if (!s.url.includes(`:${port}/`)) throw new Error('port bookkeeping');
        const answered = await poll.answeredUs;
        firstFromVm[platform].push((answered - s.startUs) / 1000);
        const r = await s.result;
        if (r.bootTime) bootTimes[platform].push(r.bootTime.wallUs / 1000);
      }
      for (const platform of PLATFORMS) {
        const port = nextPort++;
        const t0 = wallUs();
        const child = spawn(process.execPath, [KILN, 'run', join(dir, 'http-hello.elf'), '--accel', platform, '--mem', '64', '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:${GUEST_PORT}`], { stdio: 'ignore' });
        try {
          firstFromSpawn[platform].push((await firstResponse(`http://127.0.0.1:${port}/`, 10_000) - t0) / 1000);
        } finally {
          await stopKiln(child);
        }
      }
    }
    if (WITH_TCG) {
      const lg = await linuxGuest();
      if (lg) {
        try {
          for (const conns of [1, 64]) {
            await wrk(lg.url + '/', conns, undefined, WARMUP);
            add(`http-hello | ${conns} | Linux+Node guest, QEMU TCG (emulated reference)`, await wrk(lg.url + '/', conns));
          }
        } finally {
          lg.child.kill();
        }
      }
    }
  } finally {
    tapNs?.cleanup();
  }

  const lines: string[] = [];
  lines.push(`### HTTP (${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Linux ${release()})`, '');
  lines.push(`wrk, ${DURATION} s per run after a ${WARMUP} s warm-up, medians of ${RUNS} interleaved runs; Kiln guests: 1 vCPU, 64 MiB, Kiln's VMM on ${PLATFORMS.map((p) => (p === 'kvm' ? 'KVM (nested PVM)' : 'the process platform')).join(' and ')}. Loopback and a TAP in a network namespace only.`, '');
  lines.push('| app | connections | server | req/s | p99 ms | req/s vs host Node | p99 vs host Node | req/s vs KVM, same path | exits per request | errors |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const [k, r] of rows) {
    const [app, conns] = k.split(' | ');
    const base = rows.get(`${app} | ${conns} | host Node`);
    const rps = median(r.rps);
    const p99 = median(r.p99);
    const kvmTwin = k.includes(LABEL.process) ? rows.get(k.replace(LABEL.process, LABEL.kvm)) : undefined;
    lines.push(`| ${k} | ${fmt(rps, 0)} | ${fmt(p99, 2)} | ${base ? fmt(rps / median(base.rps), 2) : ''} | ${base ? fmt(p99 / median(base.p99), 2) : ''} | ${kvmTwin ? fmt(rps / median(kvmTwin.rps), 2) : ''} | ${r.exitsPerReq.length ? fmt(median(r.exitsPerReq), 2) : ''} | ${r.errors} |`);
  }
  lines.push('', 'Exits per request: every KVM_RUN return (KVM) or register-channel request (process platform) over the VM\'s whole life (boot, probe, warm-up and run), passt rows only.');
  for (const p of PLATFORMS) lines.push('', `First HTTP response of http-hello, ${LABEL[p]}: ${fmt(median(firstFromVm[p]), 1)} ms after runVm started (median of ${firstFromVm[p].length}; guest boot ${fmt(median(bootTimes[p]), 1)} ms), ${fmt(median(firstFromSpawn[p]), 1)} ms after \`kiln run --accel ${p}\` was spawned (Node start-up and passt included).`);
  lines.push('', `Command: \`npm run bench:http -- --runs ${RUNS} --duration ${DURATION}${WARMUP !== DURATION ? ` --warmup ${WARMUP}` : ''}${WITH_TCG ? '' : ' --no-tcg'}${WITH_TAP ? '' : ' --no-tap'}${process.argv.includes('--platforms') ? ` --platforms ${PLATFORMS.join(',')}` : ''}\`.`);
  const text = lines.join('\n');
  console.log(text);
  writeFileSync(join(dir, 'results.md'), text + '\n');
}

await main();
