// Installs `navigator` (WinterTC's Minimum Common API asks for navigator.userAgent) as a global,
// only for apps whose bundle names it (packages/cli/src/build.ts OPTIONAL_GLOBALS): the user
// agent is "Kiln/<version>", as Workers says "Cloudflare-Workers" and Deno "Deno/<version>";
// hardwareConcurrency is 1, the cores the program runs on.

declare const __KILN_VERSION__: string;

export class Navigator {
  get userAgent(): string {
    return `Kiln/${typeof __KILN_VERSION__ === 'string' ? __KILN_VERSION__ : '0.0.0'}`;
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
