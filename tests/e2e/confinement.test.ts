// E2E: the process platform on a host that refuses what it confines the guest with. The tender
// (arch/tender/tender.c) runs the guest under a seccomp filter, in namespaces where the host
// allows them. tests/e2e/deny_syscalls.py plays the refusing host (a container runtime's profile
// that fails seccomp(2) or unshare(2) with EPERM) around `kiln run`: no seccomp is ECONFINE, exit
// 125, with the flag that allows it named, and --unconfined runs; no namespaces is a line on
// stderr and the guest still runs under seccomp. Skipped with the reason without the tender or
// python3.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandExists, KILN, kilnBuild, ROOT, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-confine-'));
const image = join(dir, 'hello.elf');
const DENY = join(ROOT, 'tests/e2e/deny_syscalls.py');
const processTarget = targets().find((t) => t.name === 'vmm=kiln accel=process')!;
const skip = processTarget.skip ?? (commandExists('python3') ? undefined : 'python3 is not installed');

function runDenying(calls: string, flags: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('python3', [DENY, calls, '--', process.execPath, KILN, 'run', image, '--accel', 'process', '--timeout', '30', ...flags], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the process platform on a host that refuses seccomp or namespaces', { skip }, () => {
  before(async () => {
    await kilnBuild('examples/hello/main.ts', image);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('no seccomp: ECONFINE, exit 125, the way out named, and the guest never ran', () => {
    const r = runDenying('seccomp', []);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /the host refused the seccomp filter \(Operation not permitted\).*kiln run --unconfined allows it.*\[ECONFINE\]/);
    assert.doesNotMatch(r.stdout, /Hello from Kiln/);
  });

  test('no seccomp with --unconfined: the guest runs', () => {
    const r = runDenying('seccomp', ['--unconfined']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Hello from Kiln/);
  });

  test('no namespaces: said on stderr, the guest runs under seccomp', () => {
    const r = runDenying('unshare', []);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Hello from Kiln/);
    assert.match(r.stderr, /the host refused a user namespace \(Operation not permitted\); running without namespaces, under seccomp/);
  });
});
