// What the benchmark scripts share: where the repository and the `kiln` bin are, flag parsing,
// the median and number format of their tables, the machine line every results block names, and
// wrk's runner (req/s, p99, errors) and the first-response poller.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
export const KILN = join(ROOT, 'packages/cli/bin/kiln.js');

/** The number after flag `name` on the command line, or `dflt`. */
export const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};

/** The comma-separated list after flag `name` on the command line, or `dflt`. */
export const listArg = (name: string, dflt: string[]): string[] => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : process.argv[i + 1]!.split(',');
};

/** The platforms of Kiln's VMM a benchmark compares, and their labels in result tables. */
export type Platform = 'process' | 'kvm';
export const PLATFORM_LABEL: Record<Platform, string> = { process: 'process platform', kvm: 'KVM' };

/** `--platforms process,kvm` (the default both), checked. */
export function platformsArg(): Platform[] {
  const list = listArg('--platforms', ['process', 'kvm']);
  if (list.some((p) => p !== 'process' && p !== 'kvm')) throw new Error('--platforms: a comma-separated list of process, kvm');
  return list as Platform[];
}

/** Median of the finite values (NaN when there are none). */
export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${cpus().length} CPUs (nproc), ${model}, Linux ${release()}, Node ${process.version}`;
}

export interface WrkResult {
  rps: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

function toMs(v: string, unit: string): number {
  const x = Number(v);
  return unit === 'us' ? x / 1000 : unit === 's' ? x * 1000 : x;
}

/** Runs wrk for `seconds` (inside network namespace `netns` if given) and parses req/s, p99 and errors. */
export function runWrk(url: string, conns: number, seconds: number, netns?: string): Promise<WrkResult> {
  const args = ['-t', conns > 1 ? '2' : '1', '-c', String(conns), '-d', `${seconds}s`, '--latency', url];
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, 'wrk', ...args]] : ['wrk', args];
  return new Promise((res, rej) => {
    const p = spawn(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', rej);
    p.on('close', () => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)/m.exec(out);
      const reqs = /(\d+) requests in/.exec(out);
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      if (!rps || !p99 || !reqs) return rej(new Error(`wrk ${url}: unexpected output:\n${out}`));
      const errors = (errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
      res({ rps: Number(rps[1]), p99Ms: toMs(p99[1]!, p99[2]!), requests: Number(reqs[1]), errors });
    });
  });
}

/** Wall-clock microseconds (comparable across processes). */
export const wallUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

/**
 * A polling client in a child process (so it does not share this event loop with the VMM): a new
 * connection with a GET every 2 ms, earlier ones left open (a SYN that reached passt or the TAP
 * before the guest's stack was up may not be retried for a second), until one is answered 200.
 */
export function pollerProcess(port: number): { child: ChildProcess; answeredUs: Promise<number> } {
  const code = `
    import { connect } from 'node:net';
    const now = () => (performance.timeOrigin + performance.now()) * 1000;
    const sockets = [];
    let done = false;
    const finish = (line) => { if (done) return; done = true; clearInterval(t); console.log(line); for (const s of sockets) s.destroy(); process.exit(0); };
    const t = setInterval(() => {
      if (sockets.length > 5000) return finish('timeout');
      const s = connect(${port}, '127.0.0.1');
      sockets.push(s);
      s.on('error', () => {});
      s.on('connect', () => s.write('GET / HTTP/1.1\\r\\nhost: x\\r\\n\\r\\n'));
      s.on('data', (d) => { if (d.toString('latin1').startsWith('HTTP/1.1 200')) finish(String(now())); });
    }, 2);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const answeredUs = new Promise<number>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('close', () => (/^\d/.test(out) ? res(Number(out)) : rej(new Error('first-response poller: ' + out.trim()))));
  });
  return { child, answeredUs };
}
