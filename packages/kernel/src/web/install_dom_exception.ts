// Installs DOMException as a global, only for apps whose bundle names it
// (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { DOMException } from './dom_exception.ts';

Object.defineProperty(globalThis, 'DOMException', { value: DOMException, writable: true, configurable: true, enumerable: false });
