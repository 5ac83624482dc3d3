// SHA-1 for crypto.subtle (digest, and as the hash of HMAC, PBKDF2, HKDF, ECDSA): noble's. Bundled
// when the app names 'SHA-1' (subtle.ts).

import { sha1 } from '@noble/hashes/legacy.js';
import { registerHash, type HashFunction } from './subtle.ts';

registerHash('SHA-1', sha1 as unknown as HashFunction);
