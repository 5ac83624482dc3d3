// SHA-256 for crypto.subtle (digest, and as the hash of HMAC, PBKDF2, HKDF, ECDSA): noble's. Bundled
// when the app names 'SHA-256' (subtle.ts).

import { sha256 } from '@noble/hashes/sha2.js';
import { registerHash, type HashFunction } from './subtle.ts';

registerHash('SHA-256', sha256 as unknown as HashFunction);
