// base64.ts against Node: random bytes encode as Buffer's base64 and base64url do and decode
// back; atob and btoa agree with Node's on random text (whitespace, padding, junk, characters
// above U+00FF), including which inputs throw; DOMException's names, codes and constants match.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { atob, btoa, decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from './base64.ts';
import { DOMException } from './dom_exception.ts';

const NodeDOMException = globalThis.DOMException;

test('base64 and base64url round-trip random bytes as Node encodes them', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
    assert.equal(encodeBase64(b), Buffer.from(b).toString('base64'));
    assert.equal(encodeBase64Url(b), Buffer.from(b).toString('base64url'));
    assert.deepEqual(decodeBase64(encodeBase64(b)), b);
    assert.deepEqual(decodeBase64Url(encodeBase64Url(b)), b);
  }));
});

test('atob and btoa behave as Node\'s, errors included', () => {
  const outcome = (f: () => string): string => {
    try {
      return `ok ${f()}`;
    } catch (e) {
      return `${(e as Error).name} ${(e as { code?: number }).code}`;
    }
  };
  const text = fc.string({ unit: fc.constantFrom('A', 'z', '0', '+', '/', '=', ' ', '\n', '\t', '-', '_', '*', 'é', '\u0100'), maxLength: 14 });
  fc.assert(fc.property(text, (s) => {
    assert.equal(outcome(() => atob(s)), outcome(() => globalThis.atob(s)), `atob(${JSON.stringify(s)})`);
    assert.equal(outcome(() => btoa(s)), outcome(() => globalThis.btoa(s)), `btoa(${JSON.stringify(s)})`);
  }), { numRuns: 500 });
});

test('DOMException names, codes and constants match Node', () => {
  for (const name of ['AbortError', 'NotSupportedError', 'DataError', 'OperationError', 'InvalidCharacterError', 'Error', 'Custom']) {
    const ours = new DOMException('m', name);
    const node = new NodeDOMException('m', name);
    assert.deepEqual([ours.name, ours.code, ours.message, ours instanceof Error], [node.name, node.code, node.message, true]);
  }
  for (const k of Object.keys(NodeDOMException)) assert.equal((DOMException as unknown as Record<string, number>)[k], (NodeDOMException as unknown as Record<string, number>)[k], k);
  assert.equal(Object.prototype.toString.call(new DOMException()), '[object DOMException]');
});
