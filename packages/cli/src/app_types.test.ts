// Apps typecheck against the kernel units kiln build bundles: packages/kernel/tsconfig.app.json
// maps each kiln:* module to the file build.ts's KILN_MODULES names (checked here, so the two
// maps cannot drift), and an app outside the repository whose tsconfig.json extends it gets
// those types and the prelude's globals, and a type error when it misuses an API.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { KILN_MODULES } from './build.ts';
import { KERNEL_SRC } from './paths.ts';

const APP_TSCONFIG = resolve(KERNEL_SRC, '../tsconfig.app.json');

function parseConfig(path: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(path, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  });
  assert.ok(parsed, `cannot read ${path}`);
  return parsed;
}

test('tsconfig.app.json maps exactly the kiln:* modules build.ts bundles, to the same files', () => {
  const paths = parseConfig(APP_TSCONFIG).options.paths ?? {};
  const mapped = Object.fromEntries(Object.entries(paths).map(([spec, [file, ...rest]]) => {
    assert.deepEqual(rest, [], `${spec}: one file`);
    return [spec, resolve(dirname(APP_TSCONFIG), file!)];
  }));
  assert.deepEqual(mapped, KILN_MODULES);
});

test('an app outside the repository typechecks against the units, and fails on a misused API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-app-types-'));
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: APP_TSCONFIG, include: ['*.ts'] }));
    writeFileSync(join(dir, 'good.ts'), [
      "import { openBlockDevice, type BlockErrorCode } from 'kiln:block';",
      "import { readFile, type FsErrorCode } from 'kiln:fs';",
      "import { serve } from 'kiln:http';",
      "import { listen, type Conn } from 'kiln:net';",
      "import { openNetDevice, type NetStats } from 'kiln:netdev';",
      "import process, { args } from 'kiln:process';",
      "import { connect, VMADDR_CID_HOST, type Addr } from 'kiln:vsock';",
      'async function main(): Promise<void> {',
      'const disk = await openBlockDevice(0);',
      'const sector: Uint8Array = await disk.read(0, 512);',
      "const text: string = await readFile('/etc/motd', 'utf8');",
      'serve({ port: 8080 }, (req) => new Response(`${req.method} ${text} ${sector.length}`));',
      'const l = listen({ port: 7 });',
      'const c: Conn = await l.accept();',
      'c.setNoDelay(true);',
      'const s: NetStats = (await openNetDevice()).stats();',
      'const v = await connect(VMADDR_CID_HOST, 1234);',
      'const a: Addr = v.remoteAddr;',
      "const codes: [BlockErrorCode, FsErrorCode] = ['EIO', 'ENOENT'];",
      'console.log(args, s.rxFrames, a.cid, codes, new TextEncoder().encode("x"));',
      'process.exitCode = 3;',
      '}',
      'void main();',
    ].join('\n'));
    writeFileSync(join(dir, 'bad.ts'), [
      "import { openBlockDevice } from 'kiln:block';",
      "import { listen } from 'kiln:net';",
      "import { open } from 'kiln:fs';",
      "void openBlockDevice('0');",
      'listen(7);',
      "void open('/x', 'rw');",
    ].join('\n'));
    const config = parseConfig(join(dir, 'tsconfig.json'));
    const program = ts.createProgram(config.fileNames, config.options);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? dirname(d.file.fileName) === dir ? d.file.fileName.slice(dir.length + 1) : d.file.fileName : ''}: TS${d.code}`);
    assert.deepEqual(errors, ['bad.ts: TS2345', 'bad.ts: TS2345', 'bad.ts: TS2345']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
