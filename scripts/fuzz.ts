// npm run fuzz -- [--minutes M] [--scale S]: the long run of the fuzz targets, the property
// tests of every parser the guest exposes to the network or the host (wire formats, HTTP head
// and chunked bodies, FUSE replies, virtio-mmio register sequences and hostile rings). npm test
// runs them once from the fixed seed; this runs each target file again and again, one at a time
// (the machine may be busy), each run with KILN_SEED=random and KILN_FUZZ_SCALE=S (numRuns × S
// in the properties marked with runs(N); default 50), until M minutes have passed (default 60;
// a run under way is finished). A failure prints the command that reruns it and is appended to
// fuzz/findings.txt (seed, file, the first lines of the failure); the exit status is 1 if
// anything failed. A found input goes into the area's corpus test as a fixed regression case.

import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fuzz-target test files, relative to the repository root. */
export const TARGETS = [
  'packages/common/src/wire/ethernet.test.ts',
  'packages/common/src/wire/arp.test.ts',
  'packages/common/src/wire/ipv4.test.ts',
  'packages/common/src/wire/icmp.test.ts',
  'packages/common/src/wire/udp.test.ts',
  'packages/common/src/wire/tcp.test.ts',
  'packages/common/src/wire/dhcp.test.ts',
  'packages/common/src/wire/fuse.test.ts',
  'packages/kernel/src/http/parser.test.ts',
  'packages/kernel/src/http/chunked.test.ts',
  'packages/kernel/src/fs/virtiofs/replies.test.ts',
  'packages/vmm/src/devices/virtio/hostile.test.ts',
  'packages/vmm/src/devices/virtio/mmio_registers.test.ts',
];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FINDINGS = join(ROOT, 'fuzz', 'findings.txt');
/** Lines of a failure's output kept in findings.txt. */
const KEEP_LINES = 40;

function usage(msg: string): never {
  console.error(`fuzz: ${msg}\nusage: npm run fuzz -- [--minutes M] [--scale S]   (M > 0, default 60; S an integer >= 1, default 50)`);
  process.exit(2);
}

function parseArgs(argv: string[]): { minutes: number; scale: number } {
  let minutes = 60;
  let scale = 50;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--minutes' && v !== undefined) {
      minutes = Number(v);
      if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || !(minutes > 0)) usage(`--minutes wants a positive number (got ${JSON.stringify(v)})`);
      i++;
    } else if (a === '--scale' && v !== undefined) {
      scale = Number(v);
      if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(scale) || scale < 1) usage(`--scale wants an integer >= 1 (got ${JSON.stringify(v)})`);
      i++;
    } else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  return { minutes, scale };
}

interface Run {
  code: number;
  output: string;
  ms: number;
}

/** Runs one test file with a random seed and the given scale; resolves with its exit status and output. */
function runFile(file: string, scale: number): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', file], {
      cwd: ROOT,
      env: { ...process.env, KILN_SEED: 'random', KILN_FUZZ_SCALE: String(scale) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output, ms: Date.now() - t0 }));
  });
}

/** The seed a run printed (property.ts logs it under KILN_SEED=random). */
function seedOf(output: string): string {
  return /KILN_SEED=(-?[0-9]+) \(random\)/.exec(output)?.[1] ?? '?';
}

/** The first lines of the failure: from the first "not ok" (or the start), at most KEEP_LINES. */
function failureLines(output: string): string[] {
  const lines = output.split('\n');
  const at = lines.findIndex((l) => /^\s*not ok /.test(l));
  return lines.slice(Math.max(0, at), Math.max(0, at) + KEEP_LINES);
}

async function main(): Promise<void> {
  const { minutes, scale } = parseArgs(process.argv.slice(2));
  const deadline = Date.now() + minutes * 60_000;
  const perFile = new Map(TARGETS.map((f) => [f, { runs: 0, failed: 0, ms: 0 }]));
  let failures = 0;
  let stop = false;
  process.on('SIGINT', () => {
    if (stop) process.exit(130);
    stop = true;
    console.log('\nfuzz: stopping after the run under way (Ctrl-C again to quit now)');
  });
  console.log(`fuzz: ${TARGETS.length} target files, KILN_FUZZ_SCALE=${scale}, for ${minutes} min; findings go to fuzz/findings.txt`);
  for (let round = 1; !stop && Date.now() < deadline; round++) {
    for (const file of TARGETS) {
      if (stop || Date.now() >= deadline) break;
      const r = await runFile(file, scale);
      const s = perFile.get(file)!;
      s.runs++;
      s.ms += r.ms;
      const seed = seedOf(r.output);
      if (r.code === 0) {
        console.log(`ok   round ${round} ${file} seed ${seed} (${(r.ms / 1000).toFixed(1)} s)`);
        continue;
      }
      s.failed++;
      failures++;
      const rerun = [...new Set(r.output.match(/Rerun this run: [^\n]*/g) ?? [])];
      const command = `KILN_SEED=${seed} KILN_FUZZ_SCALE=${scale} node --import tsx --test ${file}`;
      console.log(`FAIL round ${round} ${file} seed ${seed} (exit ${r.code})`);
      for (const l of rerun.length ? rerun : [`Rerun: ${command}`]) console.log(`     ${l}`);
      mkdirSync(dirname(FINDINGS), { recursive: true });
      appendFileSync(
        FINDINGS,
        [`=== ${new Date().toISOString()} ${file} seed ${seed} scale ${scale} exit ${r.code}`, `rerun: ${command}`, ...rerun, ...failureLines(r.output), ''].join('\n'),
      );
    }
  }
  console.log('\nfuzz: summary (file: runs, failed, seconds)');
  let total = 0;
  for (const [file, s] of perFile) {
    total += s.runs;
    console.log(`  ${file}: ${s.runs} runs, ${s.failed} failed, ${(s.ms / 1000).toFixed(0)} s`);
  }
  console.log(`fuzz: ${total} file runs at scale ${scale}, ${failures} failed${failures ? ' — see fuzz/findings.txt' : ''}`);
  process.exitCode = failures ? 1 : 0;
}

await main();
