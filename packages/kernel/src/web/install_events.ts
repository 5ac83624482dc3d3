// Installs Event, CustomEvent, EventTarget and reportError as globals, only for apps whose bundle
// names one of them (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { CustomEvent, Event, EventTarget, reportError } from './event_target.ts';

for (const [name, value] of [['Event', Event], ['CustomEvent', CustomEvent], ['EventTarget', EventTarget], ['reportError', reportError]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
