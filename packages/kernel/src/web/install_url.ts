// Installs URL and URLSearchParams as globals, only for apps whose bundle names one of them
// (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { URL, URLSearchParams } from './url.ts';

for (const [name, value] of [['URL', URL], ['URLSearchParams', URLSearchParams]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
