// E2E: virtio-vsock on Kiln's VMM, on KVM and on the process platform (kilnTargets()), with
// Firecracker's hybrid Unix-socket protocol, both ways.
// Host → guest: examples/vsock-echo listens on port 5000; the host connects to the VMM's
// socket, sends `CONNECT 5000\n`, reads `OK <hostport>\n`, sends data and gets it back.
// Guest → host: a guest connects to CID 2 port 6000, which the VMM turns into a connection to
// `<uds>_6000` where this test listens; one line each way, then the guest exits 0.
// QEMU has no hybrid vsock (`kiln run --vmm qemu --vsock` is refused: main.test.ts).

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, kilnBuild, kilnTargets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-vsock-'));
const elf = (name: string): string => join(dir, `${name}.elf`);

const CONNECTER = `
import { connect } from 'kiln:vsock';
async function main(): Promise<void> {
  const conn = await connect(2, 6000);
  const text = 'hello from guest ' + conn.localPort + '\\n';
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i); // the guest has no TextEncoder
  await conn.write(out);
  const buf = new Uint8Array(256);
  let line = '';
  while (!line.includes('\\n')) {
    const n = await conn.read(buf);
    if (n === null) break;
    for (let i = 0; i < n; i++) line += String.fromCharCode(buf[i]!);
  }
  console.log('guest got: ' + line.trim());
  conn.close();
}
main();
`;

async function connectWhenReady(path: string, ms = 20000): Promise<Socket> {
  const end = Date.now() + ms;
  for (;;) {
    if (existsSync(path)) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = connect({ path, allowHalfOpen: true }, () => resolve(s));
          s.once('error', reject);
        });
      } catch (e) {
        if (Date.now() > end) throw e;
      }
    }
    if (Date.now() > end) throw new Error(`${path} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('virtio-vsock on Kiln\'s VMM', { skip: coreSkip() }, () => {
  before(async () => {
    writeFileSync(join(dir, 'connecter.ts'), CONNECTER);
    for (const [name, src] of [['echo', 'examples/vsock-echo/main.ts'], ['connecter', join(dir, 'connecter.ts')]]) {
      await kilnBuild(src!, elf(name!));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of kilnTargets()) {
    const slug = t.name.replace(/\W/g, '_');
    describe(t.name, { skip: t.skip }, () => {
      test(`host → guest: CONNECT 5000, OK <hostport>, 1 MiB echoed back (${t.name})`, async (c) => {
        c.diagnostic(t.name);
        const uds = join(dir, `echo-${slug}.sock`);
        const run = kiln(['run', elf('echo'), ...t.flags, '--vsock', `3,${uds}`, '--timeout', '60', '--', '1']);
        const s = await connectWhenReady(uds);
        const chunks: Buffer[] = [];
        const ended = new Promise<void>((r) => s.on('end', r));
        s.on('data', (d: Buffer) => chunks.push(d));
        s.write('CONNECT 5000\n');
        const data = randomBytes(1 << 20);
        // The OK line comes first; send once it is there.
        for (let i = 0; i < 1000 && !Buffer.concat(chunks).includes(10); i++) await new Promise((r) => setTimeout(r, 10));
        const first = Buffer.concat(chunks);
        const nl = first.indexOf(10);
        if (nl < 0) {
          s.destroy();
          const r = await run;
          assert.fail(`no OK line; kiln exited ${r.code}: ${r.stdout}${r.stderr}`);
        }
        assert.match(first.subarray(0, nl + 1).toString(), /^OK [0-9]+\n$/);
        s.end(data);
        await ended;
        assert.ok(Buffer.concat(chunks).subarray(nl + 1).equals(data), 'echo matches');
        const r = await run;
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal(r.stdout, `listening on vsock port 5000\nechoed ${data.length} bytes to port ${Number(first.subarray(3, nl).toString())}\n`);
        assert.ok(!existsSync(uds), 'the VMM removed its socket');
      });

      test(`guest → host: connect(2, 6000) reaches <uds>_6000, one line each way, exit 0 (${t.name})`, async (c) => {
        c.diagnostic(t.name);
        const uds = join(dir, `conn-${slug}.sock`);
        let got = '';
        const server = createServer((s) => {
          s.on('data', (d: Buffer) => {
            got += d.toString();
            if (got.includes('\n')) s.end('hello from host\n');
          });
        });
        await new Promise<void>((r) => server.listen(`${uds}_6000`, r));
        try {
          const r = await kiln(['run', elf('connecter'), ...t.flags, '--vsock', `3,${uds}`, '--timeout', '60']);
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.equal(r.stdout, 'guest got: hello from host\n');
          assert.match(got, /^hello from guest [0-9]+\n$/);
        } finally {
          server.close();
        }
      });

      test(`guest connect with nobody listening on the host fails with ECONNREFUSED (${t.name})`, async (c) => {
        c.diagnostic(t.name);
        const src = join(dir, `refused-${slug}.ts`);
        writeFileSync(src, `import { connect } from 'kiln:vsock';\nconnect(2, 6001).then(() => console.log('connected?'), (e: { code?: string }) => console.log('refused ' + e.code));\n`);
        await kilnBuild(src, elf(`refused-${slug}`));
        const r = await kiln(['run', elf(`refused-${slug}`), ...t.flags, '--vsock', `3,${join(dir, `ref-${slug}.sock`)}`, '--timeout', '60']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'refused ECONNREFUSED\n');
      });
    });
  }
});
