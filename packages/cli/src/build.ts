// `kiln build`: bundle app + kernel prelude with esbuild, compile the bundle to QuickJS
// bytecode with arch/build/kiln-qjsc, and assemble the bootable image with the arch core; an app
// whose bundle uses BigInt (bigint.ts) gets the BigInt pair, kiln-qjsc-bigint + kiln-core-bigint.elf.
// Only `kiln:*` modules the app imports are bundled (esbuild tree shaking); Node built-ins
// are refused. An app that imports kiln:fs gets an entry that mounts its filesystems before
// the app's first line, and a bootfs section (the --assets files, possibly none). Every image
// gets the bundle's line map (source_lines.ts), from which the guest prints stack frames in the
// app's TypeScript lines.
// Spec: docs/ARCHITECTURE.md (image payload, filesystems), shared/DESIGN.md §4 "Image".

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import * as esbuild from 'esbuild';
import { assembleImage, encodeFunctionNames, encodeLineMap, ImageError, type LineMapData } from '@kiln/common';
import { emptyAssets, readAssets, type AssetsSpec } from './assets.ts';
import { usesBigInt } from './bigint.ts';
import { CliError } from './errors.ts';
import { KERNEL_SRC, REPO_ROOT, archOutputs } from './paths.ts';
import { functionNamesOf } from './function_names.ts';
import { lineMapOf, type SourceMapV3 } from './source_lines.ts';

/** `kiln:*` modules and the kernel file implementing each (apps typecheck against the same files:
 * packages/kernel/tsconfig.app.json's `paths`, which app_types.test.ts holds to this map). */
export const KILN_MODULES: Record<string, string> = {
  'kiln:process': join(KERNEL_SRC, 'units/process.ts'),
  'kiln:block': join(KERNEL_SRC, 'units/block.ts'),
  'kiln:vsock': join(KERNEL_SRC, 'units/vsock.ts'),
  'kiln:netdev': join(KERNEL_SRC, 'units/netdev.ts'),
  'kiln:fs': join(KERNEL_SRC, 'units/fs.ts'),
  'kiln:net': join(KERNEL_SRC, 'units/net.ts'),
  'kiln:http': join(KERNEL_SRC, 'units/http.ts'),
};

/** Globals installed only for apps that use them (each costs bundle size and boot time). */
const OPTIONAL_GLOBALS: { name: string; module: string }[] = [
  { name: 'crypto', module: 'crypto_global.ts' },
  { name: 'fetch', module: 'fetch_global.ts' },
  { name: 'Headers', module: 'web/install_fetch.ts' },
  { name: 'Request', module: 'web/install_fetch.ts' },
  { name: 'Response', module: 'web/install_fetch.ts' },
  { name: 'TextEncoder', module: 'web/install_encoding.ts' },
  { name: 'TextDecoder', module: 'web/install_encoding.ts' },
  { name: 'URL', module: 'web/install_url.ts' },
  { name: 'URLSearchParams', module: 'web/install_url.ts' },
  { name: 'ReadableStream', module: 'web/install_streams.ts' },
  { name: 'WritableStream', module: 'web/install_transform_streams.ts' },
  { name: 'TransformStream', module: 'web/install_transform_streams.ts' },
  { name: 'TextEncoderStream', module: 'web/install_transform_streams.ts' },
  { name: 'TextDecoderStream', module: 'web/install_transform_streams.ts' },
  { name: 'CompressionStream', module: 'web/install_compression_stream.ts' },
  { name: 'DecompressionStream', module: 'web/install_decompression_stream.ts' },
  { name: 'Blob', module: 'web/install_blob.ts' },
  { name: 'File', module: 'web/install_blob.ts' },
  { name: 'blob', module: 'web/install_blob.ts' },
  { name: 'FormData', module: 'web/install_form_data.ts' },
  { name: 'formData', module: 'web/install_form_data.ts' },
  { name: 'DOMException', module: 'web/install_dom_exception.ts' },
  { name: 'Event', module: 'web/install_events.ts' },
  { name: 'CustomEvent', module: 'web/install_events.ts' },
  { name: 'EventTarget', module: 'web/install_events.ts' },
  { name: 'reportError', module: 'web/install_events.ts' },
  { name: 'AbortController', module: 'web/install_abort.ts' },
  { name: 'AbortSignal', module: 'web/install_abort.ts' },
  { name: 'navigator', module: 'web/install_navigator.ts' },
  { name: 'structuredClone', module: 'web/install_structured_clone.ts' },
  { name: 'atob', module: 'web/install_base64.ts' },
  { name: 'btoa', module: 'web/install_base64.ts' },
  // crypto.subtle needs the crypto global (a bundle naming `subtle` names `crypto` too, almost always).
  { name: 'subtle', module: 'crypto_global.ts' },
  { name: 'subtle', module: 'subtle_global.ts' },
  { name: 'CryptoKey', module: 'subtle_global.ts' },
  { name: 'SubtleCrypto', module: 'subtle_global.ts' },
];

/** WebCrypto algorithms, each bundled when the bundle names it in any letter case (web/crypto/subtle.ts):
 * a name built at run time is not seen, and crypto.subtle then says which name to write. */
const WEBCRYPTO_ALGORITHMS: { name: string; module: string }[] = [
  { name: 'SHA-1', module: 'web/crypto/sha1.ts' },
  { name: 'SHA-256', module: 'web/crypto/sha256.ts' },
  { name: 'SHA-384', module: 'web/crypto/sha512.ts' },
  { name: 'SHA-512', module: 'web/crypto/sha512.ts' },
  { name: 'HMAC', module: 'web/crypto/hmac.ts' },
  { name: 'PBKDF2', module: 'web/crypto/pbkdf2.ts' },
  { name: 'HKDF', module: 'web/crypto/hkdf.ts' },
  { name: 'AES-GCM', module: 'web/crypto/aes_gcm.ts' },
  { name: 'ECDSA', module: 'web/crypto/ecdsa.ts' },
  { name: 'Ed25519', module: 'web/crypto/ed25519.ts' },
];

/** How packages are resolved, as Wrangler does for Workers: the `workerd`, `worker` and `browser`
 * export conditions (with esbuild's `import`/`require` and `default`), the `browser` field before
 * `module` and `main`, and the object form of the `browser` field (file replacements, `false` for
 * an empty module), which esbuild applies only on the browser platform. A package whose browser
 * build works gets it, not its Node build. */
export const RESOLVE_OPTIONS: Pick<esbuild.BuildOptions, 'platform' | 'conditions' | 'mainFields'> = {
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['browser', 'module', 'main'],
};

/** Where a Node built-in module comes from: an npm package pinned in packages/kernel/package.json
 * (resolved from the kernel, whatever the app's own node_modules hold) or a kernel file; `uses`
 * is the kiln:* module it brings (node:fs/promises is kiln:fs, with its boot mounts). */
export type NodeCompat = { npm: string } | { kernel: string; uses?: string };

/** The Node built-in modules a guest may import (Workers' nodejs_compat subset, so far), by name
 * without `node:` (a bare `events` or `events/` is the same module); each is bundled only when
 * some module imports it. The rest fail the build (explainErrors). */
export const NODE_COMPAT: Record<string, NodeCompat> = {
  assert: { kernel: 'units/node/assert_cjs.ts' },
  'assert/strict': { kernel: 'units/node/assert_strict.ts' },
  buffer: { npm: 'buffer/' },
  crypto: { kernel: 'units/node/crypto.ts' },
  events: { npm: 'events/' },
  'fs/promises': { kernel: 'units/node/fs_promises.ts', uses: 'kiln:fs' },
  path: { npm: 'path-browserify' },
  'path/posix': { npm: 'path-browserify' },
  process: { kernel: 'units/node/process.ts' },
  stream: { kernel: 'units/node/stream_cjs.ts' },
  'stream/promises': { kernel: 'units/node/stream_promises.ts' },
  'stream/web': { kernel: 'units/node/stream_web.ts' },
  string_decoder: { npm: 'string_decoder/' },
  timers: { kernel: 'units/node/timers.ts' },
  'timers/promises': { kernel: 'units/node/timers_promises.ts' },
  util: { kernel: 'units/node/util.ts' },
  'util/types': { kernel: 'units/node/util_types.ts' },
};

/** Node's globals, installed (from their node:* module) when the bundle names them. */
const NODE_GLOBALS: Record<string, [module: string, exported: string]> = {
  process: ['node:process', 'default'],
  Buffer: ['node:buffer', 'Buffer'],
  setImmediate: ['node:timers', 'setImmediate'],
  clearImmediate: ['node:timers', 'clearImmediate'],
};

/** npm packages that only polyfill what the guest has, resolved (for any importer) to the kernel
 * file that exports the guest's own: abort-controller's browser build reads `self`, which guests
 * lack (npm readable-stream, node:stream, requires it). */
export const NPM_SHIMS: Record<string, string> = {
  'abort-controller': 'units/node/abort_controller.ts',
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^$()|[\]{}\\]/g, '\\$&');

/** Marks kilnResolvePlugin's own b.resolve calls (its hook must not answer them again). */
const SELF = Symbol('kiln-resolve');

export interface BuildOptions {
  entry: string;
  out: string;
  /** Files for the image's bootfs (`--assets DIR[:/MOUNTPOINT]`); the app must import kiln:fs. */
  assets?: AssetsSpec;
  /** `process.env.NODE_ENV` and other defines (`--mode`, `--define`). */
  bundle?: BundleOptions;
}

export interface BuildResult {
  out: string;
  size: number;
  bundleBytes: number;
  bytecodeBytes: number;
  /** Size of the bootfs section (0 without kiln:fs). */
  bootfsBytes: number;
  /** Size of the line map section (the bundle's lines in the app's sources). */
  lineMapBytes: number;
  /** The function-names section (for the profiler: function_names.ts). */
  functionNamesBytes: number;
  /** The bundle uses BigInt: the image has the BigInt core (arch/build/kiln-core-bigint.elf). */
  bigint: boolean;
  /** The core the image was assembled from. */
  coreElf: string;
  /** Build warnings (kiln build prints each on stderr). */
  warnings: string[];
}

const builtins = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]!]));
const isNodeBuiltin = (spec: string): boolean => spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]!);

function displayPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r;
}

/** Who imports a module, for build errors: `package "pkg" (its file)` inside node_modules, else the app's file. */
export function importerName(file: string): string {
  const parts = file.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at === -1 || at + 1 >= parts.length) return displayPath(file);
  const name = parts[at + 1]!.startsWith('@') ? parts.slice(at + 1, at + 3).join('/') : parts[at + 1]!;
  return `package "${name}" (${displayPath(file)})`;
}

/** The build error for an import of a Node built-in module that Kiln does not provide. */
export function unsupportedBuiltinText(spec: string, importer: string): string {
  return `${importerName(importer)} imports "${spec}", a Node built-in module that Kiln guests do not have ` +
    `(Kiln provides: ${[...Object.keys(NODE_COMPAT)].map((m) => `node:${m}`).join(', ') || 'none'}; or use web APIs and kiln:* modules)`;
}

/** esbuild plugin: maps kiln:* to kernel units (adding each to `used`), refuses unknown kiln:* and
 * native addons (.node), and leaves the other Node built-ins to esbuild (a package's browser field
 * may replace or disable them), whose "Could not resolve" errors explainErrors() rewrites. */
export function kilnResolvePlugin(used?: Set<string>): esbuild.Plugin {
  return {
    name: 'kiln-resolve',
    setup(b) {
      b.onResolve({ filter: /^kiln:/ }, (args) => {
        const path = KILN_MODULES[args.path];
        if (path !== undefined) {
          used?.add(args.path);
          return { path };
        }
        return {
          errors: [{
            text: `unknown Kiln module "${args.path}" imported from ${displayPath(args.importer)} (available: ${Object.keys(KILN_MODULES).join(', ')})`,
          }],
        };
      });
      b.onResolve({ filter: /^kiln-global:/ }, (args) => ({ path: args.path.slice('kiln-global:'.length), namespace: 'kiln-global' }));
      b.onLoad({ filter: /.*/, namespace: 'kiln-global' }, (args) => {
        const [module, exported] = NODE_GLOBALS[args.path]!;
        return {
          contents: `import { ${exported} as value } from ${JSON.stringify(module)};\n` +
            `Object.defineProperty(globalThis, ${JSON.stringify(args.path)}, { value, writable: true, configurable: true, enumerable: false });\n`,
          resolveDir: KERNEL_SRC,
          loader: 'js',
        };
      });
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === SELF || !isNodeBuiltin(args.path)) return undefined;
        const compat = NODE_COMPAT[args.path.replace(/^node:/, '').replace(/\/$/, '')];
        if (compat === undefined) return undefined; // esbuild's turn: a browser-field mapping, or an error
        if ('kernel' in compat) {
          if (compat.uses !== undefined) used?.add(compat.uses);
          return { path: join(KERNEL_SRC, compat.kernel) };
        }
        const r = await b.resolve(compat.npm, { kind: args.kind, resolveDir: KERNEL_SRC, pluginData: SELF });
        return r.errors.length > 0 ? { errors: r.errors } : { path: r.path };
      });
      const shims = new RegExp(`^(${Object.keys(NPM_SHIMS).map(escapeRegExp).join('|')})$`);
      b.onResolve({ filter: shims }, (args) => ({ path: join(KERNEL_SRC, NPM_SHIMS[args.path]!) }));
      b.onResolve({ filter: /\.node$/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        return {
          errors: [{
            text: `${importerName(args.importer)} loads the native addon "${args.path}": Kiln guests cannot load native (.node) addons (look for the package's JavaScript or WebAssembly build)`,
          }],
        };
      });
    },
  };
}

/** esbuild's errors, with the ones Kiln can say better rewritten: an unresolved Node built-in names
 * its importer (its package) and what Kiln provides instead of esbuild's "bundle for node?" note. */
export function explainErrors(errors: esbuild.Message[], absWorkingDir = process.cwd()): esbuild.Message[] {
  return errors.map((e) => {
    const m = /^Could not resolve "([^"]+)"$/.exec(e.text);
    if (!m || !isNodeBuiltin(m[1]!) || !e.location) return e;
    return { ...e, text: unsupportedBuiltinText(m[1]!, resolve(absWorkingDir, e.location.file)), notes: [] };
  });
}

export interface Bundle {
  source: string;
  /** Where each line of `source` comes from (the image's line map). */
  lineMap: LineMapData;
  /** The app imports kiln:fs (it gets a VFS, and a bootfs section). */
  usesFs: boolean;
  /** What the build should warn about (globals guests lack, by module). */
  warnings: string[];
}

export interface BundleOptions {
  /** `process.env.NODE_ENV`, replaced at build time (`kiln build --mode`; default 'production'). */
  mode?: string;
  /** More esbuild defines, NAME → a JSON literal or an identifier (`kiln build --define`); they win over Kiln's. */
  define?: Record<string, string>;
}

/** The code of the app and its packages in a bundle (tree-shaken, as it will run), without Kiln's
 * own modules (kernel and @kiln/common): those name globals for themselves (Body.formData,
 * crypto's setSubtle) and import what they use, so they must not pull optional globals into every
 * app. esbuild heads each module's code with a `// path` comment line (whitespace is not minified). */
export function appCode(bundleText: string): string {
  return bundleModules(bundleText).filter((m) => !KILN_MODULE.test(m.path)).map((m) => m.code).join('\n');
}

/** The path of one of Kiln's own modules in a bundle's head lines. */
const KILN_MODULE = /(^|\/)packages\/(kernel|common)\/src\//;

/** A bundle's modules: each `// path` head line and the code under it (before the first head: path ''). */
function bundleModules(bundleText: string): { path: string; code: string }[] {
  const out: { path: string; code: string[] }[] = [{ path: '', code: [] }];
  for (const line of bundleText.split('\n')) {
    const head = /^\s*\/\/ (\S+\.(?:[cm]?[jt]sx?|json))$/.exec(line);
    if (head) out.push({ path: head[1]!, code: [] });
    else out[out.length - 1]!.code.push(line);
  }
  return out.map((m) => ({ path: m.path, code: m.code.join('\n') }));
}

/** Globals of Node, Workers or browsers that Kiln guests do not have: a free reference to one
 * gets a build warning naming the module (its package) — at run time it is undefined, and code
 * that tests for it first (typeof) still works. */
const MISSING_GLOBALS = ['Intl', 'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'WebSocket', 'XMLHttpRequest', 'Worker', 'MessageChannel', 'BroadcastChannel'];
const missingProbe = (name: string): string => `__kiln_missing_${name}`;

/** The warnings for MISSING_GLOBALS the first bundle's modules name (each module and name once). */
function missingGlobalWarnings(first: string, absWorkingDir = process.cwd()): string[] {
  const warnings: string[] = [];
  for (const m of bundleModules(first)) {
    if (KILN_MODULE.test(m.path)) continue;
    const named = MISSING_GLOBALS.filter((g) => m.code.includes(missingProbe(g)));
    if (named.length === 0) continue;
    const who = m.path === '' ? 'the bundle' : importerName(resolve(absWorkingDir, m.path));
    warnings.push(`${who} uses ${named.join(', ')}, which Kiln guests do not have (undefined at run time; code that checks for ${named.length > 1 ? 'them' : 'it'} first still works)`);
  }
  return warnings;
}

/** Globals installed when the bundle names them as free variables (a local or a property of that
 * name does not count): the first bundle defines each as a probe identifier, and finding the probe
 * in its output means some module reads the global. */
const PROBED_GLOBALS: { name: string; module: string }[] = Object.keys(NODE_GLOBALS).map((name) => ({ name, module: `kiln-global:${name}` }));
const probeOf = (name: string): string => `__kiln_uses_${name}`;

/** Kiln's version (packages/cli/package.json), for process.versions.kiln. */
function kilnVersion(): string {
  try {
    return String((JSON.parse(readFileSync(join(REPO_ROOT, 'packages/cli/package.json'), 'utf8')) as { version?: unknown }).version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
}

/** The bundle's script name (`main.js` for main.ts): kiln-qjsc names the script so, the engine
 * puts it in every stack frame, and the guest reads it as __KILN_APP__ (lib/app_bundle.ts). */
export function bundleName(entry: string): string {
  return `${basename(entry, extname(entry))}.js`;
}

/** What esbuild replaces in every module: `process.env.NODE_ENV` (the mode), `global` (Node's name
 * for globalThis), the names units/node/process.ts reads, then the caller's own. */
export function buildDefines(entry: string, opts: BundleOptions = {}): Record<string, string> {
  return {
    'process.env.NODE_ENV': JSON.stringify(opts.mode ?? 'production'),
    global: 'globalThis',
    __KILN_APP__: JSON.stringify(bundleName(entry)),
    __KILN_VERSION__: JSON.stringify(kilnVersion()),
    ...opts.define,
  };
}

const DEFINE_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/** `--define NAME=VALUE`: NAME a dotted identifier, VALUE JSON (`'"text"'`, `42`, `true`) or a
 * dotted identifier, as esbuild's define takes them. */
export function parseDefine(text: string): [string, string] {
  const eq = text.indexOf('=');
  const name = eq === -1 ? text : text.slice(0, eq);
  const value = eq === -1 ? '' : text.slice(eq + 1);
  if (!DEFINE_NAME.test(name)) throw new CliError('EUSAGE', `--define ${text}: expected NAME=VALUE with NAME an identifier or a dotted path (process.env.API_URL)`);
  let json = true;
  try {
    JSON.parse(value);
  } catch {
    json = false;
  }
  if (!json && !DEFINE_NAME.test(value)) {
    throw new CliError('EUSAGE', `--define ${text}: VALUE must be JSON (a string in double quotes: ${name}='"text"', a number, true/false/null) or an identifier`);
  }
  return [name, value];
}

/** Bundles the app with the kernel prelude into one global script (the QuickJS input). Optional
 * globals (crypto, process, ...) are added when the first bundle mentions them, and an app that
 * imports kiln:fs gets the entry that mounts filesystems first; then it is bundled again. */
export async function bundle(entry: string, opts: BundleOptions = {}): Promise<Bundle> {
  const absEntry = resolve(entry);
  if (!existsSync(absEntry) || !statSync(absEntry).isFile()) {
    throw new CliError('EUSAGE', `cannot read ${entry}: no such file`);
  }
  const modules = new Set<string>();
  const define = buildDefines(entry, opts);
  const probes = Object.fromEntries(PROBED_GLOBALS.map((g) => [g.name, probeOf(g.name)]));
  const missing = Object.fromEntries(MISSING_GLOBALS.map((g) => [g, missingProbe(g)]));
  const firstBundle = await bundleWith(entry, absEntry, [], false, { ...probes, ...missing, ...define }, modules);
  const first = firstBundle.text;
  const warnings = missingGlobalWarnings(first);
  const named = appCode(first);
  const globals = [...new Set([
    ...OPTIONAL_GLOBALS.filter((g) => new RegExp(`\\b${g.name}\\b`).test(named)),
    ...(/\bsubtle\b/.test(named) ? WEBCRYPTO_ALGORITHMS.filter((a) => new RegExp(`\\b${a.name}\\b`, 'i').test(named)) : []),
    ...PROBED_GLOBALS.filter((g) => first.includes(probeOf(g.name))),
  ].map((g) => g.module))];
  const usesFs = modules.has('kiln:fs');
  // The first bundle keeps its probes only when none is in it (then it is the final bundle as is).
  const probed = warnings.length > 0;
  const final = globals.length === 0 && !usesFs && !probed ? firstBundle : await bundleWith(entry, absEntry, globals, usesFs, define);
  const appDir = dirname(absEntry);
  return { source: withNativeNameHelper(final.text), lineMap: lineMapOf(final.map, appDir, appDir, final.lineOffset), usesFs, warnings };
}

/** esbuild's keepNames helper as esbuild (pinned) prints it with minifySyntax, and what the guest
 * runs instead: the core's op that does the same define without a descriptor object or a
 * JavaScript frame (arch/ops.c op_set_function_name; the core defines `__kiln_ops` before the
 * bundle runs, and the helpers come first). Classes and functions kept in fields call it each
 * time they are made: Hono's Context names ~20 arrows per request. One line for one line, so the
 * line map stays true; a bundle without the helper is left as it is. */
export const ESBUILD_NAME_HELPER = 'var __name = (target, value) => __defProp(target, "name", { value, configurable: !0 });';
export const NATIVE_NAME_HELPER = 'var __name = __kiln_ops.op_set_function_name;';

function withNativeNameHelper(text: string): string {
  const at = text.indexOf(ESBUILD_NAME_HELPER);
  return at < 0 ? text : text.slice(0, at) + NATIVE_NAME_HELPER + text.slice(at + ESBUILD_NAME_HELPER.length);
}

/** The generated entry. With kiln:fs, the app becomes a lazily initialised module (esbuild turns
 * the dynamic import into init-and-return without code splitting) that runs once the
 * filesystems are mounted (units/boot_mounts.ts marks "app starts" then). */
function entrySource(absEntry: string, globals: string[], withFs: boolean): string {
  const kernel = (m: string): string => JSON.stringify(join(KERNEL_SRC, m));
  return [
    `import ${kernel('prelude.ts')};`,
    ...globals.map((m) => `import ${m.startsWith('kiln-global:') ? JSON.stringify(m) : kernel(m)};`),
    ...(withFs
      ? [`import { startWithFilesystems } from ${kernel('units/boot_mounts.ts')};`, `startWithFilesystems(() => import(${JSON.stringify(absEntry)}));`]
      : [`import ${kernel('boot_mark.ts')};`, `import ${JSON.stringify(absEntry)};`]),
  ].join('\n');
}

/** A bundle's text and its source map (sources relative to the entry's directory); `lineOffset`
 * lines of `text` come before the code the map describes. */
interface BundleText {
  text: string;
  map: SourceMapV3;
  lineOffset: number;
}

/** Bundles as an IIFE; a bundle with top-level await (which esbuild emits only as ESM) is bundled
 * again as ESM with it kept, wrapped in an async function: QuickJS 2021-03-27 has no module-level
 * await and kiln-qjsc compiles a global script. A rejection there is an unhandled rejection (the
 * VM ends with code 1, as Node does for a rejected entry module). */
async function bundleWith(entry: string, absEntry: string, globals: string[], withFs: boolean, define: Record<string, string>, modules?: Set<string>): Promise<BundleText> {
  try {
    return { ...await bundleAs('iife', entry, absEntry, globals, withFs, define, modules), lineOffset: 0 };
  } catch (err) {
    if (!(err instanceof TopLevelAwait)) throw err;
    const esm = await bundleAs('esm', entry, absEntry, globals, withFs, define, modules);
    return { text: `(async () => {\n${esm.text}})();\n`, map: esm.map, lineOffset: 1 };
  }
}

class TopLevelAwait extends Error {}

/** Newer-than-ES2020 class syntax the guest's engine runs as is, so esbuild does not lower it:
 * private fields, methods and accessors (lowered, each is a WeakMap lookup per access: Hono's
 * Context and Request keep their state in them) and static blocks (arch/fetch_quickjs.sh adds
 * them; keepNames names classes with `static { __name(this, ...) }`, and without them esbuild
 * lowers every class whose name it keeps), and public instance fields of JavaScript classes
 * (a dependency's `env = {}` lowered is an Object.defineProperty call through esbuild's helpers
 * per field per instance: Hono's Context has ~30; TypeScript's own fields are plain assignments
 * either way, useDefineForClassFields below; the engine's fields named get, set and async are
 * fixed by arch/fetch_quickjs.sh). Not `#x in o` (the engine's brand check fails test262) and not
 * public static fields (the engine refuses `static name = ...`: "'name' is read-only"). */
const ENGINE_CLASS_FEATURES: Record<string, boolean> = {
  'class-private-field': true, 'class-private-method': true, 'class-private-accessor': true,
  'class-private-static-field': true, 'class-private-static-method': true, 'class-private-static-accessor': true,
  'class-static-blocks': true, 'class-field': true,
};

/** The bundle's name for esbuild (nothing is written): beside the entry, so that the source map's
 * sources are relative to the entry's directory, and no input's name. */
const OUTFILE = '__kiln_bundle__.js';

/** `modules` collects the kiln:* modules imported. */
async function bundleAs(format: 'iife' | 'esm', entry: string, absEntry: string, globals: string[], withFs: boolean, define: Record<string, string>, modules?: Set<string>): Promise<{ text: string; map: SourceMapV3 }> {
  const contents = entrySource(absEntry, globals, withFs);
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      stdin: { contents, resolveDir: dirname(absEntry), sourcefile: '<kiln-entry>', loader: 'ts' },
      bundle: true,
      write: false,
      outfile: join(dirname(absEntry), OUTFILE),
      // In memory, without sources and without a sourceMappingURL comment: the line map's input.
      sourcemap: 'external',
      sourcesContent: false,
      format,
      ...RESOLVE_OPTIONS,
      define,
      target: 'es2020',
      supported: { ...ENGINE_CLASS_FEATURES, 'top-level-await': format === 'esm' },
      // Class fields as plain assignments: the define semantics (the kernel tsconfig's ES2022
      // target implies them) lower to an Object.defineProperty call per field per instance,
      // which QuickJS pays on every object of every class (a Response cost 3x as much).
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
      treeShaking: true,
      minifySyntax: true,
      minifyWhitespace: false,
      keepNames: true,
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [kilnResolvePlugin(modules)],
    });
  } catch (err) {
    const failure = err as esbuild.BuildFailure;
    if (!Array.isArray(failure.errors)) throw err;
    const lines = await esbuild.formatMessages(explainErrors(failure.errors), { kind: 'error', color: false });
    if (format === 'iife' && failure.errors.every((e) => /top-level await/i.test(e.text))) throw new TopLevelAwait();
    throw new CliError('EBUILD', `cannot bundle ${entry} (${failure.errors.length} error${failure.errors.length > 1 ? 's' : ''})`, lines.join(''));
  }
  const text = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const map = JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.js.map'))!.text) as SourceMapV3;
  return { text, map };
}

/** Compiles a global script to QuickJS bytecode with kiln-qjsc. */
export function compileBytecode(qjsc: string, source: string, name: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-build-'));
  try {
    const js = join(dir, name);
    const bc = join(dir, 'app.bc');
    writeFileSync(js, source);
    const r = spawnSync(qjsc, ['-o', bc, '-n', name, js], { encoding: 'utf8' });
    if (r.error) throw new CliError('ENOSETUP', `cannot run ${qjsc}: ${r.error.message} (run bash scripts/setup.sh)`);
    if (r.status !== 0) {
      const text = `${r.stdout}${r.stderr}`.trim();
      throw new CliError('EBUILD', `the bytecode compiler refused the bundle (exit ${r.status ?? r.signal})`, text === '' ? '' : `${text}\n`);
    }
    return readFileSync(bc);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function buildImage(opts: BuildOptions): Promise<BuildResult> {
  archOutputs(); // the setup's error before any bundling
  const { source, lineMap: lines, usesFs, warnings } = await bundle(opts.entry, opts.bundle);
  const bigint = await usesBigInt(source);
  const arch = archOutputs(bigint);
  if (opts.assets && !usesFs) {
    throw new CliError('EUSAGE', `--assets ${opts.assets.dir}: ${opts.entry} does not import kiln:fs, so nothing in the guest could read the files`);
  }
  const bootfs = usesFs ? (opts.assets ? readAssets(opts.assets) : emptyAssets()) : undefined;
  const bytecode = compileBytecode(arch.qjsc, source, bundleName(opts.entry));
  const lineMap = encodeLineMap(lines);
  const functionNames = encodeFunctionNames(functionNamesOf(source));
  let image: Uint8Array;
  try {
    image = assembleImage(readFileSync(arch.coreElf), bytecode, bootfs, lineMap, functionNames);
  } catch (err) {
    if (err instanceof ImageError) throw new CliError('EBUILD', `cannot assemble the image from ${arch.coreElf}: ${err.message} [${err.code}]`);
    throw err;
  }
  try {
    mkdirSync(dirname(resolve(opts.out)), { recursive: true });
    writeFileSync(opts.out, image);
  } catch (err) {
    throw new CliError('EUSAGE', `cannot write ${opts.out}: ${(err as Error).message}`);
  }
  return { out: opts.out, size: image.length, bundleBytes: Buffer.byteLength(source), bytecodeBytes: bytecode.length, bootfsBytes: bootfs?.length ?? 0, lineMapBytes: lineMap.length, functionNamesBytes: functionNames.length, bigint, coreElf: arch.coreElf, warnings };
}
