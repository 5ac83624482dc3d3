// Blob, File, FormData and the multipart/form-data codec against Node's own (undici's) classes:
// random forms serialised by Kiln parse to the same entries with Node's Response.formData(), and
// Node's serialisations parse to the same entries with ours; Blob slicing and type rules, FormData
// operations in random order give Node's state; Request/Response bodies of every form kind; and
// hostile multipart bodies (truncated, no boundary, no name, junk) fail with a TypeError.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { Blob, File } from './blob.ts';
import './body_forms.ts';
import { FormData } from './form_data.ts';
import { boundaryOf, parseMultipart, serializeMultipart } from './multipart.ts';
import { Request } from './request.ts';
import { Response } from './response.ts';

const NodeBlob = globalThis.Blob;
const NodeFile = globalThis.File;
const NodeFormData = globalThis.FormData;
const NodeResponse = globalThis.Response;

type Entry = [string, string | { name: string; type: string; bytes: number[] }];

/** Entries of a FormData (ours or Node's) as plain data. */
async function plain(form: Iterable<[string, unknown]>): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const [k, v] of form) {
    if (typeof v === 'string') out.push([k, v]);
    else {
      const f = v as { name: string; type: string; arrayBuffer(): Promise<ArrayBuffer> };
      out.push([k, { name: f.name, type: f.type, bytes: [...new Uint8Array(await f.arrayBuffer())] }]);
    }
  }
  return out;
}

const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '"', '\r\n', '-', '=', ';', 'é', '€', '🙂', '%22', '\\'), maxLength: 12 });
const entry = fc.tuple(text, fc.oneof(
  text,
  // File names are not empty: undici leaves out filename="" (so its part reads back as a string); the HTML spec and browsers write it.
  fc.record({ name: text.filter((n) => n !== ''), type: fc.constantFrom('', 'text/plain', 'image/png', 'application/json'), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }) }),
));

test('forms serialised by Kiln parse the same with Node (undici), and Node\'s with Kiln', async () => {
  await fc.assert(fc.asyncProperty(fc.array(entry, { maxLength: 6 }), async (entries) => {
    const ours = new FormData();
    const node = new NodeFormData();
    for (const [k, v] of entries) {
      if (typeof v === 'string') {
        ours.append(k, v);
        node.append(k, v);
      } else {
        ours.append(k, new File([new Uint8Array(v.bytes)], v.name, { type: v.type }));
        node.append(k, new NodeFile([new Uint8Array(v.bytes)], v.name, { type: v.type }));
      }
    }
    // Kiln → Node
    const res = new Response(ours);
    const type = res.headers.get('content-type')!;
    const viaNode = await new NodeResponse(await res.arrayBuffer(), { headers: { 'content-type': type } }).formData();
    // Node → Kiln
    const nodeRes = new NodeResponse(node);
    const viaKiln = await new Response(new Uint8Array(await nodeRes.arrayBuffer()), { headers: { 'content-type': nodeRes.headers.get('content-type')! } }).formData();
    const want = await plain(node as unknown as Iterable<[string, unknown]>);
    // Both sides normalise line breaks in names and string values; files default to octet-stream on the wire.
    assert.deepEqual(await plain(viaNode as unknown as Iterable<[string, unknown]>), await plain(viaKiln));
    assert.equal((await plain(viaKiln)).length, want.length);
  }), { numRuns: 60 });
});

test('blob: parts, types, slices and reads', async () => {
  const b = new Blob(['ab', new Uint8Array([0x63]), new Blob(['d€'])], { type: 'Text/Plain;Charset=UTF-8' });
  assert.equal(b.size, 7);
  assert.equal(b.type, 'text/plain;charset=utf-8');
  assert.equal(await b.text(), 'abcd€');
  assert.equal(new Blob([], { type: 'bad\u0001type' }).type, '');
  for (const [s, e] of [[1, 3], [-3, undefined], [5, 2], [undefined, -1], [-100, 100]] as [number | undefined, number | undefined][]) {
    assert.deepEqual([...new Uint8Array(await b.slice(s, e).arrayBuffer())], [...new Uint8Array(await new NodeBlob(['ab', new Uint8Array([0x63]), new NodeBlob(['d€'])]).slice(s, e).arrayBuffer())], `slice(${s}, ${e})`);
  }
  assert.equal(b.slice(0, 2, 'X/Y').type, 'x/y');
  assert.equal(await new Blob(['a\r\nb\rc'], { endings: 'native' }).text(), 'a\nb\nc');
  const chunks: Uint8Array[] = [];
  for await (const c of b.stream()) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString(), 'abcd€');
  assert.equal(Object.prototype.toString.call(b), '[object Blob]');
  assert.throws(() => new Blob('abc' as unknown as BlobPart[]), TypeError);
  const f = new File(['x'], 'a.txt', { type: 'text/plain', lastModified: 42 });
  assert.deepEqual([f.name, f.lastModified, f.size, f instanceof Blob, Object.prototype.toString.call(f)], ['a.txt', 42, 1, true, '[object File]']);
});
type BlobPart = import('./blob.ts').BlobPart;

test('form data operations match Node under random sequences', async () => {
  const name = fc.constantFrom('a', 'b', 'c');
  const op = fc.oneof(
    fc.tuple(fc.constant('append'), name, fc.string({ maxLength: 3 })), fc.tuple(fc.constant('set'), name, fc.string({ maxLength: 3 })),
    fc.tuple(fc.constant('appendBlob'), name, fc.constantFrom(undefined, 'f.bin')), fc.tuple(fc.constant('delete'), name, fc.constant('')),
  );
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 10 }), async (ops) => {
    const ours = new FormData();
    const node = new NodeFormData();
    for (const [o, n, v] of ops) {
      if (o === 'append') (ours.append(n, v!), node.append(n, v!));
      else if (o === 'set') (ours.set(n, v!), node.set(n, v!));
      else if (o === 'delete') (ours.delete(n), node.delete(n));
      // (Node names a Blob appended with an explicit `undefined` filename "undefined"; WebIDL and browsers say "blob".)
      else if (v === undefined) (ours.append(n, new Blob(['z'])), node.append(n, new NodeBlob(['z'])));
      else (ours.append(n, new Blob(['z']), v), node.append(n, new NodeBlob(['z']), v));
      assert.deepEqual([ours.has('a'), ours.getAll('b').length, typeof ours.get('c')], [node.has('a'), node.getAll('b').length, typeof node.get('c')]);
    }
    assert.deepEqual(await plain(ours), await plain(node as unknown as Iterable<[string, unknown]>));
  }));
});

test('bodies: FormData, Blob and url-encoded forms through Request and Response', async () => {
  const form = new FormData();
  form.append('name', 'Ada');
  form.append('file', new Blob(['%PDF'], { type: 'application/pdf' }), 'doc.pdf');
  const req = new Request('http://x/', { method: 'POST', body: form });
  assert.match(req.headers.get('content-type')!, /^multipart\/form-data; boundary=----formdata-kiln-[0-9a-f]{24}$/);
  const back = await req.formData();
  assert.equal(back.get('name'), 'Ada');
  const file = back.get('file') as File;
  assert.deepEqual([file.name, file.type, await file.text()], ['doc.pdf', 'application/pdf', '%PDF']);
  const blobRes = new Response(new Blob(['{"a":1}'], { type: 'application/json' }));
  assert.equal(blobRes.headers.get('content-type'), 'application/json');
  const blob = await blobRes.blob();
  assert.deepEqual([blob.type, await blob.text()], ['application/json', '{"a":1}']);
  const urlencoded = await new Response('a=1&b=two+words&a=%E2%82%AC', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData();
  assert.deepEqual(await plain(urlencoded), [['a', '1'], ['b', 'two words'], ['a', '€']]);
  await assert.rejects(new Response('x', { headers: { 'content-type': 'text/plain' } }).formData(), /neither multipart\/form-data nor application\/x-www-form-urlencoded/);
});

test('hostile multipart bodies fail with a TypeError naming the fault', async () => {
  const b = 'BOUND';
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const good = `--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${b}--\r\n`;
  assert.equal(parseMultipart(enc(good), b).get('a'), '1');
  assert.equal(parseMultipart(enc(`preamble\r\n${good}epilogue`), b).get('a'), '1');
  for (const [body, why] of [
    ['', /no "--BOUND" delimiter/],
    [`--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1`, /ends inside a part/],
    [`--${b}\r\nContent-Disposition: form-data; name="a"\r\n1\r\n--${b}--`, /no end of headers/],
    [`--${b}\r\nContent-Type: text/plain\r\n\r\n1\r\n--${b}--`, /no "Content-Disposition: form-data"/],
    [`--${b}\r\nContent-Disposition: form-data\r\n\r\n1\r\n--${b}--`, /no name/],
    [`--${b}junk\r\n`, /not followed by CRLF/],
    [`--${b}\r\nno colon\r\n\r\n--${b}--`, /bad part header/],
  ] as [string, RegExp][]) {
    assert.throws(() => parseMultipart(enc(body), b), (e: unknown) => e instanceof TypeError && why.test((e as Error).message), JSON.stringify(body));
  }
  await assert.rejects(new Response('x', { headers: { 'content-type': 'multipart/form-data' } }).formData(), /without a boundary/);
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), 'a b');
  // Random bytes never throw anything but a TypeError, and never hang.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
    const body = new Uint8Array([...enc(`--${b}\r\n`), ...junk]);
    try {
      parseMultipart(body, b);
    } catch (e) {
      assert.ok(e instanceof TypeError, String(e));
    }
  }));
  assert.ok(serializeMultipart(new FormData(), b).length > 0);
});
