// Installs Headers, Request and Response as globals. Not part of the prelude: kiln build adds it
// after the prelude only when the app's bundle names one of them (packages/cli/src/build.ts
// OPTIONAL_GLOBALS), so apps that do not use them stay small. kiln:http imports the same classes
// directly and works without this.

import { Headers } from './headers.ts';
import { Request } from './request.ts';
import { Response } from './response.ts';

for (const [name, value] of [['Headers', Headers], ['Request', Request], ['Response', Response]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
