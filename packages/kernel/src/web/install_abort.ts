// Installs AbortController and AbortSignal (with the event classes, which they use) as globals,
// only for apps whose bundle names one of them (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import './install_events.ts';
import { AbortController, AbortSignal } from './abort.ts';

for (const [name, value] of [['AbortController', AbortController], ['AbortSignal', AbortSignal]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
