// Soak: does one VMM process stay flat while it hosts VM after VM? (a script, not a test)
//   1. cycles: CYCLES boots of examples/hello in this one Node process through runVm, on the
//      platform `kiln run` picks (KVM where /dev/kvm opens, else the process platform); every
//      other cycle is a kill instead — bench/guests/latency.ts waiting on a 60 s timer, ended by
//      runVm's timeout (KILL_MS) the way `--timeout` ends it;
//   2. load: VMs of examples/http-hello behind passt (hostfwd on 127.0.0.1), each serving wrk
//      (1 thread, 16 connections) for WRK_S seconds and then killed by its timeout, one after
//      another for LOAD_S seconds.
// At the start, after each phase and at every tenth of it the script samples its own open fds
// (/proc/self/fd), RSS, and the processes left behind (its children — tenders, passt — and any
// kiln-tender on the machine). Target: flat — the end equal to the start, give or take the
// V8 heap. A markdown block for bench/RESULTS.md.
// Run: npm run bench:soak [-- --cycles 1000] [--load-s 600] [--wrk-s 30]

import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVm } from '@kiln/vmm';
import { Kvm } from '@kiln/kvm';
import { ROOT, KILN, arg, fmt, machine } from './common.ts';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';

const CYCLES = arg('--cycles', 1000);
const LOAD_S = arg('--load-s', 600);
const WRK_S = arg('--wrk-s', 30);
const KILL_MS = 300;

interface Sample { label: string; fds: number; rssMiB: number; children: number; tenders: number }

/** Processes whose parent is `pid`, and kiln-tender processes anywhere, from /proc. */
function processes(pid: number): { children: number; tenders: number } {
  let children = 0;
  let tenders = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid) children++;
      if (comm === 'kiln-tender') tenders++;
    } catch {
      // ended while listed
    }
  }
  return { children, tenders };
}

function sample(label: string): Sample {
  return { label, fds: readdirSync('/proc/self/fd').length, rssMiB: process.memoryUsage().rss / 2 ** 20, ...processes(process.pid) };
}

function build(dir: string, source: string): Buffer {
  const out = join(dir, `${source.replaceAll('/', '_')}.elf`);
  const r = spawnSync(process.execPath, [KILN, 'build', source, '-o', out], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kiln build ${source}: ${r.stderr}`);
  return readFileSync(out);
}

const platform: 'kvm' | 'process' = (() => {
  try {
    Kvm.open();
    return 'kvm';
  } catch {
    return 'process';
  }
})();

const dir = mkdtempSync(join(tmpdir(), 'kiln-soak-'));
const samples: Sample[] = [];
let failures = 0;
const quiet = { write: (): void => {} };
try {
  const hello = build(dir, 'examples/hello/main.ts');
  const httpHello = build(dir, 'examples/http-hello/main.ts');
  const idle = build(dir, 'bench/guests/latency.ts');
  const idleRun = { image: idle, platform, memMiB: 16, stdout: quiet, stderr: quiet, cmdline: '-- idle 60000', timeoutMs: KILL_MS };
  // One run of each first, so lazily loaded code (addon, tender, bundles) is not counted as growth.
  await runVm({ image: hello, platform, memMiB: 16, stdout: quiet, stderr: quiet });
  await runVm(idleRun);
  global.gc?.();
  samples.push(sample('start'));

  const t0 = performance.now();
  for (let i = 1; i <= CYCLES; i++) {
    const kill = i % 2 === 0;
    const r = kill
      ? await runVm(idleRun)
      : await runVm({ image: hello, platform, memMiB: 16, stdout: quiet, stderr: quiet });
    if (r.reason !== (kill ? 'timeout' : 'exit') || (!kill && r.exitCode !== 0)) failures++;
    if (i % Math.max(1, Math.floor(CYCLES / 10)) === 0) samples.push(sample(`cycle ${i}`));
  }
  const cyclesS = (performance.now() - t0) / 1000;
  global.gc?.();
  samples.push(sample(`after ${CYCLES} cycles`));

  const tl = performance.now();
  let vms = 0;
  let requests = 0;
  let wrkErrors = 0;
  while ((performance.now() - tl) / 1000 < LOAD_S) {
    const port = await freeLoopbackPort();
    let out = '';
    const vm = runVm({
      image: httpHello, platform, memMiB: 64, stdout: { write: (b: Uint8Array) => void (out += Buffer.from(b).toString()) }, stderr: quiet,
      net: { user: { hostfwd: [{ hostAddr: '127.0.0.1', hostPort: port, guestPort: 8080 }] } }, timeoutMs: (WRK_S + 5) * 1000,
    });
    for (let k = 0; k < 200 && !out.includes('Listening'); k++) await new Promise((r) => setTimeout(r, 25));
    // Asynchronous: the VMM's device models run on this process's event loop.
    const w = await new Promise<string>((resolve) => execFile('wrk', ['-t', '1', '-c', '16', '-d', `${WRK_S}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' }, (_e, stdout) => resolve(stdout ?? '')));
    requests += Number(/(\d+) requests in/.exec(w)?.[1] ?? 0);
    if (/Socket errors|Non-2xx/.test(w) || !/requests in/.test(w)) wrkErrors++;
    const r = await vm;
    if (r.reason !== 'timeout') failures++;
    vms++;
    samples.push(sample(`load ${Math.round((performance.now() - tl) / 1000)} s`));
  }
  global.gc?.();
  samples.push(sample('end'));

  const first = samples[0]!;
  const last = samples.at(-1)!;
  console.log(`### Soak: ${CYCLES} boot/kill cycles, then ${vms} http-hello VMs under wrk for ${LOAD_S} s (${platform} platform)\n`);
  console.log(`${machine()}; \`npm run bench:soak -- --cycles ${CYCLES} --load-s ${LOAD_S} --wrk-s ${WRK_S}\`\n`);
  console.log(`Cycles: ${fmt(cyclesS)} s (${fmt((cyclesS * 1000) / CYCLES)} ms each); load: ${requests} requests, wrk runs with errors: ${wrkErrors}; VMs that ended otherwise than expected: ${failures}\n`);
  console.log('| sample | open fds | RSS MiB | child processes | kiln-tender processes |');
  console.log('|---|---:|---:|---:|---:|');
  for (const s of samples) console.log(`| ${s.label} | ${s.fds} | ${fmt(s.rssMiB)} | ${s.children} | ${s.tenders} |`);
  console.log(`\nEnd − start: fds ${last.fds - first.fds}, RSS ${fmt(last.rssMiB - first.rssMiB)} MiB, child processes ${last.children - first.children}, tenders ${last.tenders - first.tenders}`);
  if (failures || wrkErrors) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
