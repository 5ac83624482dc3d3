// Boot benchmark (a script, not a test): builds examples/hello, then runs side by side,
// interleaved, N times: (a) Guest-boot-time reported by Kiln's VMM (--boot-timer) on the process
// platform (--accel process) and on KVM (--accel kvm), with the per-step --timings and the guest's
// --bootchart phases of each; (b) the whole `kiln run hello.elf --accel process` and
// `--accel kvm` processes against `node -e "console.log('hi')"`; (c) the same image on QEMU
// microvm with KVM and with TCG, through `kiln run --vmm qemu` and directly (whole processes).
// Also the image size and the smallest --mem that boots on each of Kiln's platforms. Prints
// medians, p10/p90, ratios and a markdown block for bench/RESULTS.md.
// Run: npm run bench:boot [-- --runs 20] [--no-qemu]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, KILN, machine } from './common.ts';

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


function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const image = join(dir, 'hello.elf');
  const b = kiln('build', 'examples/hello/main.ts', '-o', image);
  if (b.code !== 0) {
    process.stderr.write(`bench: kiln build failed:\n${b.stderr}`);
    process.exit(1);
  }
  const size = statSync(image).size;

  const WITH_QEMU = !process.argv.includes('--no-qemu');
  const PLATFORMS = ['process', 'kvm'] as const;
  const label = { process: 'process', kvm: 'KVM' } as const;
  const bootTime = Object.fromEntries(PLATFORMS.map((p) => [p, series(`Guest-boot-time, Kiln VMM, ${label[p]} (--boot-timer)`, 'ms')])) as Record<(typeof PLATFORMS)[number], Series>;
  const kilnWall = Object.fromEntries(PLATFORMS.map((p) => [p, series(`kiln run hello.elf --accel ${p} (Kiln VMM, ${label[p]}), whole process`, 'ms')])) as Record<(typeof PLATFORMS)[number], Series>;
  const nodeWall = series('node -e "console.log(\'hi\')", whole process (host reference)', 'ms');
  const qemuWall = series('kiln run --vmm qemu --accel kvm (QEMU/KVM), whole process', 'ms');
  const qemuDirect = series('qemu-system-x86_64 -M microvm -accel kvm directly (QEMU/KVM), whole process', 'ms');
  const tcgWall = series('kiln run --vmm qemu --accel tcg (QEMU/TCG), whole process', 'ms');
  const tcgDirect = series('qemu-system-x86_64 -M microvm -accel tcg directly (QEMU/TCG), whole process', 'ms');
  const qemuArgs = ['-M', 'microvm,x-option-roms=off,rtc=on,acpi=off,isa-serial=on', '-kernel', image, '-append', '--',
    '-m', '64M', '-smp', '1', '-nodefaults', '-no-user-config', '-nographic', '-no-reboot', '-serial', 'stdio',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x01'];
  // kvm_pvm refuses MSR 0x10a: QEMU/KVM needs arch-capabilities=off here (kiln run passes it too).
  const qemuKvmCmd = [...qemuArgs, '-accel', 'kvm', '-cpu', 'host,arch-capabilities=off'];
  const qemuTcgCmd = [...qemuArgs, '-accel', 'tcg', '-cpu', 'max'];

  const record = (s: Series, r: Timed, ok: boolean, value: number): void => {
    if (ok) s.values.push(value);
    else s.failures.push(`exit ${r.code}: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 160)}`);
  };
  const steps = new Map<string, number[]>();
  const phases = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number): void => void (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  const hi = (r: Timed): boolean => r.stdout.includes('Hello from Kiln');
  for (let i = 0; i < RUNS; i++) {
    // Alternate which platform goes first, so neither always follows the other.
    for (const p of i % 2 ? [...PLATFORMS].reverse() : PLATFORMS) {
      const a = kiln('run', image, '--accel', p, '--boot-timer', '--timings', '--bootchart');
      const m = /Guest-boot-time\s*=\s*(\d+)\s*us/.exec(a.stdout + a.stderr);
      record(bootTime[p], a, a.code === 0 && m !== null, m ? Number(m[1]) / 1000 : NaN);
      for (const [, k, v] of a.stderr.matchAll(/ (\w+)=([\d.]+)ms/g)) push(steps, `${p} ${k}`, Number(v));
      for (const [, k, v] of a.stdout.matchAll(/^ {2}(\w+) +([\d.]+) ms/gm)) push(phases, `${p} ${k}`, Number(v));
      const w = kiln('run', image, '--accel', p);
      record(kilnWall[p], w, w.code === 0 && hi(w), w.ms);
      const n = timed(process.execPath, ['-e', "console.log('hi')"]);
      record(nodeWall, n, n.code === 0 && n.stdout === 'hi\n', n.ms);
    }
    if (WITH_QEMU) {
      const q = kiln('run', image, '--vmm', 'qemu', '--accel', 'kvm');
      record(qemuWall, q, q.code === 0 && hi(q), q.ms);
      // isa-debug-exit: guest code 0 → QEMU status 1
      const d = timed('qemu-system-x86_64', qemuKvmCmd);
      record(qemuDirect, d, d.code === 1 && hi(d), d.ms);
      const t = kiln('run', image, '--vmm', 'qemu', '--accel', 'tcg');
      record(tcgWall, t, t.code === 0 && hi(t), t.ms);
      const td = timed('qemu-system-x86_64', qemuTcgCmd);
      record(tcgDirect, td, td.code === 1 && hi(td), td.ms);
    }
    process.stderr.write(`run ${i + 1}/${RUNS}\r`);
  }
  process.stderr.write('\n');

  // Smallest --mem (MiB) that boots hello on each of Kiln's platforms, searching downwards from 64
  // (a size that boots is tried 3 times: all must print the greeting).
  const boots = (p: string, mem: number): boolean => [0, 1, 2].every(() => {
    const r = kiln('run', image, '--accel', p, '--mem', String(mem), '--timeout', '30');
    return r.code === 0 && hi(r);
  });
  const minMem: Record<string, number | undefined> = {};
  const firstFail: Record<string, string> = {};
  for (const p of PLATFORMS) {
    for (let mem = 64; mem >= 1; mem = mem > 16 ? mem - 8 : mem - 1) {
      if (!boots(p, mem)) {
        const r = kiln('run', image, '--accel', p, '--mem', String(mem), '--timeout', '30');
        firstFail[p] = `--mem ${mem}: exit ${r.code}, ${(r.stdout + r.stderr).trim().split('\n').slice(-1)[0]?.slice(0, 160) ?? ''}`;
        break;
      }
      minMem[p] = mem;
    }
  }

  const all = [bootTime.process, bootTime.kvm, kilnWall.process, kilnWall.kvm, nodeWall, ...(WITH_QEMU ? [qemuWall, qemuDirect, tcgWall, tcgDirect] : [])];
  const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  const rows = all.map((s) => `| ${s.name} | ${s.values.length}/${s === nodeWall ? 2 * RUNS : RUNS} | ${fmt(quantile(s.values, 0.5))} | ${fmt(quantile(s.values, 0.1))} | ${fmt(quantile(s.values, 0.9))} |`);
  const med = (s: Series): number => quantile(s.values, 0.5);
  const ratios = [
    `Guest-boot-time, process / KVM: ${fmt(med(bootTime.process) / med(bootTime.kvm))}`,
    `kiln run --accel process / kiln run --accel kvm, whole process: ${fmt(med(kilnWall.process) / med(kilnWall.kvm))}`,
    `kiln run --accel process / node -e "console.log('hi')": ${fmt(med(kilnWall.process) / med(nodeWall))}`,
    `kiln run --accel kvm / node -e "console.log('hi')": ${fmt(med(kilnWall.kvm) / med(nodeWall))}`,
    ...(WITH_QEMU ? [
      `kiln run --accel process / qemu-system-x86_64 directly, KVM: ${fmt(med(kilnWall.process) / med(qemuDirect))}; TCG: ${fmt(med(kilnWall.process) / med(tcgDirect))}`,
      `kiln run --accel kvm / qemu-system-x86_64 directly, KVM: ${fmt(med(kilnWall.kvm) / med(qemuDirect))}; TCG: ${fmt(med(kilnWall.kvm) / med(tcgDirect))}`,
      `kiln run --accel process / kiln run --vmm qemu --accel tcg: ${fmt(med(kilnWall.process) / med(tcgWall))}`,
    ] : []),
  ];
  const table = (m: Map<string, number[]>): string[] => {
    const names = [...new Set([...m.keys()].map((k) => k.slice(k.indexOf(' ') + 1)))];
    return names.map((k) => {
      const pv = m.get(`process ${k}`);
      const kv = m.get(`kvm ${k}`);
      return `| ${k} | ${pv ? fmt(quantile(pv, 0.5)) : '—'} | ${pv ? fmt(quantile(pv, 0.9)) : '—'} | ${kv ? fmt(quantile(kv, 0.5)) : '—'} | ${kv ? fmt(quantile(kv, 0.9)) : '—'} |`;
    });
  };
  const failures = all.flatMap((s) => s.failures.slice(0, 3).map((f) => `- ${s.name}: ${f}`));
  const md = [
    `### Boot: process platform, KVM, QEMU (${new Date().toISOString().slice(0, 10)}, ${RUNS} interleaved runs)`,
    '',
    `Machine: ${machine()}; /dev/kvm is ${existsSync('/sys/module/kvm_pvm') ? 'nested kvm_pvm' : 'KVM'}.`,
    '',
    '| measurement | ok runs | median ms | p10 ms | p90 ms |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Image: examples/hello → ${size} bytes (${(size / 1024).toFixed(1)} KiB).`,
    ...PLATFORMS.map((p) => `Smallest --mem that boots hello on Kiln's VMM, ${label[p]}: ${minMem[p] === undefined ? 'none (hello did not boot at 64 MiB)' : `${minMem[p]} MiB`}${firstFail[p] ? ` (first failure: ${firstFail[p]})` : ''}.`),
    '',
    'Ratios of medians:',
    ...ratios.map((r) => `- ${r}`),
    '',
    'Kiln VMM setup steps (`kiln run --timings`; `run` is the guest running to the end of the VM; the process',
    'platform has no VM or vCPU objects, `start_tender` is spawning the tender until its HELLO):',
    '',
    '| step | process median ms | process p90 ms | KVM median ms | KVM p90 ms |',
    '|---|---|---|---|---|',
    ...table(steps),
    '',
    'Guest boot phases (`--bootchart`, time since the guest\'s first instruction at each phase end):',
    '',
    '| phase | process median ms | process p90 ms | KVM median ms | KVM p90 ms |',
    '|---|---|---|---|---|',
    ...table(phases),
    '',
    `Command: \`npm run bench:boot -- --runs ${RUNS}${WITH_QEMU ? '' : ' --no-qemu'}\`.`,
    ...(failures.length > 0 ? ['', 'Failures (first 3 per series):', ...failures] : []),
  ].join('\n');
  process.stdout.write(`${md}\n`);
}

main();
