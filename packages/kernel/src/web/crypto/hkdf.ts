// HKDF for crypto.subtle (WebCrypto §31, RFC 5869): import key material (raw, not extractable)
// and deriveBits / deriveKey with a hash, salt and info. noble's hkdf. Bundled when the app names
// 'HKDF' (subtle.ts).

import { hkdf } from '@noble/hashes/hkdf.js';
import { allowUsages, bufferSource, hashOf, keyMaterial, newKey, notSupported, operationError, registerAlgorithm, syntaxError } from './subtle.ts';

registerAlgorithm('HKDF', {
  importKey(format, keyData, _params, extractable, usages) {
    if (format !== 'raw') throw notSupported(`HKDF keys import as raw, not ${format}`);
    if (extractable) throw syntaxError('An HKDF key cannot be extractable');
    return newKey('secret', false, { name: 'HKDF' }, allowUsages(usages, ['deriveKey', 'deriveBits'], 'secret', 'HKDF'), keyData);
  },
  deriveBits(params, key, length) {
    if (length === null || length % 8 !== 0) throw operationError('HKDF derives a whole number of bytes: length must be a multiple of 8');
    const hash = hashOf(params.hash);
    if (length / 8 > 255 * hash.fn.outputLen) throw operationError(`HKDF with ${hash.name} derives at most ${255 * hash.fn.outputLen * 8} bits`);
    if (length === 0) return new Uint8Array(0);
    return hkdf(hash.fn as never, keyMaterial<Uint8Array>(key), bufferSource(params.salt, 'salt'), bufferSource(params.info, 'info'), length / 8);
  },
});
