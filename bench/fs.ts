// Filesystem benchmark (a script, not a test; issue 5). One workload, timed from inside:
//   large: write a LARGE_MIB MiB file in 1 MiB writes, sync it, read it back in 1 MiB reads;
//   small: create SMALL_N files of 4 KiB in a new directory, stat each, read each, delete each.
// Run on: the host (Node's fs/promises on a temp directory on the host filesystem: the ceiling),
// Kiln's guest on FAT over virtio-blk (a 256 MiB `kiln mkfs fat` image: FAT16; `--disk IMG --mount /data=0`),
// and Kiln's guest on virtio-fs (`--share DIR:bench --mount /host=bench` over a temp directory).
// The guest times itself with performance.now() and prints one JSON line. Medians of RUNS
// interleaved runs; MiB/s and operations/s with ratios to the host; a markdown block for
// bench/RESULTS.md.
// Run: npm run bench:fs [-- --runs 3]

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg === -1 ? 3 : Number(process.argv[runsArg + 1]);
const LARGE_MIB = 64;
const SMALL_N = 500;
const SMALL_BYTES = 4096;

interface Result {
  writeMiBs: number;
  readMiBs: number;
  createPerS: number;
  statPerS: number;
  readSmallPerS: number;
  deletePerS: number;
}

// The workload, written once against the node:fs/promises shape that kiln:fs shares: the host
// runs it with Node's module, the guest with kiln:fs. `now` is performance.now on both.
const WORKLOAD = `
async function workload(fs, dir, largeMiB, smallN, smallBytes) {
  const MiB = 1 << 20;
  const chunk = new Uint8Array(MiB);
  for (let i = 0; i < chunk.length; i += 4096) chunk[i] = i & 255;
  const big = dir + '/large.bin';
  let t = performance.now();
  const w = await fs.open(big, 'w');
  for (let i = 0; i < largeMiB; i++) await w.write(chunk, 0, MiB, i * MiB);
  await w.sync();
  await w.close();
  const writeMs = performance.now() - t;
  t = performance.now();
  const r = await fs.open(big, 'r');
  let got = 0;
  for (;;) {
    const { bytesRead } = await r.read(chunk, 0, MiB, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  await r.close();
  const readMs = performance.now() - t;
  if (got !== largeMiB * MiB) throw new Error('read back ' + got + ' bytes');
  await fs.unlink(big);
  const small = dir + '/small';
  await fs.mkdir(small);
  const body = chunk.subarray(0, smallBytes);
  t = performance.now();
  for (let i = 0; i < smallN; i++) await fs.writeFile(small + '/f' + i + '.txt', body);
  const createMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < smallN; i++) await fs.stat(small + '/f' + i + '.txt');
  const statMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < smallN; i++) if ((await fs.readFile(small + '/f' + i + '.txt')).length !== smallBytes) throw new Error('short read');
  const readSmallMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < smallN; i++) await fs.unlink(small + '/f' + i + '.txt');
  const deleteMs = performance.now() - t;
  await fs.rm(small, { recursive: true });
  return {
    writeMiBs: largeMiB / (writeMs / 1000), readMiBs: largeMiB / (readMs / 1000),
    createPerS: smallN / (createMs / 1000), statPerS: smallN / (statMs / 1000),
    readSmallPerS: smallN / (readSmallMs / 1000), deletePerS: smallN / (deleteMs / 1000),
  };
}
`;

const GUEST = `
import * as fs from 'kiln:fs';
import { args } from 'kiln:process';
${WORKLOAD}
workload(fs, args[0], ${LARGE_MIB}, ${SMALL_N}, ${SMALL_BYTES}).then((r) => console.log('RESULT ' + JSON.stringify(r)));
`;

async function hostRun(dir: string): Promise<Result> {
  // eslint-disable-next-line no-new-func
  const workload = new Function(`${WORKLOAD}; return workload;`)() as (fs: unknown, dir: string, a: number, b: number, c: number) => Promise<Result>;
  return workload({ open, mkdir, writeFile, readFile, stat, unlink, rm }, dir, LARGE_MIB, SMALL_N, SMALL_BYTES);
}

function guestRun(image: string, flags: string[], dir: string): Result {
  const r = spawnSync(process.execPath, [KILN, 'run', image, '--mem', '256', ...flags, '--', dir], { encoding: 'utf8', timeout: 600_000 });
  const line = /RESULT (.*)/.exec(r.stdout);
  if (r.status !== 0 || !line) throw new Error(`kiln run ${flags.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line[1]!) as Result;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-fs-'));
  const app = join(work, 'fsbench.ts');
  writeFileSync(app, GUEST);
  const image = join(work, 'fsbench.elf');
  const b = spawnSync(process.execPath, [KILN, 'build', app, '-o', image], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`kiln build: ${b.stderr}`);
  const results: Record<string, Result[]> = { host: [], fat: [], virtiofs: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      const hostDir = join(work, `host-${run}`);
      mkdirSync(hostDir);
      results.host!.push(await hostRun(hostDir));
      rmSync(hostDir, { recursive: true, force: true });

      const disk = join(work, `fat-${run}.img`);
      const mk = spawnSync(process.execPath, [KILN, 'mkfs', 'fat', '-o', disk, '--size', '256M'], { encoding: 'utf8' });
      if (mk.status !== 0) throw new Error(`kiln mkfs: ${mk.stderr}`);
      results.fat!.push(guestRun(image, ['--disk', disk, '--mount', '/data=0'], '/data'));
      rmSync(disk, { force: true });

      const share = join(work, `share-${run}`);
      mkdirSync(share);
      results.virtiofs!.push(guestRun(image, ['--share', `${share}:bench`, '--mount', '/host=bench'], '/host'));
      rmSync(share, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const keys: [keyof Result, string][] = [
    ['writeMiBs', `write ${LARGE_MIB} MiB + sync, MiB/s`], ['readMiBs', `read ${LARGE_MIB} MiB, MiB/s`],
    ['createPerS', `create ${SMALL_N} × 4 KiB files, /s`], ['statPerS', 'stat, /s'], ['readSmallPerS', 'read small file, /s'], ['deletePerS', 'delete, /s'],
  ];
  const med = (who: string, k: keyof Result): number => median(results[who]!.map((r) => r[k]));
  const lines = [
    `### Filesystems (${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Linux ${release()})`, '',
    `Medians of ${RUNS} runs. Host: Node fs/promises on the host's filesystem (page cache, no O_DIRECT). Kiln: the same workload in the guest through kiln:fs, Kiln's VMM, 256 MiB; FAT16 on virtio-blk (what \`kiln mkfs fat --size 256M\` picks, as mkfs.fat would; \`--mount /data=0\`) and virtio-fs (\`--share DIR:bench --mount /host=bench\`).`, '',
    '| operation | host | FAT / virtio-blk | virtio-fs | FAT vs host | virtio-fs vs host | virtio-fs vs FAT |', '|---|---|---|---|---|---|---|',
  ];
  for (const [k, label] of keys) {
    const h = med('host', k);
    const f = med('fat', k);
    const v = med('virtiofs', k);
    lines.push(`| ${label} | ${h.toFixed(0)} | ${f.toFixed(0)} | ${v.toFixed(0)} | ${(f / h).toFixed(3)} | ${(v / h).toFixed(3)} | ${(v / f).toFixed(2)} |`);
  }
  lines.push('', `Command: \`npm run bench:fs -- --runs ${RUNS}\`.`);
  console.log(lines.join('\n'));
}

await main();
