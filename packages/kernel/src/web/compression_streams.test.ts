// CompressionStream and DecompressionStream against Node's zlib: random data in random chunks,
// compressed by Kiln, decompresses with zlib to the same bytes, and zlib's output decompresses
// with Kiln's, in every format; corrupt, truncated and trailing input and wrong chunk types
// error with a TypeError; a zip bomb read slowly holds only what the reader asked for.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { CompressionStream } from './compression_stream.ts';
import { DecompressionStream } from './decompression_stream.ts';
import { ReadableStream } from './readable_stream.ts';
import type { WritableStream } from './writable_stream.ts';
import type { BufferSource } from './zlib_stream.ts';

const FORMATS = ['gzip', 'deflate', 'deflate-raw'] as const;
type Format = (typeof FORMATS)[number];

const nodeCompress: Record<Format, (b: Uint8Array) => Buffer> = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, 'deflate-raw': zlib.deflateRawSync };
const nodeDecompress: Record<Format, (b: Uint8Array) => Buffer> = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, 'deflate-raw': zlib.inflateRawSync };

function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.slice(prev, c));
    prev = c;
  }
  return out;
}

async function through(stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<BufferSource> }, chunks: unknown[]): Promise<Uint8Array> {
  const out = ReadableStream.from(chunks as BufferSource[]).pipeThrough(stream);
  const parts: Uint8Array[] = [];
  for await (const p of out) {
    assert.ok(p instanceof Uint8Array);
    parts.push(p);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Compressible (runs of a few letters) or not (random bytes). */
const data = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.array(fc.tuple(fc.constantFrom(97, 98, 32, 10), fc.integer({ min: 1, max: 400 })), { maxLength: 60 })
    .map((runs) => new Uint8Array(runs.flatMap(([b, n]) => Array<number>(n).fill(b)))),
);
const cuts = fc.array(fc.nat(), { maxLength: 8 });

test('Kiln compresses to what zlib decompresses, and decompresses what zlib compressed, in random chunks', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(...FORMATS), data, cuts, cuts, async (format, bytes, c1, c2) => {
    const ours = await through(new CompressionStream(format), chunked(bytes, c1));
    assert.deepEqual(new Uint8Array(nodeDecompress[format](ours)), bytes);
    const back = await through(new DecompressionStream(format), chunked(nodeCompress[format](bytes), c2));
    assert.deepEqual(back, bytes);
    assert.deepEqual(await through(new DecompressionStream(format), chunked(ours, c2)), bytes);
  }), { numRuns: 60 });
});

test('every BufferSource is a chunk; other chunks and formats are TypeErrors', async () => {
  const bytes = new TextEncoder().encode('hello hello');
  const ab = bytes.slice().buffer;
  const out = await through(new CompressionStream('gzip'), [ab, new DataView(ab, 2, 3), new Uint16Array(2), new Uint8Array(0)]);
  assert.equal(zlib.gunzipSync(out).length, 11 + 3 + 4);
  for (const bad of ['text', 42, null, {}, [1, 2]]) {
    await assert.rejects(through(new CompressionStream('deflate'), [bad]), TypeError);
    await assert.rejects(through(new DecompressionStream('deflate'), [bad]), TypeError);
  }
  for (const f of ['zip', 'GZIP', undefined, 'br']) {
    assert.throws(() => new CompressionStream(f as Format), TypeError);
    assert.throws(() => new DecompressionStream(f as Format), TypeError);
  }
  assert.equal(Object.prototype.toString.call(new CompressionStream('gzip')), '[object CompressionStream]');
});

test('corrupt, truncated and trailing input error the stream with a TypeError, in every format', async () => {
  const bytes = new TextEncoder().encode('the quick brown fox jumps over the lazy dog '.repeat(50));
  for (const format of FORMATS) {
    const good = nodeCompress[format](bytes);
    await assert.rejects(through(new DecompressionStream(format), [good.subarray(0, good.length - 4)]), TypeError, `${format} truncated`);
    await assert.rejects(through(new DecompressionStream(format), [good, new Uint8Array([1])]), TypeError, `${format} trailing chunk`);
    await assert.rejects(through(new DecompressionStream(format), [Buffer.concat([good, Buffer.from('x')])]), TypeError, `${format} trailing bytes`);
    await assert.rejects(through(new DecompressionStream(format), [new Uint8Array([0xff, 0xfe, 0xfd, 0xfc])]), TypeError, `${format} garbage`);
    await assert.rejects(through(new DecompressionStream(format), []), TypeError, `${format} empty`);
    if (format !== 'deflate-raw') {
      const bad = Buffer.from(good);
      bad[bad.length - (format === 'gzip' ? 6 : 1)]! ^= 1; // the CRC-32 / Adler-32
      await assert.rejects(through(new DecompressionStream(format), [bad]), /TypeError: DecompressionStream: invalid .* data \(incorrect data check\)/, `${format} checksum`);
    }
  }
  await assert.rejects(through(new DecompressionStream('gzip'), [zlib.deflateSync(bytes)]), TypeError, 'zlib data is not gzip');
});

test('random bytes never decompress without a TypeError or into anything but bytes', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(...FORMATS), fc.uint8Array({ maxLength: 200 }), async (format, junk) => {
    try {
      await through(new DecompressionStream(format), [junk]);
    } catch (e) {
      assert.ok(e instanceof TypeError, String(e));
    }
  }), { numRuns: 200 });
});

test('a zip bomb read slowly: the writer waits, and each read gets at most 16 KiB', async () => {
  const bomb = zlib.gzipSync(Buffer.alloc(64 << 20)); // 64 MiB of zeros in ~64 KiB
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  let written = false;
  void writer.write(bomb).then(() => (written = true), () => undefined);
  const reader = ds.readable.getReader();
  let total = 0;
  for (let i = 0; i < 4; i++) {
    const r = await reader.read();
    assert.equal(r.done, false);
    assert.ok(r.value!.byteLength <= 16 * 1024);
    total += r.value!.byteLength;
  }
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(written, false, 'the write of the bomb resolves only once it is all decompressed');
  assert.equal(total, 64 * 1024);
  await reader.cancel(new Error('enough'));
  await assert.rejects(writer.closed, /enough/);
});

test('cancelling the readable or aborting the writable errors the other side', async () => {
  const cs = new CompressionStream('deflate');
  const writer = cs.writable.getWriter();
  void cs.readable.cancel(new Error('stop'));
  await assert.rejects(writer.write(new Uint8Array(10)), /stop/);
  const ds = new DecompressionStream('deflate');
  void ds.writable.abort(new Error('gone'));
  await assert.rejects(ds.readable.getReader().read(), /gone/);
});
