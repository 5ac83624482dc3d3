// fs-tour: a walk through kiln:fs. Lists and reads the files `kiln build --assets` baked into
// the image (bootfs, read-only), shows that they cannot be changed, then writes, appends,
// renames and reads back files on a tmpfs when one is mounted at /tmp (kiln run --mount
// /tmp=tmpfs). Prints what it finds; the e2e tests compare the output.
//   npx kiln build examples/fs-tour/main.ts --assets examples/fs-tour/assets -o fs-tour.elf
//   npx kiln run fs-tour.elf --mount /tmp=tmpfs

import { appendFile, mkdir, mounts, open, readFile, readdir, rename, stat, writeFile } from 'kiln:fs';

async function tree(dir: string, indent: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
    if (e.isDirectory()) {
      console.log(`${indent}${e.name}/`);
      if (path !== '/tmp') await tree(path, indent + '  ');
    } else {
      console.log(`${indent}${e.name} (${(await stat(path)).size} bytes)`);
    }
  }
}

async function main(): Promise<void> {
  for (const m of mounts()) console.log(`mount ${m.path} ${m.type}${m.readOnly ? ' ro' : ''}`);
  await tree('/', '');
  console.log(`hello.txt says: ${(await readFile('/hello.txt', 'utf8')).trim()}`);
  try {
    await writeFile('/hello.txt', 'changed');
  } catch (e) {
    console.log(`writing the image's files: ${(e as { code: string }).code}`);
  }
  if (!mounts().some((m) => m.path === '/tmp')) return;
  await mkdir('/tmp/notes/2024', { recursive: true });
  await writeFile('/tmp/notes/2024/a.txt', 'first line\n');
  await appendFile('/tmp/notes/2024/a.txt', 'second line\n');
  await rename('/tmp/notes/2024/a.txt', '/tmp/notes/b.txt');
  const h = await open('/tmp/notes/b.txt', 'r');
  const { bytesRead, buffer } = await h.read(new Uint8Array(6), 0, 6, 11);
  await h.close();
  console.log(`positional read: ${String.fromCharCode(...buffer.subarray(0, bytesRead))}`);
  console.log(`tmp: ${(await readdir('/tmp', { recursive: true })).join(' ')}`);
  console.log(`b.txt: ${JSON.stringify(await readFile('/tmp/notes/b.txt', 'utf8'))}`);
}

main();
