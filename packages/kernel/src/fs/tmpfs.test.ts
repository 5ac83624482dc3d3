// tmpfs specifics the model test (units/fs.test.ts, against Node on a host directory) does not
// reach: the capacity (ENOSPC, space given back by unlink and truncate), files that stay
// readable after unlink while open, directory handles, usage() and unmount.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Tmpfs } from './tmpfs.ts';
import { FsError } from './types.ts';

const W = { read: true, write: true, create: true, exclusive: false, truncate: false };
const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => {
  if (!(e instanceof FsError)) throw e;
  return e.code;
});

test('capacity_gives_ENOSPC_and_space_comes_back', async () => {
  const fs = new Tmpfs({ capacity: 8192, now: () => 5 });
  const a = await fs.open('/a', W);
  assert.equal(await a.write(0, new Uint8Array(8000)), 8000);
  const b = await fs.open('/b', W);
  assert.equal(await codeOf(b.write(0, new Uint8Array(500))), 'ENOSPC');
  assert.equal((await fs.stat('/b')).size, 0);
  await a.truncate(4000);
  assert.equal(await b.write(0, new Uint8Array(4000)), 4000);
  await fs.unlink('/b');
  assert.equal(await b.write(4000, new Uint8Array(100)), 100); // unlinked: no longer counted
  assert.deepEqual(await fs.usage(), { blockSize: 4096, totalBlocks: 2, freeBlocks: 1 });
  assert.equal((await fs.stat('/a')).mtimeMs, 5);
});

test('an_unlinked_open_file_stays_readable', async () => {
  const fs = new Tmpfs();
  const f = await fs.open('/f', W);
  await f.write(0, new Uint8Array([1, 2, 3]));
  await fs.unlink('/f');
  assert.equal(await codeOf(fs.stat('/f')), 'ENOENT');
  const buf = new Uint8Array(3);
  assert.equal(await f.read(0, buf, 0, 3), 3);
  assert.deepEqual(buf, new Uint8Array([1, 2, 3]));
  assert.equal((await f.stat()).nlink, 0);
  await f.close();
  assert.equal(await codeOf(f.read(0, buf, 0, 3)), 'EBADF');
});

test('directories_open_read_only_and_unmount_ends_it', async () => {
  const fs = new Tmpfs();
  await fs.mkdir('/d');
  assert.equal(await codeOf(fs.open('/d', W)), 'EISDIR');
  const d = await fs.open('/d', { read: true, write: false, create: false, exclusive: false, truncate: false });
  assert.equal((await d.stat()).type, 'directory');
  assert.equal(await codeOf(d.read(0, new Uint8Array(1), 0, 1)), 'EISDIR');
  assert.equal(await codeOf(fs.rename('/d', '/d/e')), 'EINVAL');
  await fs.unmount();
  assert.equal(await codeOf(fs.stat('/')), 'EIO');
});
