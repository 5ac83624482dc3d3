// E2E: kiln:net (the guest's own TCP/IP stack) against Linux, booting examples/tcp-echo.
// TAP: the test creates a network namespace (kiln-tcp-<pid>) with tap0 = 10.0.2.1/24; with a
// static address (`--net tap=tap0,ip=10.0.2.15/24,gw=10.0.2.1`) Linux pings the guest (ARP,
// ICMP), gets a UDP datagram echoed and a TCP stream of random bytes echoed intact (node's
// net/dgram clients inside the namespace); without ip= the guest asks busybox udhcpd running
// in the namespace (DHCP) and then echoes. User mode (`--net user,hostfwd=...`): a host TCP
// client through the loopback forward (passt on Kiln's VMM, slirp on QEMU). After its one
// connection the guest closes its sockets and must exit 0 on its own. Skipped with the reason
// when not root, or ip/ping/busybox/passt//dev/net/tun are missing.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandExists, coreSkip, createTapNamespace, deleteNamespace, kilnBackground, kilnBuild, type Run, sh, tapSkip, targets, until } from './helpers.ts';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-tcp-'));
const elf = join(dir, 'tcp-echo.elf');
const NS = `kiln-tcp-${process.pid}`;

// Clients run inside the namespace as separate node processes (this process stays outside).
const TCP_CLIENT = join(dir, 'tcp_client.cjs');
const UDP_CLIENT = join(dir, 'udp_client.cjs');
writeFileSync(TCP_CLIENT, `
const net = require('net');
const [host, port, size] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const data = require('crypto').randomBytes(size);
const t0 = Date.now();
const s = net.connect(port, host, () => { s.write(data); s.end(); });
const parts = [];
s.on('data', (d) => parts.push(d));
s.on('close', () => {
  const got = Buffer.concat(parts);
  console.log(JSON.stringify({ intact: got.equals(data), bytes: got.length, ms: Date.now() - t0 }));
});
s.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exitCode = 1; });
`);
writeFileSync(UDP_CLIENT, `
const d = require('dgram').createSocket('udp4');
const msg = Buffer.from('kiln udp ' + process.pid);
const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'no echo within 3 s' })); process.exit(1); }, 3000);
d.on('message', (m, r) => { clearTimeout(timer); console.log(JSON.stringify({ echoed: m.equals(msg), from: r.address + ':' + r.port })); d.close(); });
d.send(msg, Number(process.argv[3]), process.argv[2]);
`);

const inNs = (args: string[]): { ok: boolean; out: string } => sh(['ip', 'netns', 'exec', NS, ...args]);

/** Waits for the guest's whole "listening" line (or its end). */
async function listening(vm: { done: Promise<Run>; stdout: () => string }): Promise<string | undefined> {
  let ended = false;
  void vm.done.then(() => (ended = true));
  const line = (): string | undefined => /tcp-echo: listening on [^\n]*(?=\n)/.exec(vm.stdout())?.[0];
  await until(() => ended || line() !== undefined, 45_000);
  return line();
}

const isTcg = (name: string): boolean => name.includes('tcg');

describe('kiln:net TCP/IP', { skip: coreSkip() }, () => {
  before(async () => {
    await kilnBuild('examples/tcp-echo/main.ts', elf);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('TAP in a network namespace the test creates', { skip: tapSkip(['ping']) }, () => {
    before(() => createTapNamespace(NS, '10.0.2.1/24'));
    after(() => deleteNamespace(NS));

    for (const t of targets()) {
      test(`${t.name}: static ip=: ping, UDP echo and a TCP stream echoed intact by the guest`, { skip: t.skip }, async (c) => {
        c.diagnostic(t.name);
        const vm = kilnBackground(['run', elf, ...t.flags, '--net', 'tap=tap0,ip=10.0.2.15/24,gw=10.0.2.1', '--', '7', '1'], { netns: NS });
        const line = await listening(vm);
        const ping = line ? inNs(['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.0.2.15']) : { ok: false, out: 'the guest ended before listening' };
        const udp = line ? inNs([process.execPath, UDP_CLIENT, '10.0.2.15', '7']) : { ok: false, out: '' };
        const size = isTcg(t.name) ? 200_000 : 2_000_000;
        const tcp = line ? inNs([process.execPath, TCP_CLIENT, '10.0.2.15', '7', String(size)]) : { ok: false, out: '' };
        const r = await vm.done;
        const guest = `guest:\n${r.stdout}${r.stderr}`;
        assert.match(line ?? '', /^tcp-echo: listening on 10\.0\.2\.15:7 \(static, gateway 10\.0\.2\.1, mac [0-9a-f:]{17}\)$/, guest);
        assert.ok(ping.ok, `ping failed:\n${ping.out}\n${guest}`);
        assert.match(ping.out, /3 packets transmitted, 3 received/);
        assert.deepEqual(JSON.parse(udp.out.trim()), { echoed: true, from: '10.0.2.15:7' }, guest);
        const res = JSON.parse(tcp.out.trim()) as { intact: boolean; bytes: number; ms: number };
        c.diagnostic(`TCP echo of ${size} bytes: ${res.ms} ms`);
        assert.deepEqual([res.intact, res.bytes], [true, size], `${tcp.out}\n${guest}`);
        assert.equal(r.code, 0, guest);
        assert.match(r.stdout, new RegExp(`tcp-echo: echoed ${size} bytes to 10\\.0\\.2\\.1:[0-9]+`));
      });
    }

    const dhcpSkip = !commandExists('busybox') ? 'busybox (for udhcpd) is not installed' : undefined;
    for (const t of targets()) {
      test(`${t.name}: without ip= the guest gets its address from DHCP (busybox udhcpd)`, { skip: t.skip ?? dhcpSkip }, async (c) => {
        c.diagnostic(t.name);
        const conf = join(dir, 'udhcpd.conf');
        const leases = join(dir, `udhcpd-${t.name.replace(/\W+/g, '_')}.leases`);
        writeFileSync(leases, '');
        writeFileSync(conf, [
          'start 10.0.2.15', 'end 10.0.2.15', 'interface tap0', `lease_file ${leases}`, `pidfile ${join(dir, 'udhcpd.pid')}`,
          'opt subnet 255.255.255.0', 'opt router 10.0.2.1', 'opt dns 10.0.2.1', 'opt lease 600', '',
        ].join('\n'));
        const server = spawn('ip', ['netns', 'exec', NS, 'busybox', 'udhcpd', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
        let serverLog = '';
        server.stderr.on('data', (d: Buffer) => (serverLog += d.toString()));
        server.stdout.on('data', (d: Buffer) => (serverLog += d.toString()));
        try {
          await until(() => serverLog.includes('started'), 5000);
          const vm = kilnBackground(['run', elf, ...t.flags, '--net', 'tap=tap0', '--', '7', '1'], { netns: NS });
          const line = await listening(vm);
          const tcp = line ? inNs([process.execPath, TCP_CLIENT, '10.0.2.15', '7', '10000']) : { ok: false, out: '' };
          const r = await vm.done;
          const guest = `guest:\n${r.stdout}${r.stderr}\nudhcpd:\n${serverLog}`;
          assert.match(line ?? '', /^tcp-echo: listening on 10\.0\.2\.15:7 \(dhcp, gateway 10\.0\.2\.1, mac [0-9a-f:]{17}\)$/, guest);
          assert.match(serverLog, /sending ACK to 10\.0\.2\.15/);
          assert.equal((JSON.parse(tcp.out.trim()) as { intact: boolean }).intact, true, `${tcp.out}\n${guest}`);
          assert.equal(r.code, 0, guest);
        } finally {
          server.kill();
        }
      });
    }
  });

  describe('user-mode networking with a loopback forward (passt on Kiln\'s VMM, slirp on QEMU)', () => {
    for (const t of targets()) {
      const skip = t.skip ?? (t.name.startsWith('vmm=kiln') && !commandExists('passt') ? 'passt is not installed (apt-get install passt)' : undefined);
      test(`${t.name}: a host TCP client gets its bytes echoed through hostfwd`, { skip }, async (c) => {
        c.diagnostic(t.name);
        const port = await freeLoopbackPort();
        const vm = kilnBackground(['run', elf, ...t.flags, '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:7`, '--', '7', '1']);
        const line = await listening(vm);
        const data = randomBytes(isTcg(t.name) ? 100_000 : 1_000_000);
        const got = line ? await echoOnce(port, data) : Buffer.alloc(0);
        const r = await vm.done;
        const guest = `guest:\n${r.stdout}${r.stderr}`;
        assert.match(line ?? '', /^tcp-echo: listening on 10\.0\.2\.15:7 \(static, gateway 10\.0\.2\.2, mac [0-9a-f:]{17}\)$/, guest);
        assert.ok(got.equals(data), `echo differs (${got.length} of ${data.length} bytes)\n${guest}`);
        assert.equal(r.code, 0, guest);
      });
    }
  });
});

function echoOnce(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(data);
      s.end();
    });
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('close', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}
