// Installs `navigator` (WinterTC's Minimum Common API asks for navigator.userAgent) as a global,
// only for apps whose bundle names it (packages/cli/src/build.ts OPTIONAL_GLOBALS): the user
// agent is "Kiln/<version>" (lib/kiln_version.ts); hardwareConcurrency is 1, the cores the
// program runs on.

import { KILN_USER_AGENT } from '../lib/kiln_version.ts';

export class Navigator {
  get userAgent(): string {
    return KILN_USER_AGENT;
  }

  get hardwareConcurrency(): number {
    return 1;
  }

  get [Symbol.toStringTag](): string {
    return 'Navigator';
  }
}

Object.defineProperty(globalThis, 'Navigator', { value: Navigator, writable: true, configurable: true, enumerable: false });
Object.defineProperty(globalThis, 'navigator', { value: new Navigator(), writable: true, configurable: true, enumerable: false });
