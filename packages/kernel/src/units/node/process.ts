// Node's `process`, the minimal one packages expect: the `node:process` module, and the `process`
// global that kiln build installs from it when the bundle names it (build.ts NODE_GLOBALS). It is kiln:process
// seen with Node's names — the same env object (`kiln run --env NAME=VALUE`), exit and exitCode —
// plus argv (['kiln', '/<app>.js', ...the guest arguments]), nextTick (a microtask: the guest has
// no separate tick queue), platform 'kiln' (no Linux below the app: packages that branch on
// win32/darwin/linux take their generic path), versions without `node` (so packages that probe
// for Node do not take their Node path), cwd() '/', hrtime, uptime, stdout/stderr.write (the
// console) and EventEmitter-shaped on/once/off whose listeners are kept but never called (the
// guest emits no process events). Spec: docs/ARCHITECTURE.md "The CLI" (bundler conventions).

import { decodeUtf8 } from '@kiln/common/text/utf8.ts';
import { args, argv0, env, exit } from '../process.ts';
import { consoleWrite } from '../console_out.ts';
import { APP_BUNDLE } from '../../lib/app_bundle.ts';
import { KILN_VERSION } from '../../lib/kiln_version.ts';
import { getExitCode, setExitCode } from '../lifecycle.ts';

const version = KILN_VERSION;

type Listener = (...a: unknown[]) => void;
const listeners = new Map<string | symbol, Listener[]>();

function stream(fd: number): { fd: number; isTTY: false; write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean } {
  return {
    fd,
    isTTY: false,
    write(chunk, encoding, cb) {
      consoleWrite(chunk instanceof Uint8Array ? decodeUtf8(chunk) : String(chunk));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    },
  };
}

const start = performance.now();

function hrtime(prev?: [number, number]): [number, number] {
  const ns = Math.floor((performance.now() + performance.timeOrigin) * 1e6);
  let s = Math.floor(ns / 1e9), n = ns % 1e9;
  if (prev) {
    s -= prev[0];
    n -= prev[1];
    if (n < 0) { s--; n += 1e9; }
  }
  return [s, n];
}
// By string keys: kiln build gives an app the BigInt engine when its bundle names BigInt or reads
// a `bigint` property (packages/cli/src/bigint.ts), and this file is in every app that uses
// `process`; the app's own call, process.hrtime.bigint(), is what selects it.
Object.defineProperty(hrtime, 'bigint', {
  value: (): unknown => {
    const big = Reflect.get(globalThis, 'BigInt') as ((n: number) => unknown) | undefined;
    if (big === undefined) throw new TypeError('process.hrtime.bigint: this image has no BigInt (kiln build gives it to apps that use BigInt)');
    const [s, n] = hrtime();
    return big(s * 1e9 + n);
  },
  writable: true, configurable: true, enumerable: true,
});

const process = {
  title: 'kiln',
  argv0,
  argv: [argv0, `/${APP_BUNDLE}`, ...args],
  execArgv: [] as string[],
  execPath: `/${argv0}`,
  env,
  platform: 'kiln',
  arch: 'x64',
  pid: 1,
  ppid: 0,
  version: '',
  versions: { kiln: version } as Record<string, string>,
  release: { name: 'kiln' },
  exit,
  get exitCode(): number | undefined {
    return getExitCode();
  },
  set exitCode(code: number | undefined) {
    setExitCode(code);
  },
  cwd: (): string => '/',
  chdir(dir: string): never {
    throw new Error(`process.chdir(${JSON.stringify(dir)}): a Kiln guest has no working directory to change (paths are absolute)`);
  },
  umask: (): number => 0o022,
  uptime: (): number => (performance.now() - start) / 1000,
  hrtime,
  nextTick(callback: Listener, ...a: unknown[]): void {
    if (typeof callback !== 'function') throw new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`);
    queueMicrotask(() => callback(...a));
  },
  emitWarning(warning: unknown): void {
    consoleWrite(`(kiln) Warning: ${warning instanceof Error ? warning.message : String(warning)}\n`);
  },
  stdout: stream(1),
  stderr: stream(2),
  on(event: string | symbol, listener: Listener) {
    listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    return this;
  },
  addListener(event: string | symbol, listener: Listener) {
    return this.on(event, listener);
  },
  prependListener(event: string | symbol, listener: Listener) {
    return this.on(event, listener);
  },
  once(event: string | symbol, listener: Listener) {
    return this.on(event, listener);
  },
  off(event: string | symbol, listener: Listener) {
    listeners.set(event, (listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  },
  removeListener(event: string | symbol, listener: Listener) {
    return this.off(event, listener);
  },
  removeAllListeners(event?: string | symbol) {
    if (event === undefined) listeners.clear();
    else listeners.delete(event);
    return this;
  },
  listeners: (event: string | symbol): Listener[] => [...(listeners.get(event) ?? [])],
  listenerCount: (event: string | symbol): number => listeners.get(event)?.length ?? 0,
  emit: (_event: string | symbol, ..._a: unknown[]): boolean => false,
};

export default process;
export const { argv, execArgv, platform, arch, pid, ppid, versions, cwd, nextTick, stdout, stderr, uptime, emitWarning } = process;
export { env, exit, hrtime };
