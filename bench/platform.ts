// Process platform vs KVM: device-path latencies and idle CPU (a script, not a test).
// Kiln's VMM (`kiln run --accel process` and `--accel kvm`, interleaved, RUNS times) running the
// bench guest bench/guests/latency.ts, which times itself with the core's monotonic clock:
//   - register round trip: one 32-bit read of virtio-mmio DeviceID (slot 0, the rng), which the
//     VMM's JS device model answers (KVM: an MMIO exit posted to the main thread; process
//     platform: a 16-byte request on the register channel, 4-byte reply); InterruptStatus, the
//     fast path that never reaches JS, and two back-to-back clock reads for reference;
//   - notify → interrupt: one 16-byte virtio-rng request through the kernel's driver, from the
//     QueueNotify to the promise resolved by the irq handler in the guest's event loop;
//   - idle CPU: the guest waits on one 5 s timer; the host sums the CPU time (per-thread
//     schedstat, ns) of the `kiln run` process (the VMM, Node) and of its descendants (the
//     tender: outer and inner process) over 4.9 s after the guest printed "IDLE START";
//     `node -e "setTimeout(() => {}, 6000)"` is the host reference.
// Medians over runs of each run's median (latencies) and of each run's CPU; a markdown block for
// bench/RESULTS.md. Run: npm run bench:platform [-- --runs 5] [--n 1000]

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, KILN, arg, median, fmt, machine } from './common.ts';

const RUNS = arg('--runs', 5);
const N = arg('--n', 1000);
const IDLE_MS = 5000;
const WINDOW_MS = 4900;
const PLATFORMS = ['process', 'kvm'] as const;
type Platform = (typeof PLATFORMS)[number];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


interface Lat { name: string; medianUs: number; p10Us: number; p99Us: number; meanUs: number }

function runGuest(image: string, platform: Platform, guestArgs: string[]): Lat[] {
  const r = spawnSync(process.execPath, [KILN, 'run', image, '--accel', platform, '--timeout', '60', '--', ...guestArgs], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const out: Lat[] = [];
  for (const line of (r.stdout ?? '').split('\n')) if (line.startsWith('{')) out.push(JSON.parse(line) as Lat);
  if (r.status !== 0 || out.length === 0) throw new Error(`kiln run --accel ${platform} -- ${guestArgs.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return out;
}

/** CPU time (ns) of each thread of `pid` by tid, from /proc/PID/task/TID/schedstat (empty once it is gone). */
function threadNs(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        m.set(`${pid}/${tid}`, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // thread ended
      }
    }
  } catch {
    // process ended
  }
  return m;
}

/** utime + stime of `pid` in clock ticks (includes its ended threads), from /proc/PID/stat. */
function statTicks(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}

/** CPU (ns) between two per-thread samples: threads in both count their difference, new ones all of theirs. */
function deltaNs(a: Map<string, number>, b: Map<string, number>): number {
  let sum = 0;
  for (const [t, v] of b) sum += v - (a.get(t) ?? 0);
  return sum;
}

/** Host pids of the descendants of `root` (from /proc/*\/stat ppid fields). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const st = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) if (pp === p) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

interface Idle { vmmMs: number; tenderMs: number; windowMs: number; tickMs: number; tenderPids: number }
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Spawns `cmd`, waits for `ready` on stdout, samples CPU of it and its descendants over WINDOW_MS. */
async function idleRun(cmd: string, argv: string[], ready: string | undefined): Promise<Idle> {
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  await new Promise<void>((res, rej) => {
    if (ready === undefined) return void setTimeout(res, 300);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(ready)) res();
    });
    child.once('exit', (c) => rej(new Error(`${argv.join(' ')} exited ${c} before "${ready}": ${out}${err}`)));
  });
  const pid = child.pid!;
  const kids = descendants(pid);
  const sample = (): { vmm: Map<string, number>; kids: Map<string, number>; ticks: number } => ({
    vmm: threadNs(pid),
    kids: new Map(kids.flatMap((p) => [...threadNs(p)])),
    ticks: statTicks(pid) + kids.reduce((a, p) => a + statTicks(p), 0),
  });
  const t0 = performance.now();
  const s0 = sample();
  await sleep(WINDOW_MS);
  const s1 = sample();
  const windowMs = performance.now() - t0;
  const code = await closed;
  if (code !== 0) throw new Error(`${argv.join(' ')}: exit ${code}: ${out}${err}`);
  if (ready !== undefined && !out.includes('IDLE END')) throw new Error(`no IDLE END: ${out}`);
  return { vmmMs: deltaNs(s0.vmm, s1.vmm) / 1e6, tenderMs: deltaNs(s0.kids, s1.kids) / 1e6, windowMs, tickMs: ((s1.ticks - s0.ticks) * 1000) / CLK_TCK, tenderPids: kids.length };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-platform-'));
  try {
    const image = join(dir, 'latency.elf');
    const b = spawnSync(process.execPath, [KILN, 'build', join(ROOT, 'bench/guests/latency.ts'), '-o', image], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`kiln build: ${b.stderr}`);
    const lat = new Map<string, { median: number[]; p99: number[] }>();
    const addLat = (k: string, l: Lat): void => {
      const e = lat.get(k) ?? { median: [], p99: [] };
      e.median.push(l.medianUs);
      e.p99.push(l.p99Us);
      lat.set(k, e);
    };
    const idle = new Map<string, { vmm: number[]; tender: number[]; pct: number[]; ticks: number[]; pids: number[] }>();
    const addIdle = (k: string, r: Idle): void => {
      const e = idle.get(k) ?? { vmm: [], tender: [], pct: [], ticks: [], pids: [] };
      e.ticks.push(r.tickMs);
      e.pids.push(r.tenderPids);
      e.vmm.push(r.vmmMs);
      e.tender.push(r.tenderMs);
      e.pct.push(((r.vmmMs + r.tenderMs) / r.windowMs) * 100);
      idle.set(k, e);
    };
    for (let run = 0; run < RUNS; run++) {
      for (const p of PLATFORMS) {
        for (const l of runGuest(image, p, ['mmio', String(N)])) addLat(`${l.name} | ${p}`, l);
        for (const l of runGuest(image, p, ['rng', String(N)])) addLat(`${l.name} | ${p}`, l);
      }
      for (const p of PLATFORMS) addIdle(p, await idleRun(process.execPath, [KILN, 'run', image, '--accel', p, '--timeout', '60', '--', 'idle', String(IDLE_MS)], 'IDLE START'));
      // The host reference's timer is 1 s longer: sampling starts 0.3 s after its spawn.
      addIdle('node', await idleRun(process.execPath, ['-e', `setTimeout(() => {}, ${IDLE_MS + 1000})`], undefined));
      process.stderr.write(`run ${run + 1}/${RUNS}\n`);
    }

    const row = (label: string, name: string): string => {
      const pr = lat.get(`${name} | process`);
      const kv = lat.get(`${name} | kvm`);
      const mp = median(pr?.median ?? []);
      const mk = median(kv?.median ?? []);
      return `| ${label} | ${fmt(mp, 2)} | ${fmt(median(pr?.p99 ?? []), 2)} | ${fmt(mk, 2)} | ${fmt(median(kv?.p99 ?? []), 2)} | ${fmt(mp / mk, 2)} |`;
    };
    const idleRow = (label: string, k: string): string => {
      const e = idle.get(k)!;
      return `| ${label} | ${fmt(median(e.vmm), 2)} | ${k === 'node' ? '' : `${fmt(median(e.tender), 2)} (${Math.min(...e.pids)}–${Math.max(...e.pids)} processes)`} | ${fmt(median(e.pct), 3)} | ${fmt(Math.max(...e.ticks), 0)} |`;
    };
    const md = [
      `### Process platform vs KVM: device latency and idle CPU (${new Date().toISOString().slice(0, 10)}, ${RUNS} interleaved runs, medians)`,
      '',
      `Machine: ${machine()}`,
      '',
      `Guest bench/guests/latency.ts on \`kiln run --accel process\` and \`--accel kvm\` (Kiln's VMM; KVM is nested kvm_pvm here),`,
      `timed in the guest with the core's monotonic clock around each operation; ${N} operations per run after 50 warm-up ones;`,
      'each cell is the median over runs of that run\'s median (or p99).',
      '',
      '| operation | process median µs | process p99 µs | KVM median µs | KVM p99 µs | process / KVM (median) |',
      '|---|---|---|---|---|---|',
      row('register round trip: virtio-mmio DeviceID read (to the VMM\'s JS model)', 'DeviceID'),
      row('notify → interrupt: 16-byte virtio-rng request (driver, irq, event loop)', 'rng'),
      row('InterruptStatus read (fast path: control page / vCPU thread), reference', 'InterruptStatus'),
      row('two clock reads back to back, reference', 'clock'),
      '',
      `Idle guest waiting on one ${IDLE_MS / 1000} s timer: CPU time of the \`kiln run\` process (VMM: Node, all threads incl. KVM's vCPU thread) and of`,
      `its descendants (the tender's two processes), summed from /proc/PID/task/*/schedstat over ${WINDOW_MS / 1000} s after the guest printed "IDLE START"`,
      '(threads alive at both samples count their difference, threads that started in between all of theirs); the last column is',
      'utime+stime of the same processes from /proc/PID/stat (ended threads included, 10 ms granularity) as a cross-check.',
      '',
      '| what | VMM CPU ms | tender CPU ms | CPU % of one core (VMM + tender) | utime+stime, max over runs, ms (1/CLK_TCK steps) |',
      '|---|---|---|---|---|',
      idleRow('guest on the process platform', 'process'),
      idleRow('guest on KVM', 'kvm'),
      idleRow(`host reference: node -e "setTimeout(() => {}, ${IDLE_MS + 1000})" (sampled from 0.3 s after spawn)`, 'node'),
      '',
      `Command: \`npm run bench:platform -- --runs ${RUNS}\`.`,
    ].join('\n');
    process.stdout.write(md + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
