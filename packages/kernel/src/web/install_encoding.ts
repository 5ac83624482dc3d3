// Installs TextEncoder and TextDecoder (UTF-8) as globals, only for apps whose bundle names one
// of them (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { TextDecoder, TextEncoder } from './text_codec.ts';

for (const [name, value] of [['TextEncoder', TextEncoder], ['TextDecoder', TextDecoder]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
