// functionNamesOf over bundle-shaped code (what esbuild emits with keepNames: classes bound to
// renamed variables and named by `static { __name(this, "X") }`, arrows wrapped in `__name`, field
// arrows assigned in constructors): which functions get a name, which are left to the engine,
// the line each is keyed by, and that the first function on a line wins. Also over a real bundle.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { functionNamesOf } from './function_names.ts';
import { bundle } from './build.ts';
import { formatFunctionName } from '@kiln/common/image/function_names.ts';
import { fileURLToPath } from 'node:url';

const src = `var Conn2 = class {
  constructor(host) {
    this.host = host;
    this.onFrame = /* @__PURE__ */ __name((frame) => {
      this.count++;
    }, "onFrame");
    this.onSent = () => this.count--;
  }
  static {
    __name(this, "Conn");
  }
  get room() {
    return 1;
  }
  set room(v) {
    this.r = v;
  }
  async serve() {
    await 0;
  }
  #secret() {
    return 2;
  }
  static make() {
    return new Conn2();
  }
  ["computed" + 1]() {
    return 3;
  }
};
function declared() {
  return 4;
}
const arrow = (x) =>
  x + 1;
const obj = { write(frame) {
    return frame;
  }, read: function () {
    return 5;
  } };
exports.handler = function () {
  return 6;
};
class Plain { run() {
    return 7; } }
const a = () => 1, b = () => 2;
`;

test('functionNamesOf: methods, accessors, field and variable arrows, object members; engine-named and computed ones left out', () => {
  const got = functionNamesOf(src).map((n) => `${n.line} ${formatFunctionName(n)}`);
  assert.deepEqual(got, [
    '3 Conn.constructor',
    '5 Conn.onFrame',
    '7 Conn.onSent',
    '13 get Conn.room',
    '16 set Conn.room',
    '19 Conn.serve',
    '22 Conn.#secret',
    '25 Conn.make',
    // declared() is named by the engine; the computed method has no name to give
    '35 arrow',
    '37 write',
    '39 read',
    '42 exports.handler', // the owner is the object's binding
    '45 Plain.run',
    '46 a', // b, on the same line, loses to the first
  ]);
});

test('functionNamesOf: a real bundle names kiln:http and kiln:net methods', async () => {
  const entry = fileURLToPath(new URL('../../../examples/http-hello/main.ts', import.meta.url));
  const { source } = await bundle(entry);
  const names = new Set(functionNamesOf(source).map(formatFunctionName));
  for (const n of ['HttpConnection.serve', 'HttpConnection.writeResponse', 'TcpConn.output', 'Virtqueue.add', 'VirtioNetDriver.send']) assert.ok(names.has(n), `${n} in ${names.size} names`);
});
