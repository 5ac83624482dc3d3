// TCP reliability benchmark (a script, not a test): boots examples/tcp-echo behind `--net user`
// (passt on Kiln's VMM) RUNS times on each platform and pushes 1 MB through the hostfwd port each
// time; a run fails when the echo differs, the client is reset, or the guest does not exit 0 by
// itself. It found the zero-window stall (the guest dropped the ACKs of segments not at RCV.NXT
// and retransmitted what passt had acknowledged until passt reset the connection): the failure
// rate is the number, with each failing run's guest output printed. `--images A.elf,B.elf` compares
// builds (e.g. of two commits) interleaved run by run.
// Run: npm run bench:tcp-repeat [-- --runs 40] [--platforms process,kvm] [--images a.elf,b.elf]

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KILN, ROOT, arg, fmt, listArg, machine, median, platformsArg } from './common.ts';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';

const runs = arg('--runs', 40);
const platforms = platformsArg();
const BYTES = 1_000_000;

/** One boot and one 1 MB echo: ok, the time from spawn to the guest's exit, and what went wrong. */
async function once(image: string, platform: string): Promise<{ ok: boolean; ms: number; why: string }> {
  const port = await freeLoopbackPort();
  const t0 = performance.now();
  const vm = spawn(process.execPath, [KILN, 'run', image, '--accel', platform, '--timeout', '40', '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:7`, '--', '7', '1'], { cwd: ROOT });
  let out = '';
  vm.stdout.on('data', (d: Buffer) => (out += d.toString()));
  vm.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => vm.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  while (!out.includes('listening') && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
  const data = randomBytes(BYTES);
  let clientError = '';
  const got = await new Promise<Buffer>((resolve) => {
    const parts: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => {
      s.write(data);
      s.end();
    });
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('close', () => resolve(Buffer.concat(parts)));
    s.on('error', (e) => (clientError = e.message));
  });
  const code = await exited;
  const ms = performance.now() - t0;
  const ok = got.equals(data) && code === 0;
  return { ok, ms, why: ok ? '' : `echoed ${got.length} of ${BYTES} bytes, exit ${code}${clientError ? `, client: ${clientError}` : ''}\n${out}` };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tcp-repeat-'));
  try {
    let images = listArg('--images', []);
    if (images.length === 0) {
      const image = join(dir, 'tcp-echo.elf');
      const b = spawn(process.execPath, [KILN, 'build', 'examples/tcp-echo/main.ts', '-o', image], { cwd: ROOT, stdio: 'inherit' });
      if ((await new Promise((r) => b.on('exit', r))) !== 0) throw new Error('kiln build failed');
      images = [image];
    }
    const results = new Map<string, { fails: number; ms: number[] }>();
    for (let i = 0; i < runs; i++) {
      for (const platform of platforms) {
        for (const image of images) {
          const key = `${image} | ${platform}`;
          const r = await once(image, platform);
          const entry = results.get(key) ?? { fails: 0, ms: [] };
          if (!r.ok) {
            entry.fails++;
            console.error(`run ${i} ${key}: FAILED — ${r.why}\n----`);
          }
          entry.ms.push(r.ms);
          results.set(key, entry);
        }
      }
    }
    console.log(`\n${machine()}; ${runs} runs each, interleaved; 1 MB echoed through passt per run\n`);
    console.log('| image | platform | failed runs | median run ms |');
    console.log('|---|---|---:|---:|');
    for (const [key, r] of results) {
      const [image, platform] = key.split(' | ');
      console.log(`| ${image} | ${platform} | ${r.fails} of ${r.ms.length} | ${fmt(median(r.ms), 0)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
