// A tour of a virtio-fs share from the guest: reads /input.txt, writes, renames and lists files
// under /out, and tries to leave the share through its symlinks (each attempt prints the error
// code it got). `-- TAG bench` instead measures large-file MiB/s and small-file ops/s.
// Run: kiln run virtiofs.elf --share DIR:data -- data
// (Imports the kernel's mount function directly until kiln:fs mounts shares by path.)

import { args } from 'kiln:process';
import { mountVirtioFs } from '../../packages/kernel/src/fs/virtiofs/index.ts';
import type { FileSystem } from '../../packages/kernel/src/fs/types.ts';

const READ = { read: true, write: false, create: false, exclusive: false, truncate: false };
const CREATE = { read: true, write: true, create: true, exclusive: false, truncate: true };

function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0x7f;
  return b;
}

async function readText(fs: FileSystem, path: string): Promise<string> {
  const f = await fs.open(path, READ);
  const size = (await f.stat()).size;
  const buf = new Uint8Array(size);
  const n = await f.read(0, buf, 0, size);
  await f.close();
  return String.fromCharCode.apply(null, buf.subarray(0, n) as unknown as number[]);
}

async function writeFile(fs: FileSystem, path: string, data: Uint8Array): Promise<void> {
  const f = await fs.open(path, CREATE);
  await f.write(0, data);
  await f.close();
}

async function attempt(what: string, op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
    console.log(`escape ${what}: NOT REFUSED`);
  } catch (e) {
    console.log(`escape ${what}: ${(e as { code?: string }).code}`);
  }
}

async function tour(fs: FileSystem): Promise<void> {
  const input = await readText(fs, '/input.txt');
  console.log(`input: ${input}`);
  await fs.mkdir('/out');
  await writeFile(fs, '/out/draft.txt', ascii(`${input.toUpperCase()} from the guest`));
  await fs.rename('/out/draft.txt', '/out/result.txt');
  const entries = await fs.readdir('/out');
  console.log(`out: ${entries.map((e) => `${e.name}(${e.type})`).join(' ')}`);
  console.log(`size: ${(await fs.stat('/out/result.txt')).size}`);
  await attempt('through a symlinked directory', () => fs.stat('/link-out/secret.txt'));
  await attempt('by opening a symlink', () => readText(fs, '/link-secret'));
  await attempt('by creating through a symlink', () => fs.open('/link-out/planted.txt', CREATE));
  await attempt('with ..', () => fs.stat('/../secret.txt'));
  await attempt('by creating over a symlink', () => fs.open('/link-secret', CREATE));
  try {
    await mountVirtioFs('no-such-tag');
  } catch (e) {
    console.log(`mount no-such-tag: ${(e as { code?: string }).code}`);
  }
}

async function bench(fs: FileSystem): Promise<void> {
  const MiB = 1 << 20;
  const total = 32 * MiB;
  const chunk = new Uint8Array(4 * MiB);
  for (let i = 0; i < chunk.length; i += 4096) chunk[i] = i >>> 12;
  let t = Date.now();
  const f = await fs.open('/bench.bin', CREATE);
  for (let at = 0; at < total; at += chunk.length) await f.write(at, chunk);
  await f.sync();
  const writeMs = Date.now() - t;
  t = Date.now();
  for (let at = 0; at < total; at += chunk.length) await f.read(at, chunk, 0, chunk.length);
  const readMs = Date.now() - t;
  await f.close();
  const files = 200;
  const small = ascii('a small file\n');
  t = Date.now();
  for (let i = 0; i < files; i++) await writeFile(fs, `/small${i}.txt`, small);
  for (let i = 0; i < files; i++) {
    await readText(fs, `/small${i}.txt`);
    await fs.unlink(`/small${i}.txt`);
  }
  const smallMs = Date.now() - t;
  await fs.unlink('/bench.bin');
  const rate = (bytes: number, ms: number): string => (bytes / MiB / (Math.max(ms, 1) / 1000)).toFixed(1);
  console.log(`bench write ${rate(total, writeMs)} MiB/s read ${rate(total, readMs)} MiB/s small ${((2 * files) / (Math.max(smallMs, 1) / 1000)).toFixed(0)} files/s`);
}

async function main(): Promise<void> {
  const fs = await mountVirtioFs(args[0] ?? 'data');
  if (args[1] === 'bench') await bench(fs);
  else await tour(fs);
  await fs.unmount();
  console.log('done');
}

main().catch((err: unknown) => {
  console.log(String(err));
  throw err;
});
