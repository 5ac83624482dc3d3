// The flame graph SVG: well-formed XML (a small checker below: one root, nesting, quoted
// attributes, entities, no character XML forbids) for a hand-made profile with hostile names and
// for any profile (property, seeded by @kiln/common/testing/property.ts: KILN_SEED); merging,
// tooltips, cut labels, boxes under 0.1 px left out, zero samples; and rendered headless by
// rsvg-convert (Debian librsvg2-bin): the PNG's size is the SVG's, and its pixels show the
// background, the root bar at the bottom and more colours besides.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { flameGraphSvg } from './flame_graph.ts';
import type { Frame, FrameKind, Profile, StackCount } from './profile.ts';

function profileOf(stacks: StackCount[]): Profile {
  const samples = stacks.reduce((n, s) => n + s.count, 0);
  return { platform: 'process', hz: 99, durationMs: 1500, samples, dropped: 1, stacks, stopped: 'the guest exited with code 0' };
}

const main: Frame = { name: 'main', location: 'app.ts:1', kind: 'js' };
const fib: Frame = { name: 'fib', location: 'app.ts:3', kind: 'js' };
const hostile: Frame = { name: `<b>&"quoted" 'x' ünïcødé 🙂\u0001`, kind: 'native' };
const wait: Frame = { name: 'wait', kind: 'host' };
const profile = profileOf([
  { frames: [main, fib, fib], count: 40 },
  { frames: [main, fib, hostile], count: 30 },
  { frames: [main], count: 10 },
  { frames: [wait], count: 20 },
]);

const FORBIDDEN = /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const BARE_AMPERSAND = /&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;
const NAME = '[A-Za-z_][\\w.:-]*';
const TOKEN = new RegExp(`(<\\?xml[^>]*\\?>)|<!--(?:(?!--)[^])*-->|</(${NAME})\\s*>|<(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>|([^<]+)`, 'y');
const ATTRIBUTE = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g');

function checkText(s: string, where: string): void {
  assert.doesNotMatch(s, FORBIDDEN, `a character XML forbids in ${where}`);
  assert.doesNotMatch(s, BARE_AMPERSAND, `a bare & in ${where}`);
}

/** Fails unless `doc` is well-formed XML with one root element. */
function assertWellFormed(doc: string): void {
  const open: string[] = [];
  let roots = 0;
  for (let at = 0; at < doc.length; at = TOKEN.lastIndex) {
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(doc);
    assert.ok(m, `not well-formed at offset ${at}: ${JSON.stringify(doc.slice(at, at + 60))}`);
    const [, declaration, close, name, attributes, empty, text] = m;
    if (declaration !== undefined) assert.equal(at, 0, 'the XML declaration comes first');
    else if (close !== undefined) assert.equal(open.pop(), close, `</${close}> at offset ${at} closes another element`);
    else if (name !== undefined) {
      if (open.length === 0) roots++;
      const seen = new Set<string>();
      for (const [, attr, dq, sq] of attributes!.matchAll(ATTRIBUTE)) {
        assert.ok(!seen.has(attr!), `attribute ${attr} twice at offset ${at}`);
        seen.add(attr!);
        checkText(dq ?? sq!, `attribute ${attr} at offset ${at}`);
      }
      if (empty === '') open.push(name);
    } else {
      if (open.length === 0) assert.match(text!, /^\s*$/, 'text outside the root element');
      checkText(text!, `text at offset ${at}`);
    }
  }
  assert.deepEqual(open, [], 'elements left open');
  assert.equal(roots, 1, 'one root element');
}

const titles = (svg: string) => [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);

test('well-formed, escaped, one box per merged frame with its tooltip, root at the bottom', () => {
  const svg = flameGraphSvg(profile, { title: 'fib & <friends>', width: 800 });
  assertWellFormed(svg);
  assert.match(svg, /^<\?xml[^>]*\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="800" height="\d+"/);
  assert.match(svg, />fib &amp; &lt;friends&gt;<\/text>/);
  assert.match(svg, />process, 99 Hz, 1.50 s, 100 samples, 1 dropped; stopped: the guest exited with code 0<\/text>/);
  assert.deepEqual(titles(svg).sort(), [
    '&lt;b&gt;&amp;&quot;quoted&quot; &apos;x&apos; ünïcødé 🙂\ufffd — 30 samples, 30.0%',
    'all — 100 samples, 100.0%',
    'fib (app.ts:3) — 40 samples, 40.0%',
    'fib (app.ts:3) — 70 samples, 70.0%',
    'main (app.ts:1) — 80 samples, 80.0%',
    'wait — 20 samples, 20.0%',
  ]);
  assert.equal(svg.match(/<rect /g)!.length, 1 + 6, 'the background and one box per node');
  const box = (label: string) => new RegExp(`<title>${label} — [^<]*</title><rect x="([\\d.]+)" y="(\\d+)" width="([\\d.]+)"`).exec(svg)!.slice(1).map(Number);
  const [allX, allY, allW] = box('all');
  const [, mainY, mainW] = box('main \\(app.ts:1\\)');
  assert.deepEqual([allX, allW], [10, 780]);
  assert.ok(mainY! < allY!, 'a callee above its caller');
  assert.equal(mainW, 624, '80% of the root');
});

test('labels cut to fit, none under 3 characters, boxes under 0.1 px left out', () => {
  const long: Frame = { name: 'a_function_with_a_very_long_name_indeed', kind: 'native' };
  const svg = flameGraphSvg(profileOf([{ frames: [long], count: 60 }, { frames: [fib], count: 39_940 }, { frames: [wait, main], count: 1 }]), { width: 200 });
  assertWellFormed(svg);
  assert.match(svg, /<title>a_function_with[^<]*<\/title><rect [^>]*\/><\/g>/, 'a 0.27 px box: no text');
  assert.doesNotMatch(svg, /<title>(wait|main)/, 'a 0.005 px box is left out, with its callees');
  assert.match(svg, /<title>fib \(app.ts:3\)[^<]*<\/title><rect [^>]*\/><text [^>]*>fib \(app.ts:3\)<\/text>/);
  const narrow = flameGraphSvg(profileOf([{ frames: [long], count: 1 }]), { width: 150 });
  assert.match(narrow, /<text [^>]*>a_function_with\.\.<\/text>/, '130 px hold 17 characters');
});

test('zero samples: a valid SVG that says so', () => {
  const svg = flameGraphSvg({ ...profileOf([]), durationMs: 2, stopped: 'the guest exited with code 3' });
  assertWellFormed(svg);
  assert.match(svg, />No samples were taken before sampling ended \(the guest exited with code 3\)\.<\/text>/);
  assert.doesNotMatch(svg, /<title>/);
});

const kind = fc.constantFrom<FrameKind>('js', 'native', 'host');
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", ';', ']]>', '\n', '\0', '\ud800', 'é', ' '), maxLength: 6 }));
const frame = fc.record({ name: text, location: fc.option(text, { nil: undefined }), kind });
const stacks = fc.array(fc.record({ frames: fc.array(frame, { minLength: 1, maxLength: 8 }), count: fc.integer({ min: 1, max: 10_000 }) }), { maxLength: 12 });

test('any profile gives well-formed XML whose root holds every sample', () => {
  fc.assert(
    fc.property(stacks, fc.integer({ min: 100, max: 2000 }), (s, width) => {
      const p = profileOf(s);
      const svg = flameGraphSvg(p, { width });
      assertWellFormed(svg);
      if (p.samples > 0) assert.ok(titles(svg).includes(`all — ${p.samples} ${p.samples === 1 ? 'sample' : 'samples'}, 100.0%`));
    }),
  );
});

/** The PNG's size and its pixels as 0xRRGGBBAA, rows top down (8-bit RGB or RGBA, not interlaced). */
function decodePng(png: Buffer): { width: number; height: number; pixel: (x: number, y: number) => number; colours: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let ihdr: Buffer | undefined;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; at += 12 + png.readUInt32BE(at)) {
    const data = png.subarray(at + 8, at + 8 + png.readUInt32BE(at));
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
  }
  assert.ok(ihdr, 'an IHDR chunk');
  const [width, height, depth, colourType, interlace] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9], ihdr[12]];
  assert.ok(depth === 8 && (colourType === 2 || colourType === 6) && interlace === 0, `8-bit RGB(A), not interlaced (depth ${depth}, colour type ${colourType}, interlace ${interlace})`);
  const bpp = colourType === 6 ? 4 : 3;
  const stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (stride + 1), 'scanline bytes');
  // Undo each scanline's filter (PNG spec, section 9): None, Sub, Up, Average, Paeth.
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[y * stride + i - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = i >= bpp && y > 0 ? out[(y - 1) * stride + i - bpp]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter!];
      assert.ok(predicted !== undefined, `scanline ${y}: filter ${filter}`);
      out[y * stride + i] = (raw[y * (stride + 1) + 1 + i]! + predicted) & 0xff;
    }
  }
  const pixel = (x: number, y: number) => {
    const o = y * stride + x * bpp;
    return ((out[o]! << 24) | (out[o + 1]! << 16) | (out[o + 2]! << 8) | (bpp === 4 ? out[o + 3]! : 0xff)) >>> 0;
  };
  const colours = new Set<number>();
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) colours.add(pixel(x, y));
  return { width, height, pixel, colours: colours.size };
}

test('rsvg-convert renders it: the SVG size, background, root bar at the bottom, many colours', (t) => {
  const svg = flameGraphSvg(profile, { title: 'render check', width: 640 });
  const r = spawnSync('rsvg-convert', ['--format', 'png'], { input: svg, maxBuffer: 64 << 20 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    t.skip('rsvg-convert is not installed (Debian package librsvg2-bin, which scripts/setup.sh installs): the SVG was not rendered');
    return;
  }
  assert.equal(r.status, 0, `rsvg-convert failed: ${r.error ?? r.stderr}`);
  const png = decodePng(r.stdout);
  assert.deepEqual([png.width, png.height], [640, Number(/<svg [^>]*height="(\d+)"/.exec(svg)![1])]);
  const [x, y, w, h] = /<title>all — [^<]*<\/title><rect x="([\d.]+)" y="(\d+)" width="([\d.]+)" height="(\d+)"/.exec(svg)!.slice(1).map(Number);
  assert.equal(y! + h!, png.height - 11, 'the root bar sits at the bottom, above the margin');
  assert.equal(png.pixel(2, 2).toString(16), 'f8f8f8ff', 'background in the corner');
  assert.equal(png.pixel(Math.round(x! + w! * 0.75), Math.round(y! + h! / 2)).toString(16), 'd2d2d2ff', 'root colour inside the root bar, right of its label');
  assert.ok(png.colours >= 5, `${png.colours} colours: background, boxes of three kinds, text`);
});
