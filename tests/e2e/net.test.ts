// E2E: virtio-net from a real guest (examples/net-echo). TAP: the test creates a network
// namespace (kiln-test-<pid>) with tap0 = 10.0.2.1/24, runs `kiln run` inside it and
// `ping -c 3 -W 2 10.0.2.15` must succeed; the namespace is deleted afterwards. No traffic
// leaves the namespace. User mode (--net user): the guest's ARP request for the gateway
// 10.0.2.2 is answered (passt on Kiln's VMM, slirp on QEMU); nothing is sent past the
// backend. Skipped with the reason when not root, or `ip`, `ping` or /dev/net/tun are missing.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KILN, ROOT, commandExists, coreSkip, kiln, targets, type Run } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-net-'));
const elf = join(dir, 'net-echo.elf');
const NS = `kiln-test-${process.pid}`;

function tapSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (a network namespace and a TAP device need CAP_NET_ADMIN)';
  if (!commandExists('ip')) return '`ip` (iproute2) is not installed';
  if (!commandExists('ping')) return '`ping` (iputils-ping) is not installed';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  return undefined;
}

const sh = (args: string[]): { ok: boolean; out: string } => {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
};

/** `kiln run` inside the namespace: its output so far and its end. */
function kilnInNs(args: string[], timeoutMs = 60_000): { done: Promise<Run>; stdout: () => string } {
  let stdout = '';
  let stderr = '';
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, KILN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, stdout: () => stdout };
}

const until = async (f: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (f()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return f();
};

describe('virtio-net', { skip: coreSkip() }, () => {
  before(async () => {
    const r = await kiln(['build', 'examples/net-echo/main.ts', '-o', elf]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('TAP in a network namespace the test creates', { skip: tapSkip() }, () => {
    before(() => {
      sh(['ip', 'netns', 'del', NS]);
      const steps = [
        ['ip', 'netns', 'add', NS],
        ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up'],
        ['ip', 'netns', 'exec', NS, 'ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
        ['ip', 'netns', 'exec', NS, 'ip', 'addr', 'add', '10.0.2.1/24', 'dev', 'tap0'],
        ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'tap0', 'up'],
      ];
      for (const s of steps) {
        const r = sh(s);
        assert.ok(r.ok, `${s.join(' ')}: ${r.out}`);
      }
    });
    after(() => {
      sh(['ip', 'netns', 'del', NS]);
    });

    for (const t of targets()) {
      test(`${t.name}: ping -c 3 10.0.2.15 inside the namespace is answered by the guest`, { skip: t.skip }, async (c) => {
        c.diagnostic(t.name);
        const vm = kilnInNs(['run', elf, ...t.flags, '--net', 'tap=tap0', '--', '3']);
        let ended = false;
        void vm.done.then(() => (ended = true));
        // ping once the guest has opened its NIC (its first console line)
        await until(() => ended || vm.stdout().includes('net-echo: 10.0.2.15 at'), 45_000);
        const ping = ended ? { ok: false, out: 'the guest ended before opening its NIC' } : sh(['ip', 'netns', 'exec', NS, 'ping', '-c', '3', '-W', '2', '10.0.2.15']);
        const r = await vm.done;
        const out = r.stdout;
        assert.ok(ping.ok, `ping failed:\n${ping.out}\nguest:\n${out}${r.stderr}`);
        assert.match(ping.out, /3 packets transmitted, 3 received/);
        assert.equal(r.code, 0, `guest:\n${out}${r.stderr}`);
        assert.match(out, /net-echo: 10\.0\.2\.15 at [0-9a-f:]{17}, mtu 1500/);
        assert.match(out, /net-echo: echo reply 3 to 10\.0\.2\.1/);
      });
    }
  });

  describe('user-mode networking (passt on Kiln\'s VMM, slirp on QEMU)', () => {
    for (const t of targets()) {
      const skip = t.skip ?? (t.name.startsWith('vmm=kiln') && !commandExists('passt') ? 'passt is not installed (apt-get install passt)' : undefined);
      test(`${t.name}: the gateway answers the guest's ARP request`, { skip }, async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', elf, ...t.flags, '--net', 'user', '--', '0', '10.0.2.2']);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /net-echo: 10\.0\.2\.2 is at [0-9a-f:]{17}/);
      });
    }
  });
});
