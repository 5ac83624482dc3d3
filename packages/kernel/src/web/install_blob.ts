// Installs Blob and File as globals, and Blob bodies in Request/Response, only for apps whose
// bundle names Blob, File or blob (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { Blob, File } from './blob.ts';
import './body_forms.ts';

for (const [name, value] of [['Blob', Blob], ['File', File]] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
