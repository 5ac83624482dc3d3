// WritableStream, TransformStream and the text streams beside Node's own: the same programs
// (ordered writes, backpressure through ready/desiredSize, transform/flush, errors on either
// side, terminate, abort, locking) log the same events with Kiln's classes and Node's.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ReadableStream } from './readable_stream.ts';
import { TextDecoderStream, TextEncoderStream, TransformStream } from './transform_stream.ts';
import { WritableStream } from './writable_stream.ts';

interface Classes {
  WritableStream: typeof globalThis.WritableStream;
  TransformStream: typeof globalThis.TransformStream;
  TextEncoderStream: typeof globalThis.TextEncoderStream;
  TextDecoderStream: typeof globalThis.TextDecoderStream;
}
const kiln = { WritableStream, TransformStream, TextEncoderStream, TextDecoderStream } as unknown as Classes;
const node: Classes = globalThis;

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/** Programs run once with each set of classes; their logs must agree. */
const programs: Record<string, (c: Classes, log: (s: unknown) => void) => Promise<void>> = {
  async orderedWritesAndBackpressure(c, log) {
    const seen: string[] = [];
    const ws = new c.WritableStream<string>({
      async write(chunk) {
        await tick();
        seen.push(chunk);
      },
      close: () => log('sink close'),
    }, { highWaterMark: 2 });
    const w = ws.getWriter();
    log(`locked ${ws.locked} size ${w.desiredSize}`);
    const writes = ['a', 'b', 'c'].map((x) => w.write(x));
    log(`size after 3 writes ${w.desiredSize}`);
    await Promise.all(writes);
    log(`seen ${seen.join('')} size ${w.desiredSize}`);
    await w.ready;
    await w.close();
    await w.closed;
    log('closed');
    // (A write after close trips an internal assertion in Node 20's WritableStream; ours rejects, tested below.)
  },
  async sinkError(c, log) {
    const ws = new c.WritableStream<number>({ write(n) { if (n === 2) throw new Error('bad 2'); } });
    const w = ws.getWriter();
    const r = await Promise.allSettled([w.write(1), w.write(2), w.write(3)]);
    log(r.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as Error).message)).join(','));
    await w.closed.catch((e: Error) => log(`closed rejects: ${e.message}`));
    log(`size ${w.desiredSize}`);
  },
  async abort(c, log) {
    const ws = new c.WritableStream({ abort: (r) => log(`sink abort ${String(r)}`) });
    const w = ws.getWriter();
    await w.abort('why');
    await w.write(1).catch((e) => log(`write after abort: ${String(e)}`));
    assert.throws(() => ws.getWriter(), TypeError);
  },
  async transformAndFlush(c, log) {
    const ts = new c.TransformStream<string, string>({
      transform(chunk, ctl) {
        ctl.enqueue(chunk.toUpperCase());
        ctl.enqueue(`(${chunk.length})`);
      },
      flush(ctl) {
        ctl.enqueue('end');
      },
    });
    const w = ts.writable.getWriter();
    const reading = (async () => {
      const out: string[] = [];
      for await (const x of ts.readable as unknown as AsyncIterable<string>) out.push(x);
      return out.join(' ');
    })();
    await w.write('ab');
    await w.write('cde');
    await w.close();
    log(await reading);
  },
  async identityBackpressure(c, log) {
    const ts = new c.TransformStream<number, number>();
    const w = ts.writable.getWriter();
    let done = false;
    const first = w.write(1).then(() => (done = true));
    await tick();
    log(`write done before any read: ${done} size ${w.desiredSize}`);
    const r = ts.readable.getReader();
    log(JSON.stringify(await r.read()));
    await first;
    log(`after read: ${done}`);
  },
  async transformError(c, log) {
    const ts = new c.TransformStream<number, number>({ transform() { throw new Error('no'); } });
    const w = ts.writable.getWriter();
    const r = ts.readable.getReader();
    const reading = r.read().catch((e: Error) => `read: ${e.message}`);
    await w.write(1).catch((e: Error) => log(`write: ${e.message}`));
    log(await reading);
  },
  async terminate(c, log) {
    const ts = new c.TransformStream<number, number>({
      transform(n, ctl) {
        ctl.enqueue(n);
        ctl.terminate();
      },
    });
    const w = ts.writable.getWriter();
    const r = ts.readable.getReader();
    const reads = [r.read(), r.read()];
    await w.write(7).catch(() => log('write rejected'));
    log(JSON.stringify(await Promise.all(reads)));
    await w.write(8).catch((e) => log(`second write: ${(e as Error).constructor.name}`));
  },
  async textStreams(c, log) {
    const bytes = new TextEncoder().encode('héllo 🙂 wörld');
    const src = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < bytes.length; i += 3) ctl.enqueue(bytes.subarray(i, i + 3));
        ctl.close();
      },
    });
    const dec = new c.TextDecoderStream();
    const w = dec.writable.getWriter();
    const pump = (async () => {
      for await (const b of src) await w.write(b);
      await w.close();
    })();
    let text = '';
    for await (const s of dec.readable as unknown as AsyncIterable<string>) text += s;
    await pump;
    log(`${dec.encoding} ${text}`);
    const enc = new c.TextEncoderStream();
    const ew = enc.writable.getWriter();
    void ew.write('a\ud83d');
    void ew.write('\ude42b');
    void ew.close();
    const out: number[] = [];
    for await (const b of enc.readable as unknown as AsyncIterable<Uint8Array>) out.push(...b);
    log(Buffer.from(out).toString());
  },
};

test('streams: a write after close rejects with a TypeError', async () => {
  const w = new WritableStream<string>({}).getWriter();
  await w.close();
  await assert.rejects(w.write('late'), TypeError);
});

for (const [name, program] of Object.entries(programs)) {
  test(`streams: ${name} behaves as in Node`, async () => {
    const logs: [string[], string[]] = [[], []];
    await program(node, (s) => logs[0].push(String(s)));
    await program(kiln, (s) => logs[1].push(String(s)));
    assert.deepEqual(logs[1], logs[0]);
  });
}

test('readable values(): return() after the stream ended does nothing (no cancel of a released reader)', async () => {
  const s = new ReadableStream<number>({ start(c) { c.enqueue(1); c.close(); } });
  const it = s.values();
  assert.deepEqual(await it.next(), { value: 1, done: false });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.deepEqual(await it.return!(), { value: undefined, done: true });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.equal(s.locked, false);
});

test('readable tee(): both branches see every chunk; cloned Responses with streamed bodies read the same', async () => {
  const s = new ReadableStream<number>({ start(c) { for (const n of [1, 2, 3]) c.enqueue(n); c.close(); } });
  const [a, b] = s.tee();
  const read = async (x: ReadableStream<number>): Promise<number[]> => { const out: number[] = []; for await (const n of x) out.push(n); return out; };
  assert.deepEqual(await Promise.all([read(a), read(b)]), [[1, 2, 3], [1, 2, 3]]);
  const { Response } = await import('./response.ts');
  const res = new Response(ReadableStream.from(['x', 'y'].map((t) => new TextEncoder().encode(t))));
  const copy = res.clone();
  assert.deepEqual([await copy.text(), await res.text()], ['xy', 'xy']);
  let cancelled: unknown;
  const src = new ReadableStream<number>({ cancel: (r) => void (cancelled = r) });
  const [c, d] = src.tee();
  // (The first branch's cancel settles only once both are cancelled, as the spec says.)
  const first = c.cancel('one');
  await tick();
  assert.equal(cancelled, undefined);
  await Promise.all([first, d.cancel('two')]);
  assert.deepEqual(cancelled, ['one', 'two']);
});
