// Installs `fetch` (units/fetch.ts: http:// over kiln:net, with DNS) and, with it, Headers,
// Request and Response. Not part of the prelude: it brings the TCP/IP stack and the virtio-net
// driver, so kiln build imports it after the prelude only for apps whose bundle names `fetch`
// (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import './web/install_fetch.ts';
import { fetch } from './units/fetch.ts';

Object.defineProperty(globalThis, 'fetch', { value: fetch, writable: true, configurable: true, enumerable: false });
