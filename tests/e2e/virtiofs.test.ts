// E2E: virtio-fs on Kiln's VMM, on KVM and on the process platform (kilnTargets()).
// examples/virtiofs reads a host file, writes, renames and lists files in a shared directory,
// and every attempt to leave it through symlinks or ".." fails with the expected code while the
// directory next to the share stays untouched. A read-only share refuses changes with EROFS.
// QEMU needs an external vhost-user virtiofsd (`kiln run --vmm qemu --share` is refused:
// main.test.ts).

import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, kilnBuild, kilnTargets, ROOT } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-virtiofs-'));
const elf = (name: string): string => join(dir, `${name}.elf`);

const READ_ONLY = `
import { mountVirtioFs } from ${JSON.stringify(join(ROOT, 'packages/kernel/src/fs/virtiofs/index.ts'))};
async function main(): Promise<void> {
  const fs = await mountVirtioFs('ro');
  const f = await fs.open('/keep.txt', { read: true, write: false, create: false, exclusive: false, truncate: false });
  const buf = new Uint8Array(4);
  console.log('read', await f.read(0, buf, 0, 4));
  await f.close();
  for (const [what, op] of [['mkdir', () => fs.mkdir('/m')], ['unlink', () => fs.unlink('/keep.txt')], ['create', () => fs.open('/n', { read: true, write: true, create: true, exclusive: false, truncate: false })]] as const) {
    try {
      await op();
      console.log(what, 'allowed');
    } catch (e) {
      console.log(what, (e as { code?: string }).code);
    }
  }
  await fs.unmount();
}
main();
`;

function makeShare(name: string): { share: string; outside: string } {
  const share = join(dir, name, 'share');
  const outside = join(dir, name, 'outside');
  mkdirSync(share, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), 'SECRET\n');
  symlinkSync(outside, join(share, 'link-out'));
  symlinkSync(join(outside, 'secret.txt'), join(share, 'link-secret'));
  return { share, outside };
}

describe('virtio-fs on Kiln\'s VMM', { skip: coreSkip() }, () => {
  before(async () => {
    writeFileSync(join(dir, 'ro.ts'), READ_ONLY);
    for (const [name, src] of [['tour', 'examples/virtiofs/main.ts'], ['ro', join(dir, 'ro.ts')]]) {
      await kilnBuild(src!, elf(name!));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of kilnTargets()) {
    const slug = t.name.replace(/\W/g, '_');
    describe(t.name, { skip: t.skip }, () => {
      test(`the guest reads, writes, renames and lists host files; escape attempts fail (${t.name})`, async (c) => {
        c.diagnostic(t.name);
        const { share, outside } = makeShare(`tour-${slug}`);
        writeFileSync(join(share, 'input.txt'), 'hello host');
        const r = await kiln(['run', elf('tour'), ...t.flags, '--share', `${share}:data`, '--', 'data']);
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.equal(r.stdout, [
          'input: hello host',
          'out: result.txt(file)',
          'size: 25',
          'escape through a symlinked directory: ENOTDIR',
          'escape by opening a symlink: ELOOP',
          'escape by creating through a symlink: ENOTDIR',
          'escape with ..: EINVAL',
          'escape by creating over a symlink: ELOOP',
          'mount no-such-tag: ENODEV',
          'done',
          '',
        ].join('\n'));
        assert.equal(readFileSync(join(share, 'out', 'result.txt'), 'utf8'), 'HELLO HOST from the guest');
        assert.deepEqual(readdirSync(outside), ['secret.txt'], 'nothing appeared outside the share');
        assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'SECRET\n');
      });

      test(`a read-only share refuses changes with EROFS (${t.name})`, async (c) => {
        c.diagnostic(t.name);
        const { share } = makeShare(`ro-${slug}`);
        writeFileSync(join(share, 'keep.txt'), 'keep');
        const r = await kiln(['run', elf('ro'), ...t.flags, '--share', `${share}:ro,ro`]);
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.equal(r.stdout, 'read 4\nmkdir EROFS\nunlink EROFS\ncreate EROFS\n');
        assert.deepEqual(readdirSync(share).sort(), ['keep.txt', 'link-out', 'link-secret']);
      });

      test(`a missing share directory is a usage error (${t.name})`, async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', elf('tour'), ...t.flags, '--share', `${join(dir, 'none')}:data`]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /--share .*none:data: directory .*none does not exist/);
      });
    });
  }
});
