// arch/profile_capture.h, the one sample walk of both samplers, built with AddressSanitizer by
// arch/test/profile_capture_test.c (gcc is part of the build): a fake guest with known frames
// comes out of the ring (ring.ts) as those frames and, named (sample_frames.ts), as the stack
// kmain → two JavaScript functions → a C function; random guest RAM and descriptors never make
// it read outside RAM (ASan aborts the program) and always leave a well-formed ring.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runs, seed } from '@kiln/common/testing/property.ts';
import { ProfileRing, type SampleRecord } from './ring.ts';
import { ImageSymbols } from './image_symbols.ts';
import { sampleFrames } from './sample_frames.ts';
import { KILN_JS_BYTECODE, KILN_JS_CFUNCTION, KILN_SAMPLE_IN_HOST } from './layout.ts';

const arch = fileURLToPath(new URL('../../../../arch', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kiln-capture-'));
const exe = join(dir, 'capture');
execFileSync('gcc', ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-g', '-I', arch, '-o', exe, join(arch, 'test/profile_capture_test.c')]);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function drain(bytes: Uint8Array): SampleRecord[] {
  const out: SampleRecord[] = [];
  const ring = new ProfileRing(new Uint8Array(bytes), false);
  ring.drain((r) => out.push(r));
  assert.equal(ring.broken, undefined);
  return out;
}

test('a known guest: its native and JavaScript frames, and the stack they make', () => {
  const [inGuest, inHost] = drain(execFileSync(exe, ['frames']));
  const B = 0x100000;
  assert.deepEqual(inGuest!.native, [
    { pc: 0x100abc, fp: B + 0x30000 }, { pc: 0x101234, fp: B + 0x30100 }, { pc: 0x105678, fp: B + 0x30200 }, { pc: 0x109abc, fp: 0 },
  ]);
  assert.deepEqual(inGuest!.js, [
    { sf: B + 0x2ff80, ptr: 0x30000, kind: KILN_JS_CFUNCTION },
    { sf: B + 0x30080, ptr: 0x20001, kind: KILN_JS_BYTECODE },
    { sf: B + 0x30180, ptr: 0x20002, kind: KILN_JS_BYTECODE },
  ]);
  assert.equal(inGuest!.timeNs, 42n);
  assert.equal(inGuest!.flags & KILN_SAMPLE_IN_HOST, 0);
  assert.equal(inHost!.flags & KILN_SAMPLE_IN_HOST, KILN_SAMPLE_IN_HOST);
  const symbols = new ImageSymbols([
    { address: 0x100a00, size: 0x200, name: 'js_array_push' },
    { address: 0x101000, size: 0x5000, name: 'JS_CallInternal' },
    { address: 0x109a00, size: 0x200, name: 'kmain' },
  ]);
  const namer = {
    symbols, textLo: 0x100000, textHi: 0x200000,
    jsFunction: (ptr: number) => ({ name: ptr === 0x20001 ? 'inner' : 'outer', file: 'main.js', line: ptr - 0x20000 }),
    jsLocation: (fn: { file?: string; line?: number }) => `${fn.file}:${fn.line}`,
  };
  assert.deepEqual(sampleFrames(inGuest!, namer).map((f) => `${f.kind}:${f.name}${f.location ? `@${f.location}` : ''}`),
    ['native:kmain', 'js:outer@main.js:2', 'js:inner@main.js:1', 'native:js_array_push']);
  assert.deepEqual(sampleFrames(inHost!, namer)[3], { name: '[host]', kind: 'host' });
});

test(`random guest RAM never reads outside it (seed ${seed})`, () => {
  const n = runs(20_000);
  const [taken, dropped] = execFileSync(exe, ['fuzz', String(seed), String(n)], { encoding: 'utf8' }).trim().split(' ').map(Number);
  assert.equal(taken! + dropped!, n, `KILN_SEED=${seed}: every sample is written or counted dropped`);
});
