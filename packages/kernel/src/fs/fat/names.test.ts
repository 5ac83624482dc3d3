// FAT names: valid long names, 8.3 names with NT case bits, alias generation (as Windows and
// mtools make them: "MIXED.TXT" without a tail, "ALONGN~1.TEX", ~2 on a clash, the hashed form
// after ~4), and how short names read back.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { aliasFor, CP437_HIGH, exactShortForm, invalidLongName, nameKey, shortDisplayName } from './names.ts';

test('cp437_table_has_128_chars', () => {
  assert.equal(CP437_HIGH.length, 128);
  assert.equal(CP437_HIGH[0x80 - 0x80], 'Ç');
  assert.equal(CP437_HIGH[0xe1 - 0x80], 'ß');
});

test('valid_and_invalid_long_names', () => {
  assert.equal(invalidLongName('a long name.text'), null);
  assert.equal(invalidLongName('ünïcødé 名前.txt'), null);
  assert.equal(invalidLongName('x'.repeat(255)), null);
  assert.equal(invalidLongName('x'.repeat(256))?.code, 'ENAMETOOLONG');
  for (const bad of ['a*b', 'a?b', 'a:b', 'a<b', 'a>b', 'a|b', 'a"b', 'a\\b', 'a\u0001b', 'trailing.', 'trailing ', '']) {
    assert.equal(invalidLongName(bad)?.code, 'EINVAL', bad);
  }
});

test('exact_short_forms_and_case_bits', () => {
  assert.deepEqual(exactShortForm('abc.txt'), { rawName: 'ABC     TXT', ntCase: 0x18 });
  assert.deepEqual(exactShortForm('README'), { rawName: 'README     ', ntCase: 0 });
  assert.deepEqual(exactShortForm('readme.TXT'), { rawName: 'README  TXT', ntCase: 0x08 });
  assert.deepEqual(exactShortForm('CONFIG.sys'), { rawName: 'CONFIG  SYS', ntCase: 0x10 });
  assert.deepEqual(exactShortForm('a-b_c~1.$$$'), { rawName: 'A-B_C~1 $$$', ntCase: 0x08 });
  for (const needsLfn of ['Mixed.TXT', 'toolongname.txt', 'a.text', 'a b.txt', 'a.b.c', '.hidden', 'a+b.txt', 'é.txt', 'x.']) {
    assert.equal(exactShortForm(needsLfn), null, needsLfn);
  }
});

test('aliases_like_windows_and_mtools', () => {
  const none = (): boolean => false;
  assert.equal(aliasFor('Mixed.TXT', none), 'MIXED   TXT');
  assert.equal(aliasFor('a long name.text', none), 'ALONGN~1TEX');
  assert.equal(aliasFor('.bashrc', none), 'BASHRC~1   ');
  assert.equal(aliasFor('a+b.txt', none), 'A_B~1   TXT');
  assert.equal(aliasFor('ünï.txt', none), '_N_~1   TXT');
  assert.equal(aliasFor('archive.tar.gz', none), 'ARCHIV~1GZ ');
  const taken = new Set(['MIXED   TXT', 'ALONGN~1TEX']);
  assert.equal(aliasFor('Mixed.TXT', (r) => taken.has(r)), 'MIXED~1 TXT');
  assert.equal(aliasFor('a long name.text', (r) => taken.has(r)), 'ALONGN~2TEX');
});

test('aliases_after_four_use_a_hash_and_stay_unique', () => {
  const taken = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const a = aliasFor(`long file name ${i}.txt`, (r) => taken.has(r));
    assert.ok(a !== null && a.length === 11 && !taken.has(a), `alias ${a}`);
    if (i < 4) assert.equal(a, `LONGFI~${i + 1}TXT`);
    else assert.match(a!, /^LO[0-9A-F]{4}~[1-9]TXT$|^LONG.*~[0-9]+TXT$/);
    taken.add(a!);
  }
});

test('short_names_read_back', () => {
  assert.equal(shortDisplayName('ABC     TXT', 0x18), 'abc.txt');
  assert.equal(shortDisplayName('README     ', 0), 'README');
  assert.equal(shortDisplayName('README  TXT', 0x10), 'README.txt');
  assert.equal(shortDisplayName('\u0005BC     TXT', 0), 'σBC.TXT');
  assert.equal(shortDisplayName('\u0080T         ', 0), 'ÇT');
  assert.equal(nameKey('Mixed.TXT'), nameKey('MIXED.txt'));
});
