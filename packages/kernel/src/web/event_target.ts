// Event, CustomEvent and EventTarget (WHATWG DOM §2.2–§2.7) without a tree: listeners with
// capture, once, passive and signal options, handleEvent objects, dispatch in registration order
// (listeners added during a dispatch wait for the next one, removed ones do not run),
// stopImmediatePropagation, preventDefault for cancelable events outside passive listeners.
// A listener that throws does not stop the dispatch: the error is reported as uncaught once the
// dispatch's turn ends (reportError), as in Node. Installed by install_events.ts; AbortSignal
// (abort.ts) is an EventTarget.

import { DOMException } from './dom_exception.ts';

export interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

export interface AddEventListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
  signal?: { aborted: boolean; addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void };
}

export type EventListenerOrObject = ((event: Event) => void) | { handleEvent(event: Event): void };

const NONE = 0;
const AT_TARGET = 2;

/** reportError (HTML §8.1.4.7): the error becomes an uncaught exception once this job ends. */
export function reportError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

export class Event {
  static readonly NONE = 0;
  static readonly CAPTURING_PHASE = 1;
  static readonly AT_TARGET = 2;
  static readonly BUBBLING_PHASE = 3;

  private readonly _type: string;
  private readonly _bubbles: boolean;
  private readonly _cancelable: boolean;
  private readonly _composed: boolean;
  private readonly _timeStamp: number;
  /** @internal */
  _canceled = false;
  /** @internal */
  _inPassiveListener = false;
  /** @internal */
  _stopImmediate = false;
  /** @internal */
  _stop = false;
  /** @internal */
  _target: EventTarget | null = null;
  /** @internal */
  _current: EventTarget | null = null;
  /** @internal */
  _dispatching = false;
  /** @internal Set by trustedEvent: an event the platform fires (AbortSignal's abort). */
  _trusted = false;

  constructor(type: string, init: EventInit = {}) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required");
    this._type = String(type);
    this._bubbles = Boolean(init?.bubbles);
    this._cancelable = Boolean(init?.cancelable);
    this._composed = Boolean(init?.composed);
    this._timeStamp = typeof performance === 'object' ? performance.now() : Date.now();
  }

  get type(): string {
    return this._type;
  }

  get bubbles(): boolean {
    return this._bubbles;
  }

  get cancelable(): boolean {
    return this._cancelable;
  }

  get composed(): boolean {
    return this._composed;
  }

  get defaultPrevented(): boolean {
    return this._canceled;
  }

  get returnValue(): boolean {
    return !this._canceled;
  }

  set returnValue(v: boolean) {
    if (!v) this.preventDefault();
  }

  get cancelBubble(): boolean {
    return this._stop;
  }

  set cancelBubble(v: boolean) {
    if (v) this._stop = true;
  }

  get target(): EventTarget | null {
    return this._target;
  }

  get srcElement(): EventTarget | null {
    return this._target;
  }

  get currentTarget(): EventTarget | null {
    return this._current;
  }

  get eventPhase(): number {
    return this._dispatching ? AT_TARGET : NONE;
  }

  get isTrusted(): boolean {
    return this._trusted;
  }

  get timeStamp(): number {
    return this._timeStamp;
  }

  composedPath(): EventTarget[] {
    return this._dispatching && this._current !== null ? [this._current] : [];
  }

  preventDefault(): void {
    if (this._cancelable && !this._inPassiveListener) this._canceled = true;
  }

  stopPropagation(): void {
    this._stop = true;
  }

  stopImmediatePropagation(): void {
    this._stop = true;
    this._stopImmediate = true;
  }

  get [Symbol.toStringTag](): string {
    return 'Event';
  }
}

export class CustomEvent<T = unknown> extends Event {
  private readonly _detail: T | null;

  constructor(type: string, init: EventInit & { detail?: T } = {}) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required");
    super(type, init);
    this._detail = init?.detail ?? null;
  }

  get detail(): T | null {
    return this._detail;
  }

  override get [Symbol.toStringTag](): string {
    return 'CustomEvent';
  }
}

interface Listener {
  callback: EventListenerOrObject;
  capture: boolean;
  once: boolean;
  passive: boolean;
  removed: boolean;
}

function flags(options: boolean | AddEventListenerOptions | undefined): { capture: boolean; once: boolean; passive: boolean } {
  if (typeof options === 'boolean') return { capture: options, once: false, passive: false };
  return { capture: Boolean(options?.capture), once: Boolean(options?.once), passive: Boolean(options?.passive) };
}

export class EventTarget {
  private readonly _listeners = new Map<string, Listener[]>();

  addEventListener(type: string, callback: EventListenerOrObject | null, options?: boolean | AddEventListenerOptions): void {
    const signal = typeof options === 'object' && options !== null ? options.signal : undefined;
    if (signal !== undefined && (typeof signal !== 'object' || signal === null)) throw new TypeError("Failed to execute 'addEventListener': member signal is not of type 'AbortSignal'");
    if (callback === null || callback === undefined) return;
    if (typeof callback !== 'function' && (typeof callback !== 'object')) throw new TypeError("Failed to execute 'addEventListener': parameter 2 is not of type 'Object'");
    const f = flags(options);
    if (signal?.aborted) return;
    const t = String(type);
    let list = this._listeners.get(t);
    if (list === undefined) this._listeners.set(t, (list = []));
    if (list.some((l) => l.callback === callback && l.capture === f.capture)) return;
    const listener: Listener = { callback, ...f, removed: false };
    list.push(listener);
    signal?.addEventListener('abort', () => this.removeEventListener(t, callback, { capture: f.capture }), { once: true });
  }

  removeEventListener(type: string, callback: EventListenerOrObject | null, options?: boolean | { capture?: boolean }): void {
    const list = this._listeners.get(String(type));
    if (list === undefined || callback === null) return;
    const capture = typeof options === 'boolean' ? options : Boolean(options?.capture);
    const i = list.findIndex((l) => l.callback === callback && l.capture === capture);
    if (i < 0) return;
    list[i]!.removed = true;
    list.splice(i, 1);
  }

  dispatchEvent(event: Event): boolean {
    if (!(event instanceof Event)) throw new TypeError("Failed to execute 'dispatchEvent': parameter 1 is not of type 'Event'");
    if (event._dispatching) throw new DOMException('The event is already being dispatched', 'InvalidStateError');
    event._target = this;
    event._current = this;
    event._dispatching = true;
    try {
      // A snapshot: listeners added now wait for the next dispatch.
      for (const l of [...(this._listeners.get(event.type) ?? [])]) {
        if (l.removed) continue;
        if (l.once) this.removeEventListener(event.type, l.callback, { capture: l.capture });
        event._inPassiveListener = l.passive;
        try {
          if (typeof l.callback === 'function') l.callback.call(this, event);
          else if (typeof l.callback.handleEvent === 'function') l.callback.handleEvent(event);
          else throw new TypeError("The listener's handleEvent is not a function");
        } catch (err) {
          reportError(err);
        }
        event._inPassiveListener = false;
        if (event._stopImmediate) break;
      }
    } finally {
      event._dispatching = false;
      event._current = null;
      event._stop = false;
      event._stopImmediate = false;
    }
    return !event._canceled;
  }

  get [Symbol.toStringTag](): string {
    return 'EventTarget';
  }
}

/** An event the platform dispatches (isTrusted true), as AbortSignal's abort event is. */
export function trustedEvent(type: string): Event {
  const e = new Event(type);
  e._trusted = true;
  return e;
}
