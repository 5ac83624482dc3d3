// Unit tests of kiln build's bundling conventions (build.ts): how npm packages resolve (the
// worker/browser export conditions and the browser field, as Wrangler resolves them). Each test
// writes a small app and its node_modules/<pkg>/{package.json,*.js} in a temporary directory and
// bundles it with bundle(), which needs esbuild only (no arch core); the line map's image test
// builds one (skipped without make -C arch).

import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PAYLOAD_KIND_FUNCTION_NAMES, PAYLOAD_KIND_LINE_MAP, decodeFunctionNames, decodeLineMap, readImagePayload, type LineMapData } from '@kiln/common';
import { ESBUILD_NAME_HELPER, NATIVE_NAME_HELPER, buildDefines, buildImage, bundle, parseDefine } from './build.ts';
import { KERNEL_SRC, archBuildDir } from './paths.ts';

const root = mkdtempSync(join(tmpdir(), 'kiln-build-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let apps = 0;

/** A fresh app directory holding `files` (path → contents; package.json objects are written as JSON). */
function app(files: Record<string, string | object>): string {
  const dir = join(root, `app${apps++}`);
  for (const [path, contents] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
  }
  return dir;
}

const marker = (name: string): string => `export default ${JSON.stringify(`marker:${name}`)};\n`;
const cjsMarker = (name: string): string => `module.exports = ${JSON.stringify(`marker:${name}`)};\n`;
const markers = (source: string): string[] => [...source.matchAll(/"marker:([\w-]+)"/g)].map((m) => m[1]!).sort();
const main = (imports: string[]): string =>
  `${imports.map((p, i) => `import m${i} from ${JSON.stringify(p)};`).join('\n')}\nconsole.log(${imports.map((_, i) => `m${i}`).join(', ')});\n`;

describe('package resolution: worker and browser conditions (as Wrangler)', () => {
  test('exports: worker is preferred to browser, node and default', async () => {
    const dir = app({
      'main.ts': main(['pkg']),
      'node_modules/pkg/package.json': { name: 'pkg', exports: { '.': { node: './node.js', worker: './worker.js', browser: './browser.js', default: './default.js' } } },
      'node_modules/pkg/node.js': marker('node'),
      'node_modules/pkg/worker.js': marker('worker'),
      'node_modules/pkg/browser.js': marker('browser'),
      'node_modules/pkg/default.js': marker('default'),
    });
    assert.deepEqual(markers((await bundle(join(dir, 'main.ts'))).source), ['worker']);
  });

  test('exports: workerd and browser are taken in the package\'s own key order; node is not', async () => {
    const dir = app({
      'main.ts': main(['a', 'b']),
      'node_modules/a/package.json': { name: 'a', exports: { node: './node.js', workerd: './workerd.js', default: './default.js' } },
      'node_modules/a/node.js': marker('a-node'),
      'node_modules/a/workerd.js': marker('a-workerd'),
      'node_modules/a/default.js': marker('a-default'),
      'node_modules/b/package.json': { name: 'b', exports: { node: { import: './node.mjs' }, browser: { import: './browser.mjs' }, import: './default.mjs' } },
      'node_modules/b/node.mjs': marker('b-node'),
      'node_modules/b/browser.mjs': marker('b-browser'),
      'node_modules/b/default.mjs': marker('b-default'),
    });
    assert.deepEqual(markers((await bundle(join(dir, 'main.ts'))).source), ['a-workerd', 'b-browser']);
  });

  test('main fields: browser before module before main', async () => {
    const dir = app({
      'main.ts': main(['x', 'y']),
      'node_modules/x/package.json': { name: 'x', main: 'main.js', module: 'module.js', browser: 'browser.js' },
      'node_modules/x/main.js': cjsMarker('x-main'),
      'node_modules/x/module.js': marker('x-module'),
      'node_modules/x/browser.js': marker('x-browser'),
      'node_modules/y/package.json': { name: 'y', main: 'main.js', module: 'module.js' },
      'node_modules/y/main.js': cjsMarker('y-main'),
      'node_modules/y/module.js': marker('y-module'),
    });
    assert.deepEqual(markers((await bundle(join(dir, 'main.ts'))).source), ['x-browser', 'y-module']);
  });

  test('the browser field map replaces files and turns `false` into an empty module', async () => {
    const dir = app({
      'main.ts': main(['z']),
      'node_modules/z/package.json': { name: 'z', main: 'index.js', browser: { './lib/node.js': './lib/web.js', fs: false } },
      'node_modules/z/index.js': `const fs = require('fs');\nmodule.exports = [require('./lib/node.js'), typeof fs.readFileSync];\n`,
      'node_modules/z/lib/node.js': cjsMarker('z-node'),
      'node_modules/z/lib/web.js': cjsMarker('z-web'),
    });
    assert.deepEqual(markers((await bundle(join(dir, 'main.ts'))).source), ['z-web']);
  });
});

/** The CliError's text (message and esbuild's formatted errors) of a bundle that must fail. */
async function bundleError(entry: string): Promise<string> {
  try {
    await bundle(entry);
  } catch (err) {
    const e = err as Error & { code?: string; details?: string };
    assert.equal(e.code, 'EBUILD', e.message);
    return `${e.message}\n${e.details ?? ''}`;
  }
  assert.fail(`bundling ${entry} succeeded`);
}

describe('bad input: unsupported Node modules and native addons fail the build', () => {
  test('a Node built-in Kiln does not provide names the importing package, its file and the module', async () => {
    const dir = app({
      'main.ts': main(['netpkg', '@scope/sock']),
      'node_modules/netpkg/package.json': { name: 'netpkg', main: 'index.js' },
      'node_modules/netpkg/index.js': `module.exports = require('net');\n`,
      'node_modules/@scope/sock/package.json': { name: '@scope/sock', type: 'module', exports: './lib/index.js' },
      'node_modules/@scope/sock/lib/index.js': `import dgram from 'node:dgram';\nexport default dgram;\n`,
    });
    const text = await bundleError(join(dir, 'main.ts'));
    assert.match(text, /\(2 errors\)/);
    assert.match(text, /package "netpkg" \(\S*node_modules\/netpkg\/index\.js\) imports "net", a Node built-in module that Kiln guests do not have \(Kiln provides: /);
    assert.match(text, /package "@scope\/sock" \(\S*node_modules\/@scope\/sock\/lib\/index\.js\) imports "node:dgram", a Node built-in/);
    assert.doesNotMatch(text, /platform: 'node'|Are you trying to bundle for node/);
  });

  test('the app\'s own import of one names the app\'s file', async () => {
    const dir = app({ 'main.ts': `import { connect } from 'node:tls';\nconsole.log(connect);\n` });
    const text = await bundleError(join(dir, 'main.ts'));
    assert.match(text, /\S*app\d+\/main\.ts imports "node:tls", a Node built-in module that Kiln guests do not have/);
  });

  test('a native addon (.node) names the package, its file and the addon', async () => {
    const dir = app({
      'main.ts': main(['native']),
      'node_modules/native/package.json': { name: 'native', main: 'index.js' },
      'node_modules/native/index.js': `module.exports = require('./build/Release/native.node');\n`,
    });
    const text = await bundleError(join(dir, 'main.ts'));
    assert.match(text, /package "native" \(\S*node_modules\/native\/index\.js\) loads the native addon "\.\/build\/Release\/native\.node": Kiln guests cannot load native \(\.node\) addons/);
  });

  test('a require() of one inside try/catch is left to the package\'s fallback (esbuild\'s rule), not refused', async () => {
    const dir = app({
      'main.ts': main(['optional']),
      'node_modules/optional/package.json': { name: 'optional', main: 'index.js' },
      'node_modules/optional/index.js': `let os = null;\ntry { os = require('os'); } catch {}\nmodule.exports = os === null ? 'marker:fallback' : 'marker:os';\n`,
    });
    await bundle(join(dir, 'main.ts'));
  });
});

const PROCESS_GLOBAL = /Object\.defineProperty\(globalThis, "process"/;

describe('bad input: globals Kiln guests lack are a build warning naming the package', () => {
  test('a package naming Intl or WebAssembly is named in a warning; the bundle keeps the plain names', async () => {
    const dir = app({
      'main.ts': `import { fmt } from 'fmtpkg';\nconsole.log(fmt(1), typeof SharedArrayBuffer);\n`,
      'node_modules/fmtpkg/package.json': { name: 'fmtpkg', main: 'index.js' },
      'node_modules/fmtpkg/index.js': `export const fmt = (n) => (typeof Intl === 'object' ? new Intl.NumberFormat('en').format(n) : String(n)) + typeof WebAssembly;\n`,
    });
    const b = await bundle(join(dir, 'main.ts'));
    assert.equal(b.warnings.length, 2, b.warnings.join('\n'));
    assert.match(b.warnings.find((w) => w.includes('fmtpkg'))!, /^package "fmtpkg" \(.*node_modules\/fmtpkg\/index\.js\) uses Intl, WebAssembly, which Kiln guests do not have/);
    assert.match(b.warnings.find((w) => !w.includes('fmtpkg'))!, /main\.ts uses SharedArrayBuffer/);
    assert.ok(!b.source.includes('__kiln_missing_'), 'no probe is left in the bundle');
    assert.match(b.source, /typeof Intl/);
  });

  test('a property or a local of such a name, and Kiln\'s own modules, do not count', async () => {
    const dir = app({ 'main.ts': `const o = { Intl: 1 };\nconst f = (Atomics: number) => Atomics + o.Intl;\nconsole.log(f(1));\n` });
    assert.deepEqual((await bundle(join(dir, 'main.ts'))).warnings, []);
    const http = app({ 'main.ts': `import { serve } from 'kiln:http';\nserve(() => new Response('x'));\n` });
    assert.deepEqual((await bundle(join(http, 'main.ts'))).warnings, []);
  });
});

describe('process.env.NODE_ENV and the process global', () => {
  test('NODE_ENV is "production" by default, --mode sets it; neither needs the process global', async () => {
    const dir = app({ 'main.ts': `if (process.env.NODE_ENV !== 'production') console.log('dev build');\nconsole.log(process.env.NODE_ENV);\n` });
    const prod = (await bundle(join(dir, 'main.ts'))).source;
    assert.doesNotMatch(prod, /dev build/); // the branch folded away at build time
    assert.match(prod, /console\.log\("production"\)/);
    assert.doesNotMatch(prod, PROCESS_GLOBAL);
    const dev = (await bundle(join(dir, 'main.ts'), { mode: 'development' })).source;
    assert.match(dev, /console\.log\("dev build"\)/);
    assert.match(dev, /console\.log\("development"\)/);
  });

  test('a package that reads process (env, nextTick, argv) gets the global; the app is unchanged', async () => {
    const dir = app({
      'main.ts': main(['debugish']),
      'node_modules/debugish/package.json': { name: 'debugish', main: 'index.js' },
      'node_modules/debugish/index.js': `module.exports = process.env.DEBUG;\nprocess.nextTick(() => {});\n`,
    });
    assert.match((await bundle(join(dir, 'main.ts'))).source, PROCESS_GLOBAL);
  });

  test('typeof process counts; a local, a parameter or a property named process does not', async () => {
    const uses = app({ 'main.ts': `console.log(typeof process === 'undefined' ? 'none' : 'some');\n` });
    assert.match((await bundle(join(uses, 'main.ts'))).source, PROCESS_GLOBAL);
    const not = app({ 'main.ts': `const job = { process: 1 };\nfunction run(process: number) { return process + job.process; }\n{ const process = 2; console.log(run(process), 'the process platform'); }\n` });
    assert.doesNotMatch((await bundle(join(not, 'main.ts'))).source, PROCESS_GLOBAL);
  });

  test('an app that does not name process gets no process code (hello\'s bundle does not grow)', async () => {
    const dir = app({ 'main.ts': `console.log('Hello from Kiln');\n` });
    const source = (await bundle(join(dir, 'main.ts'))).source;
    assert.doesNotMatch(source, PROCESS_GLOBAL);
    assert.doesNotMatch(source, /__kiln_uses_|platform: "kiln"/);
  });

  test('kiln:process and node:process are one object source: the guest env is kiln:process\'s', async () => {
    const dir = app({ 'main.ts': `import { env } from 'kiln:process';\nconsole.log(env === process.env);\n` });
    const source = (await bundle(join(dir, 'main.ts'))).source;
    assert.match(source, PROCESS_GLOBAL);
    assert.equal(source.match(/function parseCmdline\(/g)?.length, 1);
  });

  test('--define: JSON literals and identifiers, checked before esbuild sees them; they win over Kiln\'s', async () => {
    assert.deepEqual(parseDefine('process.env.API_URL="http://x"'), ['process.env.API_URL', '"http://x"']);
    assert.deepEqual(parseDefine('DEBUG=false'), ['DEBUG', 'false']);
    assert.deepEqual(parseDefine('ROOT=globalThis.root'), ['ROOT', 'globalThis.root']);
    assert.throws(() => parseDefine('process.env.X=hello world'), /VALUE must be JSON/);
    assert.throws(() => parseDefine('not-a-name=1'), /expected NAME=VALUE/);
    assert.throws(() => parseDefine('NOVALUE'), /VALUE must be JSON/);
    assert.equal(buildDefines('a/main.ts', { define: { 'process.env.NODE_ENV': '"test"' } })['process.env.NODE_ENV'], '"test"');
    const dir = app({ 'main.ts': `console.log(FLAG, process.env.API_URL);\n` });
    const source = (await bundle(join(dir, 'main.ts'), { define: { FLAG: '42', 'process.env.API_URL': '"http://x"' } })).source;
    assert.match(source, /console\.log\(42, "http:\/\/x"\)/);
    assert.doesNotMatch(source, PROCESS_GLOBAL);
  });
});

describe('the Node compatibility subset: each module bundled only when imported', () => {
  test('node:*, bare and trailing-slash names of a supported module all resolve (npm ones from the kernel\'s pinned packages)', async () => {
    const dir = app({
      'main.ts': `import { EventEmitter } from 'node:events';\nimport E2 from 'events';\nimport { Buffer } from 'buffer/';\nimport path from 'node:path';\n` +
        `import posix from 'path/posix';\nimport { StringDecoder } from 'string_decoder';\nimport { format, types } from 'node:util';\nimport { isDate } from 'node:util/types';\n` +
        `import { setImmediate } from 'node:timers';\nimport { setTimeout } from 'node:timers/promises';\nimport proc from 'node:process';\n` +
        `console.log(EventEmitter === E2, Buffer, path === posix, StringDecoder, format, types, isDate, setImmediate, setTimeout, proc);\n`,
    });
    const { source, usesFs } = await bundle(join(dir, 'main.ts'));
    assert.equal(usesFs, false);
    assert.match(source, /node_modules\/events\/events\.js/); // esbuild's module comments name each file
    assert.match(source, /node_modules\/buffer\/index\.js/);
    assert.match(source, /node_modules\/path-browserify\/index\.js/);
    assert.match(source, /node_modules\/string_decoder\/lib\/string_decoder\.js/);
    assert.match(source, /units\/node\/util\.ts/);
  });

  test('node:fs/promises is kiln:fs: the app gets the boot mounts', async () => {
    const dir = app({ 'main.ts': `import { readdir } from 'node:fs/promises';\nimport fs from 'fs/promises';\nconsole.log(readdir, fs.readFile);\n` });
    const { source, usesFs } = await bundle(join(dir, 'main.ts'));
    assert.equal(usesFs, true);
    assert.match(source, /units\/fs\.ts/);
  });

  test('Buffer and setImmediate used as globals (by a package) are installed from node:buffer and node:timers', async () => {
    const dir = app({
      'main.ts': main(['b64']),
      'node_modules/b64/package.json': { name: 'b64', main: 'index.js' },
      'node_modules/b64/index.js': `module.exports = (s) => new Promise((r) => setImmediate(() => r(Buffer.from(s).toString('base64'))));\n`,
    });
    const source = (await bundle(join(dir, 'main.ts'))).source;
    assert.match(source, /Object\.defineProperty\(globalThis, "Buffer"/);
    assert.match(source, /Object\.defineProperty\(globalThis, "setImmediate"/);
    assert.doesNotMatch(source, PROCESS_GLOBAL);
  });

  test('an app that imports none of them bundles none of them', async () => {
    const dir = app({ 'main.ts': `console.log('Hello from Kiln');\n` });
    const source = (await bundle(join(dir, 'main.ts'))).source;
    assert.doesNotMatch(source, /node_modules\/|units\/node\/|kiln-global/);
  });

  test('the build error for an unsupported module lists the ones Kiln provides', async () => {
    const dir = app({ 'main.ts': `import net from 'node:net';\nconsole.log(net);\n` });
    assert.match(await bundleError(join(dir, 'main.ts')), /Kiln provides: node:assert, node:assert\/strict, node:buffer, node:crypto, node:events, node:fs\/promises, node:path, .*node:util\/types; or use web APIs/);
  });
});

describe('web globals and WebCrypto algorithms: bundled only when the bundle names them', () => {
  const modules = (source: string): string[] => [...new Set([...source.matchAll(/\/\/ .*?kernel\/src\/(web\/[\w/]+\.ts)/g)].map((m) => m[1]!))].sort();
  const usesBigIntCore = async (source: string): Promise<boolean> => (await import('./bigint.ts')).usesBigInt(source);

  test('an app that hashes with SHA-256 gets subtle and SHA-256 only: no curves, no AES, no BigInt', async () => {
    const dir = app({ 'main.ts': `const d = await crypto.subtle.digest('SHA-256', new Uint8Array(1));\nconsole.log(d.byteLength);\n` });
    const source = (await bundle(join(dir, 'main.ts'))).source;
    const web = modules(source);
    assert.ok(web.includes('web/crypto/subtle.ts') && web.includes('web/crypto/sha256.ts'), web.join(' '));
    for (const m of ['web/crypto/ecdsa.ts', 'web/crypto/ed25519.ts', 'web/crypto/aes_gcm.ts', 'web/crypto/sha512.ts', 'web/form_data.ts']) assert.ok(!web.includes(m), m);
    assert.equal(await usesBigIntCore(source), false);
  });

  test('algorithm names count in any letter case; ECDSA brings the BigInt core', async () => {
    const dir = app({ 'main.ts': `console.log(await crypto.subtle.generateKey({ name: 'ecdsa', namedCurve: 'P-256' }, true, ['sign']));\n` });
    const source = (await bundle(join(dir, 'main.ts'))).source;
    assert.ok(modules(source).includes('web/crypto/ecdsa.ts'));
    assert.equal(await usesBigIntCore(source), true);
  });

  test('names in Kiln\'s own modules do not count: a kiln:http app gets no FormData, Blob or crypto.subtle', async () => {
    const dir = app({ 'main.ts': `import { serve } from 'kiln:http';\nserve(() => new Response('hello'));\n` });
    const web = modules((await bundle(join(dir, 'main.ts'))).source);
    for (const m of ['web/form_data.ts', 'web/blob.ts', 'web/crypto/subtle.ts', 'web/install_dom_exception.ts']) assert.ok(!web.includes(m), m);
  });

  test('FormData, Blob, the transform and compression streams, atob, DOMException and navigator each come with their name, and not without', async () => {
    const cases: [string, string][] = [
      ['new FormData()', 'web/form_data.ts'], ['new Blob([])', 'web/blob.ts'], ['new TransformStream()', 'web/transform_stream.ts'],
      ['atob("")', 'web/base64.ts'], ['new DOMException("x")', 'web/install_dom_exception.ts'], ['new AbortController()', 'web/abort.ts'],
      ['new EventTarget()', 'web/event_target.ts'], ['structuredClone(1)', 'web/structured_clone.ts'],
      ['new CompressionStream("gzip")', 'web/compression_stream.ts'], ['new DecompressionStream("gzip")', 'web/decompression_stream.ts'],
      ['navigator.userAgent', 'web/install_navigator.ts'],
    ];
    for (const [expr, module] of cases) {
      const dir = app({ 'main.ts': `console.log(${expr});\n` });
      assert.ok(modules((await bundle(join(dir, 'main.ts'))).source).includes(module), `${expr} → ${module}`);
    }
    const hello = app({ 'main.ts': `console.log('Hello from Kiln');\n` });
    assert.deepEqual(modules((await bundle(join(hello, 'main.ts'))).source), []);
    const gzipOnly = modules((await bundle(join(app({ 'main.ts': `console.log(new CompressionStream('gzip'));\n` }), 'main.ts'))).source);
    assert.ok(!gzipOnly.includes('web/decompression_stream.ts'), 'compressing does not bring inflate');
  });
});

describe('the line map: bundle lines to the app\'s TypeScript lines', () => {
  /** The 1-based bundle line holding `text` (exactly once). */
  const lineOf = (source: string, text: string): number => {
    const lines = source.split('\n');
    const at = lines.findIndex((l) => l.includes(text));
    assert.ok(at !== -1 && lines.findIndex((l, i) => i > at && l.includes(text)) === -1, `${text} once in the bundle`);
    return at + 1;
  };
  const lookup = (map: LineMapData, line: number): { file: string; line: number } | undefined => {
    const r = map.runs.find((x) => line >= x.bundleLine && line < x.bundleLine + x.count);
    return r === undefined ? undefined : { file: map.files[r.fileIndex]!, line: r.sourceLine + line - r.bundleLine };
  };
  const files = {
    'main.ts': `import { twice } from './lib/util.ts';\nimport pkg from 'pkg';\n\n// a comment\nconst n: number = twice(2);\nconsole.log('marker-main', n, pkg);\n`,
    'lib/util.ts': `export function twice(x: number): number {\n  console.log('marker-util');\n  return x * 2;\n}\n`,
    'node_modules/pkg/package.json': { name: 'pkg', main: 'index.js' },
    'node_modules/pkg/index.js': `\n\nmodule.exports = ['marker-pkg'];\n`,
  };

  test('app files, packages and Kiln\'s modules map to their own lines; esbuild\'s helpers to none', async () => {
    const dir = app(files);
    const { source, lineMap } = await bundle(join(dir, 'main.ts'));
    assert.deepEqual(lookup(lineMap, lineOf(source, 'marker-main')), { file: 'main.ts', line: 6 });
    assert.deepEqual(lookup(lineMap, lineOf(source, 'marker-util')), { file: 'lib/util.ts', line: 2 });
    assert.deepEqual(lookup(lineMap, lineOf(source, 'marker-pkg')), { file: 'node_modules/pkg/index.js', line: 3 });
    assert.deepEqual(lookup(lineMap, lineOf(source, 'function reportUncaught(')), { file: 'kiln:units/lifecycle.ts', line: lineOf(readFileSync(join(KERNEL_SRC, 'units/lifecycle.ts'), 'utf8'), 'function reportUncaught(') });
    assert.equal(lookup(lineMap, 1), undefined, 'the IIFE head maps nowhere');
    assert.ok(lineMap.files.every((f) => f === 'main.ts' || f === 'lib/util.ts' || f.startsWith('node_modules/') || f.startsWith('kiln:')), lineMap.files.join(' '));
  });

  test('with top-level await, the async wrapper\'s line is counted', async () => {
    const dir = app({ 'main.ts': `await Promise.resolve();\nconsole.log('marker-tla');\n` });
    const { source, lineMap } = await bundle(join(dir, 'main.ts'));
    assert.match(source, /^\(async \(\) => \{\n/);
    assert.deepEqual(lookup(lineMap, lineOf(source, 'marker-tla')), { file: 'main.ts', line: 2 });
  });

  const core = join(archBuildDir(), 'kiln-core.elf');
  test('kiln build puts it in the image as payload section 4', { skip: existsSync(core) ? undefined : `${core} is missing (make -C arch)` }, async () => {
    const dir = app({ 'main.ts': `function parse(text: string): number {\n  // why\n  throw new Error(text);\n}\nparse('x');\n` });
    const out = join(dir, 'app.elf');
    const result = await buildImage({ entry: join(dir, 'main.ts'), out });
    const { sections } = readImagePayload(readFileSync(out));
    const section = sections.find((s) => s.kind === PAYLOAD_KIND_LINE_MAP);
    assert.ok(section !== undefined);
    assert.equal(result.lineMapBytes, section.data.length);
    const { source } = await bundle(join(dir, 'main.ts'));
    assert.deepEqual(decodeLineMap(section.data).lookup(lineOf(source, 'throw new Error(text)')), { file: 'main.ts', line: 3 });
  });

  test('the bundle names functions through the core\'s op, not esbuild\'s helper (one line for one line)', async () => {
    const dir = app({ 'main.ts': `class Box {\n  open = () => 1;\n}\nconsole.log(new Box().open());\n` });
    const { source } = await bundle(join(dir, 'main.ts'));
    assert.ok(source.includes(NATIVE_NAME_HELPER), 'the pinned esbuild still prints the helper as ESBUILD_NAME_HELPER');
    assert.ok(!source.includes(ESBUILD_NAME_HELPER));
  });

  test('kiln build puts the function names in the image as payload section 5', { skip: existsSync(core) ? undefined : `${core} is missing (make -C arch)` }, async () => {
    const dir = app({ 'main.ts': `class Parser {
  parse(text: string): number {
    return text.length;
  }
}
console.log(new Parser().parse('x'));
` });
    const out = join(dir, 'app.elf');
    const result = await buildImage({ entry: join(dir, 'main.ts'), out });
    const section = readImagePayload(readFileSync(out)).sections.find((s) => s.kind === PAYLOAD_KIND_FUNCTION_NAMES);
    assert.ok(section !== undefined);
    assert.equal(result.functionNamesBytes, section.data.length);
    const { source } = await bundle(join(dir, 'main.ts'));
    assert.equal(decodeFunctionNames(section.data).lookup(lineOf(source, 'return text.length')), 'Parser.parse');
  });
});
