// E2E: virtio devices seen from a real guest. disk-checksum reads a whole disk through the
// virtio-blk driver and its SHA-256 must equal the host's; a guest write followed by flush must
// be on the host file afterwards; a read-only disk refuses writes with EROFS; crypto draws from
// virtio-rng (or RDRAND). On Kiln's VMM, QEMU/TCG and QEMU/KVM; skipped targets say why.

import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, kilnBuild, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-virtio-'));
const elf = (name: string): string => join(dir, `${name}.elf`);

const WRITER = `
import { openBlockDevice } from 'kiln:block';
import { args } from 'kiln:process';
async function main(): Promise<void> {
  const disk = await openBlockDevice(0);
  const data = new Uint8Array(1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
  try {
    await disk.write(Number(args[0]), data);
    await disk.flush();
    console.log('written', disk.size, disk.readOnly);
  } catch (e) {
    console.log('refused', (e as { code?: string }).code);
  }
}
main();
`;

const RANDOM = `
const a = new Uint8Array(64);
crypto.getRandomValues(a);
const b = new Uint8Array(64);
crypto.getRandomValues(b);
console.log(a.some((x) => x !== 0) && a.join() !== b.join() ? 'random ok' : 'random BAD');
`;

describe('virtio devices', { skip: coreSkip() }, () => {
  before(async () => {
    writeFileSync(join(dir, 'writer.ts'), WRITER);
    writeFileSync(join(dir, 'random.ts'), RANDOM);
    for (const [name, src] of [['checksum', 'examples/disk-checksum/main.ts'], ['writer', join(dir, 'writer.ts')], ['random', join(dir, 'random.ts')]]) {
      await kilnBuild(src!, elf(name!));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of targets()) {
    describe(t.name, { skip: t.skip }, () => {
      test('the guest reads a whole disk and its SHA-256 matches the host', async (c) => {
        c.diagnostic(t.name);
        const disk = join(dir, `read-${t.name.replace(/\W/g, '_')}.img`);
        const bytes = randomBytes(512 * 1024 + 4096);
        writeFileSync(disk, bytes);
        const r = await kiln(['run', elf('checksum'), ...t.flags, '--disk', `${disk},ro`]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal(r.stdout, `${bytes.length} bytes\nsha256 ${createHash('sha256').update(bytes).digest('hex')}\n`);
      });
      test('a guest write is on the host file after flush; a read-only disk refuses it', async (c) => {
        c.diagnostic(t.name);
        const disk = join(dir, `write-${t.name.replace(/\W/g, '_')}.img`);
        writeFileSync(disk, Buffer.alloc(64 * 1024));
        const w = await kiln(['run', elf('writer'), ...t.flags, '--disk', disk, '--', '4096']);
        assert.equal(w.stdout, `written ${64 * 1024} false\n`, w.stderr);
        const back = readFileSync(disk);
        for (let i = 0; i < 1024; i++) assert.equal(back[4096 + i], (i * 7 + 3) & 0xff, `byte ${i}`);
        assert.ok(back.subarray(0, 4096).every((x) => x === 0) && back.subarray(4096 + 1024).every((x) => x === 0), 'nothing else written');
        const ro = await kiln(['run', elf('writer'), ...t.flags, '--disk', `${disk},ro`, '--', '0']);
        assert.equal(ro.stdout, 'refused EROFS\n', ro.stderr);
        const unaligned = await kiln(['run', elf('writer'), ...t.flags, '--disk', disk, '--', '100']);
        assert.equal(unaligned.stdout, 'refused EINVAL\n', unaligned.stderr);
      });
      test('crypto.getRandomValues gives fresh random bytes', async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', elf('random'), ...t.flags]);
        assert.equal(r.stdout, 'random ok\n', r.stderr);
        assert.equal(r.code, 0);
      });
    });
  }
});
