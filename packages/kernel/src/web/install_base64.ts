// Installs atob and btoa as globals, only for apps whose bundle names them
// (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { atob, btoa } from './base64.ts';

for (const [name, value] of [['atob', atob], ['btoa', btoa]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
