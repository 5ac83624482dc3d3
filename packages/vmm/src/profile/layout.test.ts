// layout.ts against arch/profile.h: a C program built from the header prints every offset,
// size and constant layout.ts names (gcc is part of the build), so a change on one side fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as layout from './layout.ts';

const arch = fileURLToPath(new URL('../../../../arch', import.meta.url));

test('layout.ts and arch/profile.h agree on every offset, size and constant', () => {
  const lines = [
    ...Object.keys(layout.DESC).map((f) => `P("DESC.${f}", offsetof(struct kiln_profile_desc, ${f}));`),
    ...Object.keys(layout.RING).map((f) => `P("RING.${f}", offsetof(struct kiln_profile_ring, ${f}));`),
    'P("DESC_SIZE", sizeof(struct kiln_profile_desc));',
    'P("SAMPLE_HEAD_SIZE", sizeof(struct kiln_sample_head));',
    'P("NATIVE_FRAME_SIZE", sizeof(struct kiln_native_frame));',
    'P("JS_FRAME_SIZE", sizeof(struct kiln_js_frame));',
    'P("RING_STRUCT", sizeof(struct kiln_profile_ring));',
    'P("SIZE_3_5", KILN_SAMPLE_SIZE(3, 5));',
    ...['KILN_PROFILE_MAGIC', 'KILN_PROFILE_VERSION', 'KILN_SAMPLE_MAX_NATIVE', 'KILN_SAMPLE_MAX_JS', 'KILN_SAMPLE_PAD', 'KILN_SAMPLE_IN_HOST', 'KILN_SAMPLE_JS_CUT', 'KILN_JS_BYTECODE', 'KILN_JS_CFUNCTION', 'KILN_JS_OTHER', 'KILN_RING_MAGIC', 'KILN_RING_HEADER'].map((c) => `P("${c}", ${c});`),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'kiln-profile-layout-'));
  try {
    writeFileSync(join(dir, 'p.c'), `#include <stdio.h>\n#include <stddef.h>\n#include "profile.h"\n#define P(n, v) printf("%s %llu\\n", n, (unsigned long long)(v))\nint main(void) {\n${lines.join('\n')}\nprintf("SYMBOL %s\\n", KILN_PROFILE_SYMBOL);\nreturn 0;\n}\n`);
    execFileSync('gcc', ['-I', arch, '-o', join(dir, 'p'), join(dir, 'p.c')]);
    const c = new Map(execFileSync(join(dir, 'p'), { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ') as [string, string]));
    const ts: Record<string, unknown> = layout;
    for (const [k, v] of c) {
      if (k === 'SYMBOL') assert.equal(layout.KILN_PROFILE_SYMBOL, v);
      else if (k.startsWith('DESC.')) assert.equal(layout.DESC[k.slice(5) as keyof typeof layout.DESC], Number(v), k);
      else if (k.startsWith('RING.')) assert.equal(layout.RING[k.slice(5) as keyof typeof layout.RING], Number(v), k);
      else if (k === 'RING_STRUCT') assert.equal(layout.KILN_RING_HEADER, Number(v), 'the ring header struct fills KILN_RING_HEADER');
      else if (k === 'SIZE_3_5') assert.equal(layout.sampleSize(3, 5), Number(v), k);
      else assert.equal(ts[k], Number(v), k);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
