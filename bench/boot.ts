// Boot benchmark (a script, not a test): builds examples/hello, then runs side by side,
// interleaved, N times: (a) Guest-boot-time reported by Kiln's VMM (--boot-timer), (b) the
// whole `kiln run hello.elf` process, (c) the same image on QEMU microvm with KVM (whole
// process). Also the image size and the smallest --mem that boots. Prints medians, p10/p90,
// ratios and a markdown block for bench/RESULTS.md. Run: npm run bench:boot [-- --runs 20]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg === -1 ? 20 : Number(process.argv[runsArg + 1]);

interface Timed { ms: number; code: number | null; stdout: string; stderr: string }

function timed(cmd: string, args: string[]): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// The bin itself, as `npx kiln` finds it (its shebang sets Node's flags); npx's own start-up
// (~0.5 s here) is not counted.
const kiln = (...args: string[]): Timed => timed(KILN, args);

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

interface Series { name: string; unit: string; values: number[]; failures: string[] }
const series = (name: string, unit: string): Series => ({ name, unit, values: [], failures: [] });

function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${cpus().length} CPUs (nproc), ${model}, Linux ${release()}, Node ${process.version}`;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const image = join(dir, 'hello.elf');
  const b = kiln('build', 'examples/hello/main.ts', '-o', image);
  if (b.code !== 0) {
    process.stderr.write(`bench: kiln build failed:\n${b.stderr}`);
    process.exit(1);
  }
  const size = statSync(image).size;

  const bootTime = series('Guest-boot-time, Kiln VMM (--boot-timer)', 'ms');
  const kilnWall = series('kiln run hello.elf (Kiln VMM), whole process', 'ms');
  const qemuWall = series('kiln run --vmm qemu --accel kvm, whole process', 'ms');
  const qemuDirect = series('qemu-system-x86_64 -M microvm -accel kvm directly, whole process', 'ms');
  const qemuCmd = ['-M', 'microvm,x-option-roms=off,rtc=on,acpi=off,isa-serial=on', '-kernel', image, '-append', '--',
    '-m', '64M', '-smp', '1', '-nodefaults', '-no-user-config', '-nographic', '-no-reboot', '-serial', 'stdio',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x01', '-accel', 'kvm', '-cpu', 'host'];

  const record = (s: Series, r: Timed, ok: boolean, value: number): void => {
    if (ok) s.values.push(value);
    else s.failures.push(`exit ${r.code}: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 160)}`);
  };
  const steps = new Map<string, number[]>();
  const phases = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number): void => void (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  for (let i = 0; i < RUNS; i++) {
    const a = kiln('run', image, '--boot-timer', '--timings', '--bootchart');
    const m = /Guest-boot-time\s*=\s*(\d+)\s*us/.exec(a.stdout + a.stderr);
    record(bootTime, a, a.code === 0 && m !== null, m ? Number(m[1]) / 1000 : NaN);
    for (const [, k, v] of a.stderr.matchAll(/ (\w+)=([\d.]+)ms/g)) push(steps, k!, Number(v));
    for (const [, k, v] of a.stdout.matchAll(/^ {2}(\w+) +([\d.]+) ms/gm)) push(phases, k!, Number(v));
    const w = kiln('run', image);
    record(kilnWall, w, w.code === 0 && w.stdout.includes('Hello from Kiln'), w.ms);
    const q = kiln('run', image, '--vmm', 'qemu', '--accel', 'kvm');
    record(qemuWall, q, q.code === 0 && q.stdout.includes('Hello from Kiln'), q.ms);
    const d = timed('qemu-system-x86_64', qemuCmd);
    // isa-debug-exit: guest code 0 → QEMU status 1
    record(qemuDirect, d, d.code === 1 && d.stdout.includes('Hello from Kiln'), d.ms);
    process.stderr.write(`run ${i + 1}/${RUNS}\r`);
  }
  process.stderr.write('\n');

  // Smallest --mem (MiB) that boots hello on Kiln's VMM, searching downwards from 64.
  const boots = (mem: number): boolean => {
    const r = kiln('run', image, '--mem', String(mem), '--timeout', '30');
    return r.code === 0 && r.stdout.includes('Hello from Kiln');
  };
  let minMem: number | undefined;
  for (let mem = 64; mem >= 2; mem = mem > 16 ? mem - 8 : mem - 1) {
    if (!boots(mem)) break;
    minMem = mem;
  }

  const all = [bootTime, kilnWall, qemuWall, qemuDirect];
  const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  const rows = all.map((s) => `| ${s.name} | ${s.values.length}/${RUNS} | ${fmt(quantile(s.values, 0.5))} | ${fmt(quantile(s.values, 0.1))} | ${fmt(quantile(s.values, 0.9))} |`);
  const med = (s: Series): number => quantile(s.values, 0.5);
  const ratios = [
    `kiln run (Kiln VMM) / kiln run --vmm qemu (KVM), whole process: ${fmt(med(kilnWall) / med(qemuWall))}`,
    `kiln run (Kiln VMM) / qemu-system-x86_64 directly (KVM): ${fmt(med(kilnWall) / med(qemuDirect))}`,
    `Guest-boot-time / kiln run whole process: ${fmt(med(bootTime) / med(kilnWall))}`,
  ];
  const stepRows = [...steps].map(([k, v]) => `| ${k} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.9))} |`);
  const phaseRows = [...phases].map(([k, v]) => `| ${k} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.9))} |`);
  const failures = all.flatMap((s) => s.failures.slice(0, 3).map((f) => `- ${s.name}: ${f}`));
  const md = [
    `### Boot (${new Date().toISOString().slice(0, 10)}, ${RUNS} interleaved runs)`,
    '',
    `Machine: ${machine()}`,
    '',
    '| measurement | ok runs | median ms | p10 ms | p90 ms |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Image: examples/hello → ${size} bytes (${(size / 1024).toFixed(1)} KiB).`,
    `Smallest --mem that boots hello on Kiln's VMM: ${minMem === undefined ? 'none (hello did not boot at 64 MiB)' : `${minMem} MiB`}.`,
    '',
    'Ratios of medians:',
    ...ratios.map((r) => `- ${r}`),
    '',
    'Kiln VMM setup steps (`kiln run --timings`; `run` is first KVM_RUN to the end of the VM):',
    '',
    '| step | median ms | p90 ms |',
    '|---|---|---|',
    ...stepRows,
    '',
    'Guest boot phases on Kiln VMM (`--bootchart`, time since the first guest instruction at each phase end):',
    '',
    '| phase | median ms | p90 ms |',
    '|---|---|---|',
    ...phaseRows,
    ...(failures.length > 0 ? ['', 'Failures (first 3 per series):', ...failures] : []),
  ].join('\n');
  process.stdout.write(`${md}\n`);
}

main();
