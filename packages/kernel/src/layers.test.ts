// The kernel's layers and the direction of their imports (docs/ARCHITECTURE.md "Kernel layers"):
// lib/ (pure helpers) < ops.ts (the native ops) < drivers/ < net/, fs/, web/ < http/ < units/
// (the runtime and the kiln:* modules) < the bundle's entry files (prelude.ts, index.ts, ...).
// Guest code imports from its own folder or a lower layer, never from a peer (net/, fs/ and web/
// know nothing of each other) or from testing/, and outside the kernel only @kiln/common, itself
// built on nothing but its own files, and the npm packages pinned in packages/kernel/package.json
// (Node-compatibility modules, the noble crypto libraries). Tests (*.test.ts) and testing/ may compose any layers, and
// the driver against device tests reach @kiln/vmm; nothing in the kernel imports the CLI.
// Every import is read with TypeScript's preProcessFile (static, re-exports, dynamic import()).

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = dirname(fileURLToPath(import.meta.url));
const COMMON_SRC = resolve(SRC, '../../common/src');
/** The npm packages the kernel pins (packages/kernel/package.json dependencies). */
const PINNED = Object.keys((JSON.parse(readFileSync(resolve(SRC, '../package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
const pinnedPackage = (spec: string): boolean => PINNED.some((p) => spec === p || spec.startsWith(`${p}/`));

/** Rank of each top folder of packages/kernel/src (and of ops.ts); the entry files are above all. */
const RANK: Record<string, number> = { lib: 0, 'ops.ts': 1, drivers: 2, net: 3, fs: 3, web: 3, http: 4, units: 5 };
const ENTRY_RANK = 6;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** The top folder of a file under packages/kernel/src ('ops.ts' and the entry files are their own). */
function topOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

function rankOf(top: string): number {
  return RANK[top] ?? (top.endsWith('.ts') ? ENTRY_RANK : -1);
}

const isTest = (file: string): boolean => file.endsWith('.test.ts');
const isGuest = (file: string): boolean => !isTest(file) && topOf(file) !== 'testing';

/** Why `file` (under packages/kernel/src) may not import `spec`, or undefined. */
function violation(file: string, spec: string): string | undefined {
  const name = relative(SRC, file);
  if (/^@kiln\/cli(\/|$)|(^|\/)cli\/src\//.test(spec)) return `${name}: imports the CLI (${spec})`;
  if (!isGuest(file) || spec.startsWith('@kiln/common/')) return undefined;
  if (!spec.startsWith('.')) return pinnedPackage(spec) ? undefined : `${name}: guest code imports ${spec} (only relative kernel files, @kiln/common/* and packages pinned in packages/kernel/package.json)`;
  const target = resolve(dirname(file), spec);
  if (!target.startsWith(SRC + sep)) return `${name}: imports ${spec}, outside packages/kernel/src`;
  const from = topOf(file), to = topOf(target);
  if (to === 'testing') return `${name}: guest code imports test support (${spec})`;
  if (from !== to && rankOf(to) >= rankOf(from)) return `${name}: ${from} imports ${to} (${spec}), a layer not below it`;
  return undefined;
}

function kernelViolations(): string[] {
  return tsFiles(SRC).flatMap((file) => importsOf(file).map((spec) => violation(file, spec)).filter((v) => v !== undefined));
}

/** What @kiln/common's non-test files break: they import only each other. */
function commonViolations(): string[] {
  const out: string[] = [];
  for (const file of tsFiles(COMMON_SRC)) {
    if (isTest(file) || relative(COMMON_SRC, file).startsWith(`testing${sep}`)) continue;
    for (const spec of importsOf(file)) {
      const inside = spec.startsWith('.') && resolve(dirname(file), spec).startsWith(COMMON_SRC + sep);
      if (!inside && !spec.startsWith('@kiln/common/')) out.push(`common/src/${relative(COMMON_SRC, file)}: imports ${spec}`);
    }
  }
  return out;
}

test('every_kernel_folder_has_a_layer', () => {
  const tops = new Set(tsFiles(SRC).filter(isGuest).map(topOf).filter((t) => !t.endsWith('.ts')));
  for (const t of tops) assert.ok(t in RANK, `packages/kernel/src/${t}/ has no layer in layers.test.ts's RANK`);
});

test('kernel_imports_point_down_the_layers', () => {
  assert.deepEqual(kernelViolations(), []);
});

test('common_imports_nothing_but_itself', () => {
  assert.deepEqual(commonViolations(), []);
});

test('the_checks_see_upward_imports', () => {
  const src = "import a from './a.ts';\nimport type { B } from '../b.ts';\nexport { c } from './c.ts';\nimport './d.ts';\nconst e = import('./e.ts');\n";
  assert.deepEqual(ts.preProcessFile(src, true, true).importedFiles.map((f) => f.fileName), ['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts']);
  const at = (p: string): string => join(SRC, p);
  const refused: [string, string][] = [
    ['drivers/virtio/block.ts', '../../units/block.ts'], // up
    ['net/tcp/isn.ts', '../../http/log.ts'], // up
    ['drivers/virtio/net.ts', '../../net/driver.ts'], // up
    ['net/api.ts', '../fs/types.ts'], // a peer
    ['lib/handles.ts', '../ops.ts'], // lib is pure
    ['units/fs.ts', '../testing/fake_ops.ts'], // test support
    ['web/url.ts', '@kiln/vmm/vm.ts'], // the host
    ['fs/vfs.ts', 'node:fs'],
    ['web/blob.ts', 'left-pad'], // an npm package the kernel does not pin
    ['ops.ts', '../../common/src/layout.ts'], // outside, by path
    ['fs/vfs.test.ts', '@kiln/cli/flags.ts'], // the CLI, even from a test
  ];
  for (const [file, spec] of refused) assert.ok(violation(at(file), spec), `${file} → ${spec}`);
  const allowed: [string, string][] = [
    ['net/tcp/isn.ts', '@noble/hashes/sha2.js'], // pinned in the kernel's package.json
    ['web/crypto/aes_gcm.ts', '../base64.ts'],
    ['units/net.ts', '../net/api.ts'],
    ['prelude.ts', './units/runtime.ts'],
    ['http/server.ts', '../web/request.ts'],
    ['drivers/virtio/mmio.ts', '@kiln/common/cmdline.ts'],
    ['drivers/virtio/driver_device.test.ts', '../../units/runtime.ts'], // tests compose layers
  ];
  for (const [file, spec] of allowed) assert.equal(violation(at(file), spec), undefined, `${file} → ${spec}`);
});
