// Hono against plain kiln:http (a script, not a test; issue 12's targets): the same "hello"
// route as examples/http-hello and as tests/compat/hono/hello.ts (Hono on kiln:http). Reports
// image sizes (with hello's), the time from `kiln run` spawned to the first HTTP response
// (through passt's hostfwd, RUNS interleaved boots each) and wrk req/s and p99 at 64 connections
// (RUNS interleaved runs of DURATION s after a warm-up), on the process platform or KVM
// (`--platforms`). Targets: Hono's image ≤ 1.5 MiB, its boot ≤ 1.5× http-hello's, its req/s
// ≥ 0.8× http-hello's. Needs tests/compat's node_modules (bash scripts/setup.sh).
// Run: npm run bench:hono [-- --runs 5] [--duration 10] [--boots 20] [--platforms process,kvm]

import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';
import { ROOT, KILN, arg, fmt, machine, median, platformsArg, pollerProcess, PLATFORM_LABEL, runWrk, wallUs, type Platform } from './common.ts';

const RUNS = arg('--runs', 3);
const BOOTS = arg('--boots', 15);
const DURATION = arg('--duration', 10);
const PLATFORMS = platformsArg();
const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-hono-'));
const progress = (what: string): void => void process.stderr.write(`bench:hono ${new Date().toISOString().slice(11, 19)} ${what}\n`);

const GUESTS = { 'http-hello': 'examples/http-hello/main.ts', hono: 'tests/compat/hono/hello.ts', hello: 'examples/hello/main.ts' } as const;
type Guest = keyof typeof GUESTS;
const elf = (g: Guest): string => join(dir, `${g}.elf`);

function kiln(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [KILN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kiln ${args.join(' ')} exited ${code}`))));
  });
}

/** Boots `g` with hostfwd; resolves once it answered (pollerProcess), with the ms from spawn and a stop(). */
async function boot(g: Guest, platform: Platform): Promise<{ ms: number; url: string; stop(): Promise<void> }> {
  const port = await freeLoopbackPort();
  const startUs = wallUs();
  const child = spawn(process.execPath, [KILN, 'run', elf(g), '--accel', platform, '--mem', '64', '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:8080`], { cwd: ROOT, stdio: 'ignore' });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  const stop = async (): Promise<void> => {
    child.kill('SIGKILL');
    await closed;
  };
  try {
    const answeredUs = await pollerProcess(port).answeredUs;
    return { ms: (answeredUs - startUs) / 1000, url: `http://127.0.0.1:${port}/`, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function main(): Promise<void> {
  for (const g of Object.keys(GUESTS) as Guest[]) await kiln(['build', GUESTS[g], '-o', elf(g)]);
  const lines = ['', `### Hono vs plain kiln:http (\`npm run bench:hono -- --runs ${RUNS} --boots ${BOOTS} --duration ${DURATION}\`)`, '', machine(), ''];
  lines.push('| image | bytes |', '|---|---|');
  for (const g of Object.keys(GUESTS) as Guest[]) lines.push(`| ${g} | ${statSync(elf(g)).size} |`);
  const ratio = statSync(elf('hono')).size / (1.5 * 1024 * 1024);
  lines.push('', `Hono's image is ${fmt(ratio * 100, 0)} % of the 1.5 MiB target.`, '');
  lines.push('| platform | spawn → first response, http-hello (ms) | Hono (ms) | ratio | req/s http-hello | req/s Hono | ratio | p99 http-hello (ms) | p99 Hono (ms) | errors |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const platform of PLATFORMS) {
    const bootMs: Record<'http-hello' | 'hono', number[]> = { 'http-hello': [], hono: [] };
    for (let i = 0; i < BOOTS; i++) {
      for (const g of ['http-hello', 'hono'] as const) {
        const b = await boot(g, platform);
        bootMs[g].push(b.ms);
        await b.stop();
      }
    }
    progress(`${platform}: boots done`);
    const rps: Record<'http-hello' | 'hono', number[]> = { 'http-hello': [], hono: [] };
    const p99: Record<'http-hello' | 'hono', number[]> = { 'http-hello': [], hono: [] };
    let errors = 0;
    for (let i = 0; i < RUNS; i++) {
      for (const g of ['http-hello', 'hono'] as const) {
        const b = await boot(g, platform);
        await runWrk(b.url, 64, Math.min(DURATION, 3)); // warm-up
        const w = await runWrk(b.url, 64, DURATION);
        rps[g].push(w.rps);
        p99[g].push(w.p99Ms);
        errors += w.errors;
        await b.stop();
        progress(`${platform} run ${i + 1} ${g}: ${fmt(w.rps, 0)} req/s`);
      }
    }
    const [bh, bo] = [median(bootMs['http-hello']), median(bootMs.hono)];
    const [rh, ro] = [median(rps['http-hello']), median(rps.hono)];
    lines.push(`| ${PLATFORM_LABEL[platform]} | ${fmt(bh)} | ${fmt(bo)} | ${fmt(bo / bh, 2)} | ${fmt(rh, 0)} | ${fmt(ro, 0)} | ${fmt(ro / rh, 2)} | ${fmt(median(p99['http-hello']), 2)} | ${fmt(median(p99.hono), 2)} | ${errors} |`);
  }
  lines.push('', `Medians; boots and wrk runs interleaved (http-hello, Hono, ...); guests 1 vCPU, 64 MiB, reached through passt's hostfwd on 127.0.0.1.`);
  console.log(lines.join('\n'));
}

await main();
