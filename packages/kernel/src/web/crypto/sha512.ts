// SHA-384 and SHA-512 for crypto.subtle (digest, and as the hash of HMAC, PBKDF2, HKDF, ECDSA):
// noble's, which computes them with BigInt constants (an app that names either gets the BigInt
// core). Bundled when the app names 'SHA-384' or 'SHA-512' (subtle.ts).

import { sha384, sha512 } from '@noble/hashes/sha2.js';
import { registerHash, type HashFunction } from './subtle.ts';

registerHash('SHA-384', sha384 as unknown as HashFunction);
registerHash('SHA-512', sha512 as unknown as HashFunction);
