// Reads all of block device 0 in 1 MiB chunks and prints its size in bytes and SHA-256, the
// way `sha256sum` prints it on the host (the e2e test compares the two). The hash is an npm
// package's, as an app would take it (@noble/hashes, which Kiln's kernel pins too).
// Run: kiln run disk-checksum.elf --disk disk.img

import { openBlockDevice } from 'kiln:block';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const CHUNK = 1 << 20;

async function main(): Promise<void> {
  const disk = await openBlockDevice(0);
  const hash = sha256.create();
  for (let off = 0; off < disk.size; off += CHUNK) {
    hash.update(await disk.read(off, Math.min(CHUNK, disk.size - off)));
  }
  console.log(`${disk.size} bytes`);
  console.log(`sha256 ${bytesToHex(hash.digest())}`);
}

main().catch((err: unknown) => {
  console.log(String(err));
  throw err;
});
