// AbortController and AbortSignal (WHATWG DOM §3.1–§3.2): abort(reason) with a DOMException
// AbortError by default, signal.reason/aborted/throwIfAborted/onabort, the "abort" event, and
// AbortSignal.abort(), AbortSignal.timeout(ms) (a TimeoutError from a timer that does not keep
// the program alive, as in Node) and AbortSignal.any(signals) (follows the first to abort).
// Installed by install_abort.ts.

import { unrefTimeout } from '../lib/unref_timer.ts';
import { DOMException } from './dom_exception.ts';
import { type Event, EventTarget, trustedEvent } from './event_target.ts';

const TOKEN = Symbol('kiln.abortsignal');

export class AbortSignal extends EventTarget {
  private _aborted = false;
  private _reason: unknown = undefined;
  private _onabort: ((event: Event) => void) | null = null;

  /** @internal Signals come from AbortController and the static methods. */
  constructor(token?: symbol) {
    super();
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
  }

  get aborted(): boolean {
    return this._aborted;
  }

  get reason(): unknown {
    return this._reason;
  }

  throwIfAborted(): void {
    if (this._aborted) throw this._reason;
  }

  get onabort(): ((event: Event) => void) | null {
    return this._onabort;
  }

  set onabort(f: ((event: Event) => void) | null) {
    if (this._onabort) this.removeEventListener('abort', this._onabort);
    this._onabort = typeof f === 'function' ? f : null;
    if (this._onabort) this.addEventListener('abort', this._onabort);
  }

  /** @internal */
  _signalAbort(reason: unknown): void {
    if (this._aborted) return;
    this._aborted = true;
    this._reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.dispatchEvent(trustedEvent('abort'));
  }

  static abort(reason?: unknown): AbortSignal {
    const s = new AbortSignal(TOKEN);
    s._signalAbort(reason);
    return s;
  }

  static timeout(ms: number): AbortSignal {
    const n = Number(ms);
    if (!Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) throw new TypeError(`AbortSignal.timeout: ${String(ms)} is not a valid number of milliseconds`);
    const s = new AbortSignal(TOKEN);
    unrefTimeout(() => s._signalAbort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), n);
    return s;
  }

  static any(signals: Iterable<AbortSignal>): AbortSignal {
    const list = [...signals];
    for (const x of list) if (!(x instanceof AbortSignal)) throw new TypeError('AbortSignal.any takes AbortSignals');
    const s = new AbortSignal(TOKEN);
    const first = list.find((x) => x.aborted);
    if (first) {
      s._signalAbort(first.reason);
      return s;
    }
    for (const x of list) x.addEventListener('abort', () => s._signalAbort(x.reason), { once: true });
    return s;
  }

  override get [Symbol.toStringTag](): string {
    return 'AbortSignal';
  }
}

export class AbortController {
  private readonly _signal = new AbortSignal(TOKEN);

  get signal(): AbortSignal {
    return this._signal;
  }

  abort(reason?: unknown): void {
    this._signal._signalAbort(reason);
  }

  get [Symbol.toStringTag](): string {
    return 'AbortController';
  }
}
