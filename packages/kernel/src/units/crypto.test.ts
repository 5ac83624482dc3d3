// The DRBG behind crypto.getRandomValues (crypto.ts): the quota, integer arrays only, and an
// entropy source needed.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ChaChaDrbg, createGetRandomValues } from './crypto.ts';

test('getRandomValues_quota_types_and_entropy', () => {
  const drbg = new ChaChaDrbg({ deviceSync: () => new Uint8Array(32).fill(7), deviceAsync: () => undefined, cpu: () => -1 });
  const grv = createGetRandomValues(drbg);
  const a = grv(new Uint8Array(64));
  const b = grv(new Uint8Array(64));
  assert.notDeepEqual(a, b);
  assert.equal(grv(new Uint32Array(16384)).length, 16384);
  assert.throws(() => grv(new Uint8Array(65537)), { name: 'QuotaExceededError' });
  assert.throws(() => grv(new Float64Array(4) as unknown as Uint8Array), { name: 'TypeMismatchError' });
  const none = createGetRandomValues(new ChaChaDrbg({ deviceSync: () => undefined, deviceAsync: () => undefined, cpu: () => -1 }));
  assert.throws(() => none(new Uint8Array(4)), /no entropy source/);
});
