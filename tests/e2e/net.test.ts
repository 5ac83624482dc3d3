// E2E: virtio-net from a real guest (examples/net-echo). TAP: the test creates a network
// namespace (kiln-test-<pid>) with tap0 = 10.0.2.1/24, runs `kiln run` inside it and
// `ping -c 3 -W 2 10.0.2.15` must succeed; the namespace is deleted afterwards. No traffic
// leaves the namespace. User mode (--net user): the guest's ARP request for the gateway
// 10.0.2.2 is answered (passt on Kiln's VMM, slirp on QEMU); nothing is sent past the
// backend. Skipped with the reason when not root, or `ip`, `ping` or /dev/net/tun are missing.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandExists, coreSkip, createTapNamespace, deleteNamespace, kiln, kilnBackground, kilnBuild, sh, tapSkip, targets, until } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-net-'));
const elf = join(dir, 'net-echo.elf');
const NS = `kiln-test-${process.pid}`;

describe('virtio-net', { skip: coreSkip() }, () => {
  before(async () => {
    await kilnBuild('examples/net-echo/main.ts', elf);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('TAP in a network namespace the test creates', { skip: tapSkip(['ping']) }, () => {
    before(() => createTapNamespace(NS, '10.0.2.1/24'));
    after(() => deleteNamespace(NS));

    for (const t of targets()) {
      test(`${t.name}: ping -c 3 10.0.2.15 inside the namespace is answered by the guest`, { skip: t.skip }, async (c) => {
        c.diagnostic(t.name);
        const vm = kilnBackground(['run', elf, ...t.flags, '--net', 'tap=tap0', '--', '3'], { netns: NS });
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
