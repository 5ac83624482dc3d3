// E2E: kiln build's bundler conventions (packages/cli/src/build.ts) on real npm packages. A fixture
// app in a temporary directory imports packages from the repository's node_modules — debug (its
// browser build, chosen by the browser field; process.env.DEBUG through the process global), ms,
// safe-buffer and string_decoder (which require the `buffer` built-in), node:crypto, node:assert and
// node:assert/strict — and two small packages the test writes: one that picks its build by
// process.env.NODE_ENV as React does, one written for Node (events, path, util, a callable
// require('assert'), the Buffer global, process.nextTick, setImmediate); node:stream
// (pipeline, for await over Readable.from, the toWeb/fromWeb bridges). The image
// boots on every available VMM/accelerator and must print what the same script prints on host
// Node. Needs arch/build (make -C arch).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, ROOT, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-e2e-bundler-'));
const image = join(dir, 'app.elf');

const files: Record<string, string> = {
  'main.mjs': `import createDebug from 'debug';
import ms from 'ms';
import { Buffer as SafeBuffer } from 'safe-buffer';
import { StringDecoder } from 'string_decoder';
import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import path from 'node:path';
import { format, inspect, promisify, types, isDeepStrictEqual } from 'node:util';
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import assert, { AssertionError, deepStrictEqual } from 'node:assert';
import strictAssert from 'node:assert/strict';
import { Readable, Transform, Writable, pipeline } from 'node:stream';
import { finished } from 'node:stream/promises';
import build from 'envpkg';
import nodeish from 'nodeish';

const log = [];
const debug = createDebug('app');
console.log('debug enabled for app:', debug.enabled, 'for other:', createDebug('other').enabled);
console.log('ms:', ms(90000), ms('2h'), ms(1500, { long: true }));
console.log('safe-buffer:', SafeBuffer.from('kiln').toString('hex'), SafeBuffer.alloc(3).length);
const d = new StringDecoder('utf8');
console.log('string_decoder:', d.write(Buffer.from([0xe2, 0x82])) + d.write(Buffer.from([0xac])) + d.end());
const e = new EventEmitter();
e.once('ping', (v) => log.push('ping ' + v));
e.emit('ping', 1);
e.emit('ping', 2);
console.log('events:', log.join(','), e.listenerCount('ping'));
const b = Buffer.from('héllo wörld');
console.log('buffer:', b.toString('base64'), b.subarray(1, 3).toString('hex'), Buffer.concat([b, Buffer.from([255])]).readUInt16LE(b.length - 1), Buffer.byteLength('€'));
console.log('path:', path.join('/a/b', '../c', './d.txt'), path.basename('/x/y.tar.gz', '.gz'), path.extname('y.tar.gz'), path.relative('/a/b/c', '/a/d'), path.normalize('/a//b/../c/'), path.parse('/h/f.txt').name);
console.log('util:', format('%s=%d %j %O', 'n', 42, { a: [1] }, [2]), inspect({ deep: { er: { est: 1 } } }, { depth: 0 }), types.isPromise(Promise.resolve()), types.isUint8Array(b), isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
console.log('crypto:', createHash('sha256').update('kiln').digest('hex'), createHmac('sha1', 'key').update(b).digest('base64'), randomBytes(20).length, randomUUID().length, timingSafeEqual(Buffer.from('a'), Buffer.from('a')));
const caught = (f, message = true) => { try { f(); return 'no throw'; } catch (err) { return [err.name, err.code, err.operator, err.generatedMessage, err instanceof AssertionError, message ? JSON.stringify(err.message) : ''].join(' '); } };
assert.strictEqual(1 + 1, 2);
assert(typeof assert.ok === 'function' && assert.ok === assert);
deepStrictEqual(new Map([[{ k: [1, NaN] }, new Set(['a', { b: 2 }])]]), new Map([[{ k: [1, NaN] }, new Set([{ b: 2 }, 'a'])]]));
assert.throws(() => { throw new TypeError('bad input'); }, { name: 'TypeError', message: /bad/ });
console.log('assert:', caught(() => assert.strictEqual(1, 2)), '|', caught(() => strictAssert.equal(1, '1')), '|', caught(() => assert.deepEqual(1, '1')), '|', caught(() => deepStrictEqual(new Map([[1, { a: 1 }]]), new Map([[1, { a: 2 }]])), false), '|', caught(() => assert.throws(() => {}), true), '|', caught(() => strictAssert.deepEqual([0], [-0]), false));
assert.rejects(async () => { throw new RangeError('late'); }, RangeError).then(() => console.log('assert.rejects: ok'));
const twice = promisify((x, cb) => setTimeout(() => cb(null, x * 2), 1));
console.log('NODE_ENV:', process.env.NODE_ENV, 'envpkg build:', build);
console.log('args:', process.argv.slice(2).join(' '));
async function streams() {
  const out = [];
  const upper = new Transform({ transform(chunk, enc, cb) { cb(null, chunk.toString().toUpperCase()); } });
  const sink = new Writable({ write(chunk, enc, cb) { out.push(chunk.toString()); cb(); } });
  await new Promise((resolve, reject) => pipeline(Readable.from(['kiln ', 'streams']), upper, sink, (err) => (err ? reject(err) : resolve())));
  const items = [];
  for await (const x of Readable.from([1, 2, 3])) items.push(x * 10);
  const web = Readable.toWeb(Readable.from([Buffer.from('we'), Buffer.from('b')]));
  const back = [];
  for await (const c of Readable.fromWeb(web, { encoding: 'utf8' })) back.push(c);
  const collected = [];
  const w = Writable.fromWeb(new WritableStream({ write(c) { collected.push(new TextDecoder().decode(c)); } }));
  w.end('to web');
  await finished(w);
  console.log('stream:', out.join('|'), items.join(','), back.join(''), collected.join(''), web instanceof ReadableStream);
}
twice(21).then((v) => console.log('promisify:', v)).then(streams).then(nodeish).then((v) => console.log('nodeish:', v));
`,
  'node_modules/envpkg/package.json': JSON.stringify({ name: 'envpkg', main: 'index.js' }),
  'node_modules/envpkg/index.js': `if (process.env.NODE_ENV === 'production') module.exports = require('./prod.js');\nelse module.exports = require('./dev.js');\n`,
  'node_modules/envpkg/prod.js': `module.exports = 'production build';\n`,
  'node_modules/envpkg/dev.js': `module.exports = 'development build (must not be bundled)';\n`,
  'node_modules/nodeish/package.json': JSON.stringify({ name: 'nodeish', main: 'index.js' }),
  'node_modules/nodeish/index.js': `const EventEmitter = require('events');
const util = require('util');
const { join } = require('path');
const assert = require('assert');
class Queue extends EventEmitter {}
module.exports = () => new Promise((resolve) => {
  const q = new Queue();
  const order = [];
  q.on('item', (x) => order.push(x));
  setImmediate(() => { assert(order.length === 2, 'sync and tick first'); assert.deepStrictEqual(order, ['sync', 'tick']); order.push('immediate'); resolve(util.format('%s %s %s', order.join('>'), join('a', 'b'), Buffer.from('ok').toString('base64'))); });
  process.nextTick(() => q.emit('item', 'tick'));
  q.emit('item', 'sync');
});
`,
};

/** The script's output on host Node, in the environment the guest gets. */
function onHost(): string {
  const r = spawnSync(process.execPath, [join(dir, 'main.mjs'), 'one', 'two'], {
    encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DEBUG: 'app' },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('bundler conventions on real npm packages', { skip: coreSkip() }, () => {
  let expected = '';
  before(async () => {
    for (const [path, contents] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), contents);
    }
    for (const pkg of ['debug', 'ms', 'safe-buffer', 'string_decoder']) symlinkSync(join(ROOT, 'node_modules', pkg), join(dir, 'node_modules', pkg));
    expected = onHost();
    const r = await kiln(['build', join(dir, 'main.mjs'), '-o', image]);
    assert.equal(r.code, 0, `kiln build failed: ${r.stderr}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the host prints what the test expects (the fixture is sound)', () => {
    assert.match(expected, /^debug enabled for app: true for other: false\n/);
    assert.match(expected, /NODE_ENV: production envpkg build: production build\n/);
    assert.match(expected, /\nstream: KILN \|STREAMS 10,20,30 web to web true\n/);
    assert.match(expected, /\nnodeish: sync>tick>immediate a\/b b2s=\n$/);
  });

  test('the development build that NODE_ENV rules out is not in the image', () => {
    const bytes = readFileSync(image).toString('latin1');
    assert.ok(bytes.includes('production build'));
    assert.ok(!bytes.includes('must not be bundled'));
  });

  for (const t of targets()) {
    test(`the guest prints what host Node prints (${t.name})`, { skip: t.skip }, async (c) => {
      c.diagnostic(t.name);
      const r = await kiln(['run', image, ...t.flags, '--env', 'DEBUG=app', '--', 'one', 'two']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.replace(/\r/g, ''), expected);
    });
  }
});
