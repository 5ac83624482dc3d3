// A flame graph of a profile as one self-contained SVG file, laid out like Brendan Gregg's
// flamegraph.pl: the root ("all") at the bottom, each frame above its caller, identical frames
// under one caller merged into one box as wide as its share of the samples, siblings in label
// order (so x is not time). A box's <title> is its tooltip; its text is cut to fit. Colours
// tell the kind: JavaScript warm, native blue, host grey, the shade fixed by the function's name.
// No script: it reads the same in a browser, an image viewer and rsvg-convert.

import { frameLabel, percent, profileSummary, type Frame, type Profile } from './profile.ts';

interface Node {
  /** undefined for the root. */
  readonly frame: Frame | undefined;
  readonly label: string;
  count: number;
  readonly children: Map<string, Node>;
}

const PAD = 10;
const HEADER = 56;
const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
/** Advance of one character of the monospace font: 0.6 em. */
const CHAR_WIDTH = FONT_SIZE * 0.6;
/** Boxes narrower than this are left out, with everything above them. */
const MIN_WIDTH = 0.1;
const BACKGROUND = 'rgb(248,248,248)';
const ROOT_FILL = 'rgb(210,210,210)';

/** The SVG text. Default title "Kiln profile", default width 1200 px. */
export function flameGraphSvg(p: Profile, opts: { title?: string; width?: number } = {}): string {
  const width = opts.width ?? 1200;
  const heading = [
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="17">${xml(opts.title ?? 'Kiln profile')}</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle">${xml(`${profileSummary(p)}; stopped: ${p.stopped}`)}</text>`,
  ];
  if (p.samples === 0) {
    const message = `<text x="${width / 2}" y="${HEADER + 20}" text-anchor="middle">${xml(`No samples were taken before sampling ended (${p.stopped}).`)}</text>`;
    return document(width, HEADER + 40, [...heading, message]);
  }
  const boxes = layout(tree(p), (width - 2 * PAD) / p.samples);
  const height = HEADER + (boxes.reduce((max, b) => Math.max(max, b.depth), 0) + 1) * FRAME_HEIGHT + PAD;
  const body = boxes.map(({ node, x, w, depth }) => {
    const y = height - PAD - (depth + 1) * FRAME_HEIGHT;
    const tip = `${node.label} — ${node.count} ${node.count === 1 ? 'sample' : 'samples'}, ${percent(node.count, p)}`;
    const text = fitted(node.label, w);
    return (
      `<g><title>${xml(tip)}</title>` +
      `<rect x="${(PAD + x).toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${FRAME_HEIGHT - 1}" rx="2" fill="${fill(node.frame)}"/>` +
      (text === '' ? '' : `<text x="${(PAD + x + 3).toFixed(2)}" y="${y + FRAME_HEIGHT - 4}">${xml(text)}</text>`) +
      '</g>'
    );
  });
  return document(width, height, [...heading, ...body]);
}

function document(width: number, height: number, content: string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${FONT_SIZE}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="${BACKGROUND}"/>`,
    ...content,
    '</svg>',
    '',
  ].join('\n');
}

/** The stacks merged into one tree: a frame is one node per caller, by kind and label. */
function tree(p: Profile): Node {
  const root: Node = { frame: undefined, label: 'all', count: 0, children: new Map() };
  for (const s of p.stacks) {
    root.count += s.count;
    let node = root;
    for (const frame of s.frames) {
      const label = frameLabel(frame);
      const key = `${frame.kind} ${label}`;
      let child = node.children.get(key);
      if (child === undefined) node.children.set(key, (child = { frame, label, count: 0, children: new Map() }));
      child.count += s.count;
      node = child;
    }
  }
  return root;
}

/** The boxes at least MIN_WIDTH wide, x and w in px from the left margin; iterative, as stacks can be deep. */
function layout(root: Node, pxPerSample: number): { node: Node; x: number; w: number; depth: number }[] {
  const boxes = [];
  const todo = [{ node: root, x: 0, depth: 0 }];
  for (let item = todo.pop(); item !== undefined; item = todo.pop()) {
    const w = item.node.count * pxPerSample;
    if (w < MIN_WIDTH) continue;
    boxes.push({ ...item, w });
    let x = item.x;
    for (const child of [...item.node.children.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))) {
      todo.push({ node: child, x, depth: item.depth + 1 });
      x += child.count * pxPerSample;
    }
  }
  return boxes;
}

/** As much of `label` as fits in a box `w` px wide ('..' marks a cut); '' under 3 characters. */
function fitted(label: string, w: number): string {
  const room = Math.floor((w - 6) / CHAR_WIDTH);
  if (room < 3) return '';
  const chars = [...label];
  return chars.length <= room ? label : chars.slice(0, room - 2).join('') + '..';
}

/** The box colour: a palette per kind, the shade from a hash of the name (FNV-1a). */
function fill(frame: Frame | undefined): string {
  if (frame === undefined) return ROOT_FILL;
  let h = 0x811c9dc5;
  for (let i = 0; i < frame.name.length; i++) h = Math.imul(h ^ frame.name.charCodeAt(i), 0x01000193);
  const [a, b, c] = [(h & 0xff) / 255, ((h >>> 8) & 0xff) / 255, ((h >>> 16) & 0xff) / 255];
  const rgb = (r: number, g: number, bl: number) => `rgb(${Math.round(r)},${Math.round(g)},${Math.round(bl)})`;
  switch (frame.kind) {
    case 'js': return rgb(205 + 50 * a, 60 + 170 * b, 55 * c);
    case 'native': return rgb(90 + 60 * a, 140 + 60 * b, 205 + 50 * c);
    case 'host': return rgb(150 + 50 * a, 150 + 50 * a, 150 + 50 * a);
  }
}

const ENTITY: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

/** `s` as XML character data or attribute value: markup escaped, characters XML 1.0 forbids as U+FFFD. */
function xml(s: string): string {
  return s
    .replace(/[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[<>&"']/g, (c) => ENTITY[c]!);
}
