// Virtio benchmark (a script, not a test). Block: a guest app reads a 64 MiB disk sequentially
// in 1 MiB requests and times itself with performance.now(); against host `dd bs=1M` on the same
// file (page cache warmed by reading it once first, on both sides), on Kiln's VMM (runVm
// directly, so the whole-VM exit counts and virtio notify/interrupt counts are available) and on
// QEMU/KVM (`kiln run --vmm qemu --accel kvm`). Console: 1000 console.log lines and hello on the
// serial port vs virtio-console (Kiln's VMM). Medians of N interleaved runs; prints a markdown
// block for bench/RESULTS.md. Run: npm run bench:virtio [-- --runs 5]

import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runVm, type VmResult } from '@kiln/vmm/vm.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg === -1 ? 5 : Number(process.argv[runsArg + 1]);
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

function sh(cmd: string, args: string[]): { code: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

interface KilnRun {
  r: VmResult;
  out: string;
  wallMs: number;
}

/** One VM on Kiln's VMM, guest console to a temp file through the fast path (as `kiln run` does). */
async function kilnRun(dir: string, image: Uint8Array, o: { disk?: string; virtioConsole?: boolean | 'auto' }): Promise<KilnRun> {
  const outPath = join(dir, 'console.out');
  const fd = openSync(outPath, 'w');
  const t0 = process.hrtime.bigint();
  let r: VmResult;
  try {
    r = await runVm({
      image,
      memMiB: 256,
      stdoutFd: fd,
      bootTimer: true,
      stderr: { write: () => true },
      timeoutMs: 120_000,
      ...(o.disk ? { disks: [{ path: o.disk, readOnly: true }] } : {}),
      ...(o.virtioConsole ? { virtioConsole: o.virtioConsole } : {}),
    });
  } finally {
    closeSync(fd);
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { r, out: readFileSync(outPath, 'utf8'), wallMs };
}

const step = (r: VmResult, name: string): number => r.timings.find((t) => t.step === name)?.ms ?? NaN;
const virtioSum = (r: VmResult, key: 'notifies' | 'interrupts'): number => r.stats.virtio.reduce((a, v) => a + v[key], 0);

function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${cpus().length} CPUs (nproc), ${model}, Linux ${release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-virtio-'));
  try {
    const build = (name: string, src: string): Uint8Array => {
      const out = join(dir, `${name}.elf`);
      const b = sh(KILN, ['build', src, '-o', out]);
      if (b.code !== 0) throw new Error(`kiln build ${src}: ${b.stderr}`);
      return readFileSync(out);
    };
    writeFileSync(join(dir, 'reader.ts'), READER);
    writeFileSync(join(dir, 'lines.ts'), LINES);
    const reader = build('reader', join(dir, 'reader.ts'));
    const lines = build('lines', join(dir, 'lines.ts'));
    const hello = build('hello', 'examples/hello/main.ts');
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

    const s = {
      dd: [] as number[], kiln: [] as number[], qemu: [] as number[],
      exits: [] as number[], mmio: [] as number[], pio: [] as number[], notifies: [] as number[], irqs: [] as number[],
    };
    const cons = new Map(CONSOLE_MODES.map(([label]) => [label, { linesRun: [] as number[], linesExits: [] as number[], linesNotifies: [] as number[], helloBoot: [] as number[], helloRun: [] as number[], helloExits: [] as number[] }]));
    const failures: string[] = [];
    const expectLines = Array.from({ length: 1000 }, (_, i) => `line ${i} of the console benchmark, some text to make it longer\n`).join('');
    for (let i = 0; i < RUNS; i++) {
      s.dd.push(dd());
      const k = await kilnRun(dir, reader, { disk });
      const m = /READ (\d+) ([\d.]+)/.exec(k.out);
      if (k.r.exitCode !== 0 || !m) failures.push(`kiln read: exit ${k.r.exitCode} ${k.r.message ?? ''} ${k.out.slice(0, 200)}`);
      else {
        s.kiln.push(DISK_MIB / (Number(m[2]) / 1000));
        s.exits.push(k.r.stats.exits / DISK_MIB);
        s.mmio.push(k.r.stats.mmioExits / DISK_MIB);
        s.pio.push(k.r.stats.pioExits / DISK_MIB);
        s.notifies.push(virtioSum(k.r, 'notifies') / DISK_MIB);
        s.irqs.push(virtioSum(k.r, 'interrupts') / DISK_MIB);
      }
      const q = sh(KILN, ['run', join(dir, 'reader.elf'), '--vmm', 'qemu', '--accel', 'kvm', '--mem', '256', '--disk', `${disk},ro`]);
      const qm = /READ (\d+) ([\d.]+)/.exec(q.stdout);
      if (q.code !== 0 || !qm) failures.push(`qemu read: exit ${q.code} ${q.stderr.slice(0, 200)}`);
      else s.qemu.push(DISK_MIB / (Number(qm[2]) / 1000));

      for (const [label, mode] of CONSOLE_MODES) {
        const c = cons.get(label)!;
        const l = await kilnRun(dir, lines, { virtioConsole: mode });
        if (l.r.exitCode !== 0 || l.out !== expectLines) failures.push(`lines (${label}): exit ${l.r.exitCode}, ${l.out.length} bytes`);
        else {
          c.linesRun.push(step(l.r, 'run'));
          c.linesExits.push(l.r.stats.exits);
          c.linesNotifies.push(virtioSum(l.r, 'notifies'));
        }
        const h = await kilnRun(dir, hello, { virtioConsole: mode });
        if (h.r.exitCode !== 0 || !h.out.includes('Hello from Kiln')) failures.push(`hello (${label}): exit ${h.r.exitCode} ${h.out.slice(0, 100)}`);
        else {
          c.helloBoot.push((h.r.bootTime?.wallUs ?? NaN) / 1000);
          c.helloRun.push(step(h.r, 'run'));
          c.helloExits.push(h.r.stats.exits);
        }
      }
      process.stderr.write(`run ${i + 1}/${RUNS} done\n`);
    }

    const date = new Date().toISOString().slice(0, 10);
    const md = [
      `### Virtio (${date}, ${RUNS} interleaved runs, medians)`,
      '',
      `Machine: ${machine()}`,
      '',
      `Block: sequential read of a ${DISK_MIB} MiB disk image (raw file, read-only) in 1 MiB requests, one at a time,`,
      'timed in the guest with performance.now(); host `dd if=FILE of=/dev/null bs=1M` on the same file. The',
      'page cache was warmed by one host read first (dropping caches is not possible here).',
      '',
      '| reader | MiB/s | vs host dd |',
      '|---|---|---|',
      `| host dd bs=1M | ${fmt(median(s.dd))} | 1.00 |`,
      `| guest on Kiln's VMM | ${fmt(median(s.kiln))} | ${fmt(median(s.kiln) / median(s.dd), 2)} |`,
      `| guest on QEMU/KVM (microvm, virtio-blk-device) | ${fmt(median(s.qemu))} | ${fmt(median(s.qemu) / median(s.dd), 2)} |`,
      '',
      `VM exits per MiB moved (Kiln's VMM, whole VM incl. boot, rng probe and disk probe, ${DISK_MIB} MiB read):`,
      `all exits ${fmt(median(s.exits), 2)}, of which MMIO ${fmt(median(s.mmio), 2)} and port I/O ${fmt(median(s.pio), 2)};`,
      `virtio notifications (ioeventfd, no exit to userspace) ${fmt(median(s.notifies), 2)}, interrupts (irqfd) ${fmt(median(s.irqs), 2)}.`,
      '',
      'Console: 1000 `console.log` lines of 63 bytes and hello, Kiln\'s VMM, console to a file through the',
      'fast path (`stdoutFd`). `run` = first KVM_RUN to the end of the VM.',
      '',
      '| program | console | run ms | VM exits to the VMM | virtio notifies | Guest-boot-time ms |',
      '|---|---|---|---|---|---|',
      ...['lines', 'hello'].flatMap((prog) => CONSOLE_MODES.map(([label]) => {
        const c = cons.get(label)!;
        return prog === 'lines'
          ? `| 1000 lines | ${label} | ${fmt(median(c.linesRun), 2)} | ${fmt(median(c.linesExits), 0)} | ${fmt(median(c.linesNotifies), 0)} | |`
          : `| hello | ${label} | ${fmt(median(c.helloRun), 2)} | ${fmt(median(c.helloExits), 0)} | | ${fmt(median(c.helloBoot), 2)} |`;
      })),
      '',
      'Serial output on the fast path is written by the vCPU thread itself and is not counted in',
      '"VM exits to the VMM" (each `rep outsb` still traps to KVM, one exit per byte here).',
      '',
      `Command: \`npm run bench:virtio -- --runs ${RUNS}\`.`,
      ...(failures.length ? ['', `Failures (${failures.length}): ${failures.slice(0, 5).join('; ')}`] : []),
      '',
    ].join('\n');
    process.stdout.write(md + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
