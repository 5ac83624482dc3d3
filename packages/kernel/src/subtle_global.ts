// Installs crypto.subtle (web/crypto/subtle.ts) on the guest's crypto object (units/crypto.ts's
// setSubtle) and CryptoKey and SubtleCrypto as globals. Like crypto_global.ts, which comes with
// it, kiln build imports it after the prelude only when the bundle names subtle, CryptoKey or
// SubtleCrypto (packages/cli/src/build.ts OPTIONAL_GLOBALS; each algorithm module is bundled when
// named, too).

import { setSubtle } from './units/crypto.ts';
import { CryptoKey, SubtleCrypto, subtle } from './web/crypto/subtle.ts';

setSubtle(subtle);
for (const [name, value] of [['CryptoKey', CryptoKey], ['SubtleCrypto', SubtleCrypto]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
