// web-platform-tests of Kiln's web APIs (a script, not a test; not in CI): runs the `*.any.js` tests
// of the WPT areas Kiln's guest globals implement (packages/kernel/src/web/) in the guest, one image
// per test file (per `// META: variant=`), and the same program in this Node, and prints subtest pass
// rates per area and the Kiln files that fail most as markdown for bench/RESULTS.md.
//
// Each program is: a shim (self = globalThis, the GLOBAL object WPT's classic-worker wrapper sets,
// a worker-like `location` with the variant's search, a stub fetch), resources/testharness.js, the
// `// META: script=` helpers, the test file, `done()` (as the worker wrapper does), and a reporter
// (add_completion_callback) that prints one JSON line. testharness.js picks its shell environment
// (no document, no WorkerGlobalScope). The concatenation is evaluated as one sloppy global script
// with an indirect eval, as a worker's importScripts runs it: a bundle's top level is the IIFE's
// function scope, where a test's top-level `var`s and functions would not be globals. kiln build
// still bundles the globals the text names (OPTIONAL_GLOBALS matches inside the string too).
//
// Files whose `// META: global=` excludes every worker and jsshell global (window-only, shadowrealm-only)
// are skipped. Files that need a WPT server (get-host-info / *.sub.js, XMLHttpRequest, workers,
// location.origin) are "not runnable" and counted apart; so are subtests that fail because the stub
// fetch refused a URL: it serves the checkout's static .json/.txt/.idl files named by the test (the
// URL tests' data, idlharness's /interfaces/*.idl) and passes data:/blob: URLs to the real fetch, and
// refuses the rest. A crash, a timeout, or a build error fails the file's subtests (the union of the
// subtest names the two runs reported), with the reason recorded.
//
// Run: node --import tsx bench/wpt.ts --wpt /path/to/wpt [--areas url,encoding,...] [--no-node]
//        [--accel process] [--jobs N] [--json out.json] [--timeout S] [--keep]

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { KILN } from './common.ts';

const AREAS = ['url', 'encoding', 'streams', 'fetch/api/headers', 'fetch/api/request', 'fetch/api/response', 'dom/events', 'dom/abort', 'FileAPI', 'html/webappapis/structured-clone', 'WebCryptoAPI', 'compression'];
const WORKER_GLOBALS = new Set(['dedicatedworker', 'sharedworker', 'serviceworker', 'jsshell']);
/** Needs a WPT server (or a browser's worker machinery): not runnable in a guest or a shell. */
const NEEDS_SERVER = /\bXMLHttpRequest\b|\bnew (?:Shared)?Worker\s*\(|\bimportScripts\s*\(|fetch_tests_from_(?:worker|window)|navigator\.serviceWorker|\blocation\.origin\b|\{\{(?:host|ports|domains)/;
const MARK = 'WPT_NEEDS_SERVER';
const RESULT = 'WPT_RESULT ';
const STATUS = ['PASS', 'FAIL', 'TIMEOUT', 'NOTRUN', 'PRECONDITION_FAILED'];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

interface Meta { globals: string[] | undefined; scripts: string[]; long: boolean; variants: string[] }
interface Job { area: string; file: string; rel: string; variant: string; id: string; skip?: string }
interface Sub { name: string; status: string; message?: string }
interface Run { subs: Sub[]; harness?: string; error?: string; ms: number }

function parseMeta(src: string): Meta {
  const m: Meta = { globals: undefined, scripts: [], long: false, variants: [] };
  for (const line of src.split('\n')) {
    const r = /^\/\/\s*META:\s*(\w+)=(.*)$/.exec(line.trim());
    if (!r) { if (line.trim() === '' || line.trim().startsWith('//')) continue; break; }
    const [, k, v] = r as unknown as [string, string, string];
    if (k === 'global') m.globals = v.split(',').map((s) => s.trim()).flatMap((g) => (g === 'worker' ? ['dedicatedworker', 'sharedworker', 'serviceworker'] : [g]));
    else if (k === 'script') m.scripts.push(v.trim());
    else if (k === 'timeout') m.long = v.trim() === 'long';
    else if (k === 'variant') m.variants.push(v.trim());
  }
  return m;
}

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  if (statSync(dir).isFile()) { if (dir.endsWith('.any.js')) out.push(dir); return; }
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'resources' && name !== 'support') walk(p, out); }
    else if (name.endsWith('.any.js')) out.push(p);
  }
}

/** A META script path: from the WPT root when absolute, else beside the test. */
const scriptPath = (root: string, file: string, s: string): string => {
  // WPT's server serves /resources/WebIDLParser.js from resources/webidl2/lib/webidl2.js.
  if (s === '/resources/WebIDLParser.js' && !existsSync(join(root, s))) return join(root, 'resources/webidl2/lib/webidl2.js');
  return s.startsWith('/') ? join(root, s) : join(dirname(file), s);
};

/** Static files the stub fetch serves: string literals naming an existing .json/.txt/.idl file, and idl_test's specs. */
function servedFiles(root: string, file: string, srcs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (abs: string): void => {
    if (!existsSync(abs) || !statSync(abs).isFile() || statSync(abs).size > 4 << 20) return;
    out[`/${relative(root, abs).split('\\').join('/')}`] = readFileSync(abs, 'utf8');
  };
  for (const src of srcs) {
    for (const m of src.matchAll(/["'`]((?:\.{0,2}\/)?[\w\-./]+\.(?:json|txt|idl))["'`]/g)) add(m[1]!.startsWith('/') ? join(root, m[1]!) : join(dirname(file), m[1]!));
    for (const m of src.matchAll(/idl_test\s*\(\s*\[([^\]]*)\]\s*,\s*\[([^\]]*)\]/g)) {
      for (const n of `${m[1]},${m[2]}`.matchAll(/["']([\w\-.]+)["']/g)) add(join(root, 'interfaces', `${n[1]}.idl`));
    }
  }
  return out;
}

function shim(job: Job, files: Record<string, string>, budgetMs: number): string {
  const path = `/${job.rel.replace(/\.any\.js$/, '.any.worker.js')}`;
  const loc = { href: `http://web-platform.test:8000${path}${job.variant}`, protocol: 'http:', host: 'web-platform.test:8000', hostname: 'web-platform.test', port: '8000', pathname: path, search: job.variant, hash: '' };
  return `globalThis.self = globalThis;
self.GLOBAL = { isWindow: function() { return false; }, isWorker: function() { return true; }, isShadowRealm: function() { return false; } };
self.location = ${JSON.stringify(loc)}; self.location.toString = function() { return this.href; };
(function() {
  var files = ${JSON.stringify(files)};
  var real = typeof self.fetch === 'function' ? self.fetch : undefined;
  var dir = ${JSON.stringify(posix.dirname(path))};
  function norm(u) {
    u = u.replace(/^https?:\\/\\/[^/]*/, '').replace(/[?#].*$/, '');
    if (u.charAt(0) !== '/') u = dir + '/' + u;
    var out = [];
    u.split('/').forEach(function(p) { if (p === '..') out.pop(); else if (p !== '.' && p !== '') out.push(p); });
    return '/' + out.join('/');
  }
  self.fetch = function(input) {
    var u = typeof input === 'string' ? input : input && typeof input.url === 'string' ? input.url : String(input);
    if (/^(data|blob|about):/i.test(u)) return real ? real.apply(this, arguments) : Promise.reject(new TypeError('no fetch'));
    var key = norm(u);
    if (Object.prototype.hasOwnProperty.call(files, key)) {
      var text = files[key];
      return Promise.resolve({ ok: true, status: 200, statusText: 'OK', url: u, redirected: false, type: 'basic',
        text: function() { return Promise.resolve(text); }, json: function() { return Promise.resolve(JSON.parse(text)); } });
    }
    return Promise.reject(new TypeError('${MARK}: ' + u));
  };
})();
self.__wpt_budget = setTimeout(function() { if (typeof timeout === 'function') timeout(); }, ${budgetMs});
`;
}

const REPORTER = `
add_completion_callback(function(tests, status) {
  clearTimeout(self.__wpt_budget);
  var seen = {};
  var subs = tests.map(function(t) {
    var n = String(t.name); seen[n] = (seen[n] || 0) + 1; if (seen[n] > 1) n += ' #' + seen[n];
    return { name: n, status: t.status, message: t.message == null ? undefined : String(t.message).slice(0, 300) };
  });
  console.log('${RESULT}' + JSON.stringify({ subs: subs, harness: status.status, message: status.message == null ? undefined : String(status.message).slice(0, 300) }));
});
`;

function compose(root: string, job: Job, budgetMs: number): string {
  const src = readFileSync(job.file, 'utf8');
  const meta = parseMeta(src);
  const scripts = meta.scripts.map((s) => readFileSync(scriptPath(root, job.file, s), 'utf8'));
  const files = servedFiles(root, job.file, [src, ...scripts]);
  const parts = [shim(job, files, budgetMs), readFileSync(join(root, 'resources/testharness.js'), 'utf8'), REPORTER, ...scripts, src, 'done();'];
  const text = parts.join('\n;\n');
  // kiln build picks the engine with BigInt by parsing the bundle, which cannot see into the
  // string: name BigInt outside it when the text may use it (a literal, the globals, DataView's 64-bit accessors).
  const bigint = /\b\d+n\b|\bBig(?:Int|Int64Array|Uint64Array)\b|\b[gs]etBig(?:Int|Uint)64\b/.test(text) ? 'globalThis.__wpt_bigint = typeof BigInt;\n' : '';
  // One sloppy global script, as importScripts would run it (see the header).
  return `${bigint}(0, eval)(${JSON.stringify(text)});\n`;
}

/** Runs cmd; resolves with its stdout, stderr, exit code, and whether it was stopped at `limitMs`.
 * Once the result line is out, a lingering program (a stray timer) gets 2 s, then SIGTERM. */
function exec(cmd: string, args: string[], limitMs: number): Promise<{ out: string; err: string; code: number | null; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', timedOut = false, linger: NodeJS.Timeout | undefined;
    const stop = (): void => { try { child.kill('SIGTERM'); } catch { /* gone */ } setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 3000).unref(); };
    const timer = setTimeout(() => { timedOut = true; stop(); }, limitMs);
    child.stdout.on('data', (d: Buffer) => { out += d; if (!linger && out.includes(RESULT) && out.slice(out.indexOf(RESULT)).includes('\n')) linger = setTimeout(stop, 2000); });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('close', (code) => { clearTimeout(timer); clearTimeout(linger); resolve({ out, err, code, timedOut }); });
  });
}

function parseRun(r: { out: string; err: string; code: number | null; timedOut: boolean }, ms: number): Run {
  const line = r.out.split('\n').find((l) => l.includes(RESULT));
  if (line) {
    try {
      const j = JSON.parse(line.slice(line.indexOf(RESULT) + RESULT.length)) as { subs: { name: string; status: number; message?: string }[]; harness: number; message?: string };
      const harness = j.harness === 0 ? undefined : `harness ${['OK', 'ERROR', 'TIMEOUT', 'PRECONDITION_FAILED'][j.harness] ?? j.harness}${j.message ? `: ${j.message}` : ''}`;
      return { subs: j.subs.map((s) => ({ name: s.name, status: STATUS[s.status] ?? String(s.status), message: s.message })), harness, ms };
    } catch { /* a torn line: fall through */ }
  }
  const lines = `${r.err}\n${r.out}`.trim().split('\n').filter(Boolean);
  const tail = (lines.find((l) => /^\w*(Error|Exception)\b|^Uncaught|error:/.test(l.trim())) ?? lines.slice(-2).join(' | ')).trim().slice(0, 300);
  const timedOut = r.timedOut || r.code === 124 || /did not finish within --timeout/.test(r.err);
  return { subs: [], error: timedOut ? `timeout${tail ? ` (${tail})` : ''}` : `crash (exit ${r.code})${tail ? `: ${tail}` : ''}`, ms };
}

async function pool<T>(items: T[], n: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => { while (next < items.length) await work(items[next++]!); }));
}

async function main(): Promise<void> {
  const root = flag('--wpt');
  if (!root || !existsSync(join(root, 'resources/testharness.js'))) throw new Error('usage: node --import tsx bench/wpt.ts --wpt DIR (a WPT checkout) [--areas url,encoding,...] [--no-node] [--accel process] [--jobs N] [--json FILE] [--timeout S]');
  const areas = flag('--areas')?.split(',') ?? AREAS;
  const accel = flag('--accel') ?? 'process';
  const jobsN = Number(flag('--jobs') ?? availableParallelism());
  const baseTimeout = Number(flag('--timeout') ?? 10);
  const withNode = !process.argv.includes('--no-node');
  const tmp = mkdtempSync(join(tmpdir(), 'kiln-wpt-'));

  const jobs: Job[] = [];
  const skipped = new Map<string, string[]>();
  for (const area of areas) {
    const files: string[] = [];
    walk(join(root, area), files);
    for (const file of files) {
      const rel = relative(root, file).split('\\').join('/');
      const src = readFileSync(file, 'utf8');
      const meta = parseMeta(src);
      const globals = meta.globals ?? ['window', 'dedicatedworker'];
      if (!globals.some((g) => WORKER_GLOBALS.has(g))) { skipped.set(area, [...(skipped.get(area) ?? []), rel]); continue; }
      const missing = meta.scripts.filter((s) => !existsSync(scriptPath(root, file, s)));
      const scripts = meta.scripts.filter((s) => !missing.includes(s)).map((s) => readFileSync(scriptPath(root, file, s), 'utf8'));
      const server = /\.sub\.|\.h2\./.test(rel) || meta.scripts.some((s) => /\.sub\.js$|get-host-info/.test(s)) || [src, ...scripts].some((s) => NEEDS_SERVER.test(s));
      for (const variant of meta.variants.length ? meta.variants : ['']) {
        const id = `${rel}${variant}`;
        jobs.push({ area, file, rel, variant, id, skip: server ? 'needs a WPT server' : missing.length ? `missing META script ${missing.join(', ')}` : undefined });
      }
    }
  }
  const runnable = jobs.filter((j) => !j.skip);
  process.stderr.write(`${jobs.length} test files (variants counted apart), ${runnable.length} runnable; ${[...skipped.values()].flat().length} window/shadowrealm-only files skipped; ${jobsN} at a time\n`);

  const kiln = new Map<string, Run>();
  const node = new Map<string, Run>();
  const tasks: { job: Job; kind: 'kiln' | 'node'; i: number }[] = [];
  runnable.forEach((job, i) => { tasks.push({ job, kind: 'kiln', i }); if (withNode) tasks.push({ job, kind: 'node', i }); });
  let done = 0;
  const t0 = Date.now();
  await pool(tasks, jobsN, async ({ job, kind, i }) => {
    const long = parseMeta(readFileSync(job.file, 'utf8')).long;
    const budget = (long ? 3 : 1) * baseTimeout * 1000;
    const js = join(tmp, `t${i}.js`);
    if (!existsSync(js)) writeFileSync(js, compose(root, job, budget));
    const t = Date.now();
    if (kind === 'node') {
      node.set(job.id, parseRun(await exec(process.execPath, ['--no-warnings', js], budget + 10_000), Date.now() - t));
    } else {
      const elf = join(tmp, `t${i}.elf`);
      const b = await exec(process.execPath, [KILN, 'build', js, '-o', elf], 120_000);
      if (b.code !== 0) kiln.set(job.id, { subs: [], error: `build error: ${`${b.err}${b.out}`.trim().split('\n').slice(0, 3).join(' | ').slice(0, 300)}`, ms: Date.now() - t });
      else kiln.set(job.id, parseRun(await exec(process.execPath, [KILN, 'run', elf, '--accel', accel, '--mem', '256', '--timeout', String(Math.ceil(budget / 1000) + 5)], budget + 15_000), Date.now() - t));
      rmSync(elf, { force: true });
    }
    done++;
    const r = (kind === 'kiln' ? kiln : node).get(job.id)!;
    process.stderr.write(`[${done}/${tasks.length} ${((Date.now() - t0) / 1000).toFixed(0)} s] ${kind} ${job.id}: ${r.error ?? `${r.subs.filter((s) => s.status === 'PASS').length}/${r.subs.length}${r.harness ? ` (${r.harness.slice(0, 80)})` : ''}`}\n`);
  });
  if (process.argv.includes('--keep')) process.stderr.write(`programs kept in ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });

  // Per file: the union of subtest names either run reported; a subtest whose failure is the stub
  // fetch's refusal (in either run) is not runnable; one missing from a run failed there.
  interface FileScore { job: Job; total: number; kiln: number; node: number; notRunnable: number; why?: string; fails: Sub[] }
  const scores: FileScore[] = [];
  for (const job of runnable) {
    const k = kiln.get(job.id)!, n = node.get(job.id);
    const names = [...new Set([...k.subs.map((s) => s.name), ...(n?.subs ?? []).map((s) => s.name)])];
    const km = new Map(k.subs.map((s) => [s.name, s])), nm = new Map((n?.subs ?? []).map((s) => [s.name, s]));
    const server = (s?: Sub): boolean => !!s && s.status !== 'PASS' && !!s.message?.includes(MARK);
    const harnessServer = (r?: Run): boolean => !!r?.harness?.includes(MARK);
    const sc: FileScore = { job, total: 0, kiln: 0, node: 0, notRunnable: 0, why: k.error ?? k.harness, fails: [] };
    if (names.length === 0) {
      if (harnessServer(k) || harnessServer(n)) sc.notRunnable = 1;
      else { sc.total = 1; sc.fails.push({ name: '(file)', status: 'FAIL', message: k.error ?? k.harness ?? 'no subtests' }); if (n && !n.error && !n.harness) sc.node = 1; }
    }
    for (const name of names) {
      const ks = km.get(name), ns = nm.get(name);
      if (server(ks) || server(ns)) { sc.notRunnable++; continue; }
      sc.total++;
      if (ks?.status === 'PASS') sc.kiln++; else sc.fails.push(ks ?? { name, status: 'MISSING', message: k.error ?? k.harness ?? 'not reported' });
      if (ns?.status === 'PASS') sc.node++;
    }
    scores.push(sc);
  }

  const pct = (p: number, t: number): string => (t === 0 ? '–' : `${((100 * p) / t).toFixed(1)} %`);
  const notRunnableFiles = (a: string): Job[] => jobs.filter((j) => j.area === a && (j.skip || scores.find((s) => s.job === j && s.total === 0 && s.notRunnable > 0)));
  console.log(`WPT ${root}; ${jobs.length} test files (variants apart) in ${areas.length} areas, ${runnable.length} run; Kiln on the ${accel} platform${withNode ? `, Node ${process.version}` : ''}; ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  console.log(`| area | files run | not runnable files | subtests | Kiln passed | Kiln | ${withNode ? 'Node passed | Node | ' : ''}not runnable subtests |`);
  console.log(`|---|---:|---:|---:|---:|---:|${withNode ? '---:|---:|' : ''}---:|`);
  const sum = { files: 0, nr: 0, total: 0, kiln: 0, node: 0, nrs: 0 };
  for (const a of areas) {
    const s = scores.filter((x) => x.job.area === a);
    const row = { files: s.length, nr: notRunnableFiles(a).length, total: s.reduce((x, y) => x + y.total, 0), kiln: s.reduce((x, y) => x + y.kiln, 0), node: s.reduce((x, y) => x + y.node, 0), nrs: s.reduce((x, y) => x + y.notRunnable, 0) };
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += row[k];
    console.log(`| ${a} | ${row.files} | ${row.nr} | ${row.total} | ${row.kiln} | ${pct(row.kiln, row.total)} | ${withNode ? `${row.node} | ${pct(row.node, row.total)} | ` : ''}${row.nrs} |`);
  }
  console.log(`| **all** | ${sum.files} | ${sum.nr} | ${sum.total} | ${sum.kiln} | ${pct(sum.kiln, sum.total)} | ${withNode ? `${sum.node} | ${pct(sum.node, sum.total)} | ` : ''}${sum.nrs} |`);

  console.log('\nNot runnable files (a WPT server, workers, XHR), per area:\n');
  for (const a of areas) {
    const nr = notRunnableFiles(a);
    if (nr.length) console.log(`- ${a}: ${nr.map((j) => `${j.id.slice(a.length + 1)}${j.skip && j.skip !== 'needs a WPT server' ? ` (${j.skip})` : ''}`).join(', ')}`);
  }
  const skippedAll = [...skipped.entries()].filter(([, v]) => v.length);
  if (skippedAll.length) console.log(`\nSkipped (no worker or jsshell global): ${skippedAll.map(([a, v]) => `${a} ${v.length}`).join(', ')}`);

  console.log('\nTop failing files for Kiln, per area (failed/total subtests; Node passed; first failure or why):\n');
  for (const a of areas) {
    const top = scores.filter((x) => x.job.area === a && x.total - x.kiln > 0).sort((x, y) => (y.total - y.kiln) - (x.total - x.kiln)).slice(0, 5);
    if (!top.length) continue;
    console.log(`- **${a}**`);
    for (const t of top) {
      const first = t.fails[0];
      const why = (t.why ?? (first ? `${first.name}: ${first.status}${first.message ? ` ${first.message}` : ''}` : '')).replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 160);
      console.log(`  - ${t.job.id.slice(a.length + 1)}: ${t.total - t.kiln}/${t.total} failed${withNode ? ` (Node ${t.node}/${t.total})` : ''} — ${why}`);
    }
  }

  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify(scores.map((s) => ({ id: s.job.id, area: s.job.area, total: s.total, kiln: s.kiln, node: s.node, notRunnable: s.notRunnable, why: s.why, kilnRun: kiln.get(s.job.id), nodeRun: node.get(s.job.id) })), null, 1));
}

await main();
