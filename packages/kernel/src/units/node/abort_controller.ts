// What `kiln build` resolves npm `abort-controller` to (build.ts NPM_SHIMS): the kernel's own
// AbortController and AbortSignal (web/abort.ts), exported as that package does (named, and the
// controller as the default). The package only polyfills them, and its browser build reads them
// from `self`/`window`, which guests lack; npm readable-stream (node:stream) requires it when the
// globals are not installed.

import { AbortController, AbortSignal } from '../../web/abort.ts';

export { AbortController, AbortSignal };
export default AbortController;
