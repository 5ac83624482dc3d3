// PBKDF2 for crypto.subtle (WebCrypto §30): import a password (raw, not extractable) and
// deriveBits / deriveKey with a hash, salt and iteration count. noble's pbkdf2. Bundled when the
// app names 'PBKDF2' (subtle.ts).

import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { allowUsages, bufferSource, hashOf, keyMaterial, newKey, notSupported, operationError, registerAlgorithm, syntaxError } from './subtle.ts';

registerAlgorithm('PBKDF2', {
  importKey(format, keyData, _params, extractable, usages) {
    if (format !== 'raw') throw notSupported(`PBKDF2 keys import as raw, not ${format}`);
    if (extractable) throw syntaxError('A PBKDF2 key cannot be extractable');
    return newKey('secret', false, { name: 'PBKDF2' }, allowUsages(usages, ['deriveKey', 'deriveBits'], 'secret', 'PBKDF2'), keyData);
  },
  deriveBits(params, key, length) {
    if (length === null || length % 8 !== 0) throw operationError('PBKDF2 derives a whole number of bytes: length must be a multiple of 8');
    const iterations = Number(params.iterations);
    if (!Number.isInteger(iterations) || iterations <= 0) throw operationError('PBKDF2 iterations must be a positive integer');
    const hash = hashOf(params.hash);
    const salt = bufferSource(params.salt, 'salt');
    if (length === 0) return new Uint8Array(0);
    return pbkdf2(hash.fn as never, keyMaterial<Uint8Array>(key), salt, { c: iterations, dkLen: length / 8 });
  },
});
