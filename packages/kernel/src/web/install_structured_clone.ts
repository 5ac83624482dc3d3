// Installs structuredClone as a global, only for apps whose bundle names it
// (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { structuredClone } from './structured_clone.ts';

Object.defineProperty(globalThis, 'structuredClone', { value: structuredClone, writable: true, configurable: true, enumerable: false });
