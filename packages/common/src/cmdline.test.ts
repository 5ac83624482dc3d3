// Tests of the guest command-line parser (docs/ARCHITECTURE.md "Guest command line"):
// golden cases for kernel params / env / args and quoting, and a property test that
// quoteArg + parseCmdline round-trips any argument list without double quotes.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import './testing/property.ts';
import { parseCmdline, quoteArg, tokenize } from './cmdline.ts';

const plain = (r: Record<string, string>): Record<string, string> => ({ ...r });

test('parseCmdline_splits_kernel_env_args', () => {
  const c = parseCmdline('kiln.bootchart virtio_mmio.device=4K@0xc0001000:5 PORT=8080 NAME="a b" quiet -- x "y z" -- PORT=1');
  assert.deepEqual(plain(c.kernel), { 'kiln.bootchart': '', 'virtio_mmio.device': '4K@0xc0001000:5', quiet: '' });
  assert.deepEqual(plain(c.env), { PORT: '8080', NAME: 'a b' });
  assert.deepEqual(c.args, ['x', 'y z', '--', 'PORT=1']);
});

test('parseCmdline_ip_is_a_kernel_param_not_env', () => {
  const c = parseCmdline('ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off IP=x ipx=1 -- ip=arg');
  assert.deepEqual(plain(c.kernel), { ip: '10.0.2.15::10.0.2.2:255.255.255.0::eth0:off' });
  assert.deepEqual(plain(c.env), { IP: 'x', ipx: '1' });
  assert.deepEqual(c.args, ['ip=arg']);
});

test('parseCmdline_edge_cases', () => {
  const empty = parseCmdline('');
  assert.deepEqual([plain(empty.kernel), plain(empty.env), empty.args], [{}, {}, []]);
  assert.deepEqual(parseCmdline('   --   ').args, []);
  assert.deepEqual(parseCmdline('-- ""  "" a').args, ['', '', 'a']);
  assert.deepEqual(parseCmdline('-- "--"').args, ['--']);
  assert.deepEqual(plain(parseCmdline('"--"').kernel), { '--': '' });
  assert.deepEqual(plain(parseCmdline('A= B==x =v').env), { A: '', B: '=x' });
  assert.deepEqual(plain(parseCmdline('A=1 A=2').env), { A: '2' });
  assert.deepEqual(parseCmdline('-- a"b c"d\te').args, ['ab cd', 'e']);
  assert.deepEqual(parseCmdline('-- "unterminated x').args, ['unterminated x']);
  assert.deepEqual(tokenize('a "b"'), [{ text: 'a', quoted: false }, { text: 'b', quoted: true }]);
  assert.equal(Object.getPrototypeOf(parseCmdline('__proto__=1').env), null);
});

test('quoteArg_round_trips_through_parseCmdline', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ' ', '-', '=', '.', '\t', 'é', 'x') })), (args) => {
      const line = `kiln.bootchart -- ${args.map((a) => quoteArg(a)!).join(' ')}`;
      assert.deepEqual(parseCmdline(line).args, args);
    }),
  );
  assert.equal(quoteArg('say "hi"'), undefined);
  assert.equal(quoteArg('a b'), '"a b"');
  assert.equal(quoteArg('ab'), 'ab');
});

test('parseCmdline_vmm_tokens_after_dashes_are_kernel_params_not_args', () => {
  // QEMU microvm appends its virtio_mmio.device tokens after the app's `--`.
  const c = parseCmdline('kiln.bootchart -- a "virtio_mmio.device=quoted" virtio_mmio.device=512@0xfeb00e00:12');
  assert.deepEqual(c.args, ['a', 'virtio_mmio.device=quoted']);
  assert.equal(c.kernel['virtio_mmio.device'], '512@0xfeb00e00:12');
});
