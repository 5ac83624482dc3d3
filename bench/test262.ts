// test262 conformance of the guest's engine (a script, not a test; not in CI): runs the test262
// tests of every ES2016–ES2024 built-in and syntax feature (by their `features:` tag) in the
// guest's QuickJS built for the host (arch/build/kiln-test262: the same patched sources and
// configuration as kiln-core-bigint.elf, BigInt included, one fresh runtime per test, no VM per test) and in this Node
// (node:vm, a fresh context per test), and prints pass rates per feature and per edition as a
// markdown table for bench/RESULTS.md. Strict and sloppy variants count as two tests, as
// test262's INTERPRETING.md says. Syntax that `kiln build` lowers with esbuild (target es2020)
// is measured as the engine parses it, unlowered: the table is the engine's, not kiln build's.
// Run: make -C arch build/kiln-test262 && node --import tsx bench/test262.ts --test262 /tmp/test262 [--features a,b] [--no-node] [--failures]
// (--failures lists the test files the guest's engine fails, with the variant, on stderr)

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import vm from 'node:vm';
import { ROOT } from './common.ts';

const EDITIONS: Record<string, string[]> = {
  ES2016: ['Array.prototype.includes', 'exponentiation'],
  ES2017: ['async-functions'],
  ES2018: ['object-rest', 'object-spread', 'async-iteration', 'Promise.prototype.finally', 'regexp-dotall', 'regexp-lookbehind', 'regexp-named-groups', 'regexp-unicode-property-escapes'],
  ES2019: ['Array.prototype.flat', 'Array.prototype.flatMap', 'Object.fromEntries', 'string-trimming', 'optional-catch-binding', 'Symbol.prototype.description', 'well-formed-json-stringify', 'json-superset'],
  ES2020: ['BigInt', 'Promise.allSettled', 'String.prototype.matchAll', 'globalThis', 'optional-chaining', 'coalesce-expression', 'dynamic-import', 'import.meta'],
  ES2021: ['logical-assignment-operators', 'numeric-separator-literal', 'Promise.any', 'AggregateError', 'String.prototype.replaceAll', 'WeakRef', 'FinalizationRegistry'],
  ES2022: ['class-fields-public', 'class-fields-private', 'class-methods-private', 'class-static-fields-public', 'class-static-fields-private', 'class-static-methods-private', 'class-static-block', 'class-fields-private-in', 'top-level-await', 'Object.hasOwn', 'Array.prototype.at', 'String.prototype.at', 'TypedArray.prototype.at', 'error-cause', 'regexp-match-indices'],
  ES2023: ['array-find-from-last', 'change-array-by-copy', 'hashbang', 'symbols-as-weakmap-keys'],
  ES2024: ['array-grouping', 'promise-with-resolvers', 'String.prototype.isWellFormed', 'String.prototype.toWellFormed'],
};

interface Meta { includes: string[]; flags: string[]; features: string[]; negative?: { phase: string; type: string } }
interface Job { file: string; mode: 'script' | 'module'; strict: boolean; meta: Meta }
interface Outcome { error?: string; prints: string[] }

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function yamlList(block: string, key: string): string[] {
  const inline = new RegExp(`^${key}:\\s*\\[([^\\]]*)\\]`, 'm').exec(block);
  if (inline) return inline[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  const multi = new RegExp(`^${key}:\\s*\\n((?:\\s+-.*\\n?)+)`, 'm').exec(block);
  return multi ? multi[1]!.split('\n').map((l) => l.replace(/^\s*-\s*/, '').trim()).filter(Boolean) : [];
}

function parseMeta(src: string): Meta {
  const block = /\/\*---([\s\S]*?)---\*\//.exec(src)?.[1] ?? '';
  const neg = /^negative:\s*\n\s+phase:\s*(\S+)\s*\n\s+type:\s*(\S+)/m.exec(block) ?? /^negative:\s*\n\s+type:\s*(\S+)\s*\n\s+phase:\s*(\S+)/m.exec(block);
  const negative = neg ? (/phase:\s*\S+\s*\n\s+type/.test(neg[0]) ? { phase: neg[1]!, type: neg[2]! } : { phase: neg[2]!, type: neg[1]! }) : undefined;
  return { includes: yamlList(block, 'includes'), flags: yamlList(block, 'flags'), features: yamlList(block, 'features'), negative };
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.js') && !name.includes('_FIXTURE')) out.push(p);
  }
}

const harnessCache = new Map<string, string>();
function harness(root: string, name: string): string {
  let s = harnessCache.get(name);
  if (s === undefined) harnessCache.set(name, (s = readFileSync(join(root, 'harness', name), 'utf8')));
  return s;
}

function compose(root: string, job: Job, src: string): string {
  if (job.meta.flags.includes('raw')) return src;
  const inc = ['assert.js', 'sta.js', ...(job.meta.flags.includes('async') ? ['doneprintHandle.js'] : []), ...job.meta.includes];
  return `${job.strict ? '"use strict";\n' : ''}${[...new Set(inc)].map((n) => harness(root, n)).join('\n')}\n${src}`;
}

function judge(job: Job, o: Outcome): boolean {
  const neg = job.meta.negative;
  if (neg) return o.error !== undefined && o.error.startsWith(`${neg.type}:`);
  if (o.error !== undefined) return false;
  if (job.meta.flags.includes('async')) return o.prints.some((p) => p === 'Test262:AsyncTestComplete') && !o.prints.some((p) => p.startsWith('Test262:AsyncTestFailure'));
  return true;
}

/** Runs jobs through a line-protocol runner (kiln-test262 or this script as a Node worker). */
async function runAll(cmd: string, args: string[], root: string, jobs: Job[], tmp: string, label: string): Promise<boolean[]> {
  const results: boolean[] = [];
  let i = 0;
  while (i < jobs.length) {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    let crashed = false;
    for (; i < jobs.length; i++) {
      const job = jobs[i]!;
      const src = compose(root, job, readFileSync(job.file, 'utf8'));
      // Modules sit beside the test, so their relative imports (fixtures) resolve.
      const path = job.mode === 'module' ? join(dirname(job.file), `${basename(job.file, '.js')}.kiln262.mjs`) : join(tmp, 'test.js');
      writeFileSync(path, src);
      child.stdin.write(`${path}\t${job.mode}\n`);
      const o: Outcome = { prints: [] };
      for (;;) {
        const r = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: undefined }))]);
        if (r.done) { crashed = true; break; }
        const line = r.value as string;
        if (line === 'end') break;
        if (line.startsWith('print ')) o.prints.push(line.slice(6));
        else if (line.startsWith('error ')) o.error ??= line.slice(6);
      }
      if (job.mode === 'module') rmSync(path, { force: true });
      if (crashed) { results.push(false); i++; break; }
      results.push(judge(job, o));
      if (i % 2000 === 0) process.stderr.write(`${label}: ${i}/${jobs.length}\n`);
    }
    child.stdin.end();
    if (!crashed) await exited;
    else process.stderr.write(`${label}: the runner died on ${jobs[i - 1]!.file}; restarted\n`);
  }
  return results;
}

/** Node worker: the same protocol as kiln-test262, in node:vm contexts. */
async function nodeWorker(): Promise<void> {
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  let asyncDone = false;
  const newRealm = (): vm.Context => {
    const ctx = vm.createContext({});
    const g = vm.runInContext('globalThis', ctx) as Record<string, unknown>;
    g.print = (s: unknown) => { if (String(s).startsWith('Test262:Async')) asyncDone = true; out(`print ${String(s).replace(/[\r\n]/g, ' ')}`); };
    g.$262 = {
      createRealm: () => (vm.runInContext('globalThis', newRealm()) as Record<string, unknown>).$262,
      evalScript: (s: string) => vm.runInContext(s, ctx),
      detachArrayBuffer: (b: ArrayBuffer) => void structuredClone(b, { transfer: [b] }),
      gc: () => (globalThis as { gc?: () => void }).gc?.(),
      global: g,
    };
    return ctx;
  };
  const report = (e: unknown): void => {
    const name = e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : '(not an Error)';
    out(`error ${name}: ${String(e).replace(/[\r\n]/g, ' ')}`);
  };
  for await (const line of createInterface({ input: process.stdin })) {
    const [path, mode] = line.split('\t') as [string, string];
    const ctx = newRealm();
    asyncDone = false;
    let failed = false;
    const onReject = (e: unknown): void => { if (!failed) { failed = true; report(e); } };
    try {
      const src = readFileSync(path, 'utf8');
      if (mode === 'module') {
        const cache = new Map<string, vm.Module>();
        const load = (p: string): vm.Module => {
          let m = cache.get(p);
          if (!m) cache.set(p, (m = new vm.SourceTextModule(readFileSync(p, 'utf8'), { context: ctx, identifier: p, importModuleDynamically: ((s: string) => link(s, p)) as never })));
          return m;
        };
        const link = async (spec: string, from: string): Promise<vm.Module> => { const m = load(join(dirname(from), spec)); if (m.status === 'unlinked') await m.link((s, r) => link(s, r.identifier)); if (m.status === 'linked') await m.evaluate(); return m; };
        const m = new vm.SourceTextModule(src, { context: ctx, identifier: path, importModuleDynamically: ((s: string) => link(s, path)) as never });
        await m.link((s, r) => Promise.resolve(load(join(dirname(r.identifier), s))));
        await m.evaluate();
      } else {
        new vm.Script(src, { filename: path, importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER as never }).runInContext(ctx, { timeout: 10_000 });
      }
    } catch (e) { onReject(e); }
    // Async tests finish in later jobs: wait for the harness's verdict, at most 2 s.
    const t0 = Date.now();
    const isAsync = /\$DONE|asyncTest/.test(readFileSync(path, 'utf8'));
    do await new Promise((r) => setImmediate(r));
    while (isAsync && !failed && !asyncDone && Date.now() - t0 < 2000);
    if (!failed) out('ok');
    out('end');
  }
}

async function main(): Promise<void> {
  const root = arg('--test262');
  if (!root || !existsSync(join(root, 'harness/assert.js'))) throw new Error('usage: node --import tsx bench/test262.ts --test262 DIR (a test262 checkout)');
  const runner = join(ROOT, 'arch/build/kiln-test262');
  if (!existsSync(runner)) throw new Error(`${runner} is missing: make -C arch build/kiln-test262`);
  const only = arg('--features')?.split(',');
  const featureEdition = new Map<string, string>();
  for (const [ed, fs] of Object.entries(EDITIONS)) for (const f of fs) if (!only || only.includes(f)) featureEdition.set(f, ed);
  const files: string[] = [];
  for (const d of ['test/built-ins', 'test/language', 'test/annexB']) walk(join(root, d), files);
  const jobs: Job[] = [];
  for (const file of files.sort()) {
    const meta = parseMeta(readFileSync(file, 'utf8'));
    if (!meta.features.some((f) => featureEdition.has(f))) continue;
    if (meta.flags.includes('CanBlockIsTrue')) continue; // needs agents that block
    const mode = meta.flags.includes('module') ? 'module' : 'script';
    const strict = mode === 'module' || meta.flags.includes('raw') ? [false] : meta.flags.includes('onlyStrict') ? [true] : meta.flags.includes('noStrict') ? [false] : [false, true];
    for (const s of strict) jobs.push({ file, mode, strict: s, meta });
  }
  process.stderr.write(`${jobs.length} tests (variants) from ${new Set(jobs.map((j) => j.file)).size} files\n`);
  const tmpQ = mkdtempSync(join(tmpdir(), 'kiln262-q-'));
  const tmpN = mkdtempSync(join(tmpdir(), 'kiln262-n-'));
  const t0 = Date.now();
  // The two runners alternate module files in the checkout: run them one after the other.
  const q = await runAll(runner, [], root, jobs, tmpQ, 'quickjs');
  const tq = (Date.now() - t0) / 1000;
  const n = process.argv.includes('--no-node') ? undefined
    : await runAll(process.execPath, ['--experimental-vm-modules', '--expose-gc', '--no-warnings', '--import', 'tsx', join(ROOT, 'bench/test262.ts'), '--node-worker'], root, jobs, tmpN, 'node');
  rmSync(tmpQ, { recursive: true, force: true });
  rmSync(tmpN, { recursive: true, force: true });

  if (process.argv.includes('--failures')) {
    jobs.forEach((j, i) => { if (!q[i]) process.stderr.write(`FAIL ${j.strict ? 'strict' : 'sloppy'} ${j.file.slice(root.length + 1)}\n`); });
  }
  const rows: string[] = [];
  const pct = (p: number, t: number): string => (t === 0 ? '–' : `${((100 * p) / t).toFixed(1)} %`);
  const byEdition = new Map<string, { t: number; q: number; n: number }>();
  for (const [f, ed] of featureEdition) {
    let t = 0, qp = 0, np = 0;
    jobs.forEach((j, i) => { if (j.meta.features.includes(f)) { t++; if (q[i]) qp++; if (n?.[i]) np++; } });
    const e = byEdition.get(ed) ?? { t: 0, q: 0, n: 0 };
    e.t += t; e.q += qp; e.n += np;
    byEdition.set(ed, e);
    rows.push(`| ${ed} | ${f} | ${t} | ${pct(qp, t)} | ${n ? pct(np, t) : ''} |`);
  }
  console.log(`Tests: ${jobs.length} (strict and sloppy variants counted apart); QuickJS run ${tq.toFixed(0)} s; Node ${process.version}\n`);
  console.log('| edition | tests | kiln engine (host build) | Node |\n|---|---:|---:|---:|');
  for (const [ed, e] of byEdition) console.log(`| ${ed} | ${e.t} | ${pct(e.q, e.t)} | ${n ? pct(e.n, e.t) : ''} |`);
  console.log('\n| edition | feature | tests | kiln engine (host build) | Node |\n|---|---|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

if (process.argv.includes('--node-worker')) await nodeWorker();
else await main();
