// Installs the `crypto` global (getRandomValues). Not part of prelude.ts: it pulls in the
// ChaCha20 DRBG and the virtio drivers (~24 KB of bundle, ~0.2 ms of bytecode loading at
// boot), so kiln build should import it after the prelude only when the app uses `crypto`.
// The object is created on first access: seeding (virtio-rng, RDRAND) never runs at boot.

import { guestCrypto } from './units/crypto.ts';

Object.defineProperty(globalThis, 'crypto', { get: guestCrypto, configurable: true, enumerable: false });
