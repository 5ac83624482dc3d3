// Request (WHATWG Fetch §5.4) for servers and apps: url (parsed and serialized by URL), method
// (normalized, forbidden methods refused), headers, the Body mixin, clone(). kiln:http builds
// its requests with requestFromServer, which skips re-parsing what the HTTP parser checked.
// `signal` is the init's AbortSignal (fetch honours it), undefined without one (the spec gives
// a signal that never aborts). Not covered: mode/credentials/cache/referrer/integrity semantics
// (the getters return the defaults).

import { Body, cloneBodySource, extractBody, peekBodySource, takeBodySource, type BodyInit, type BodySource } from './body.ts';
import { Headers, headersFromList, type HeadersInit } from './headers.ts';
import { HTTP_TOKEN } from './http_syntax.ts';
import { URL } from './url.ts';

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  redirect?: 'follow' | 'error' | 'manual';
  signal?: unknown;
}

const NORMALIZED = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];

function normalizeMethod(m: string): string {
  if (!HTTP_TOKEN.test(m)) throw new TypeError(`"${m}" is not a valid HTTP method`);
  const upper = m.toUpperCase();
  if (upper === 'CONNECT' || upper === 'TRACE' || upper === 'TRACK') throw new TypeError(`"${m}" HTTP method is unsupported`);
  return NORMALIZED.indexOf(upper) >= 0 ? upper : m;
}

/** What a Request is made of; kiln:http passes these directly (requestFromServer). */
interface RequestParts {
  method: string;
  url: string;
  headers: Headers | null;
  /** The parser's checked list, wrapped in a Headers object only when read. */
  headerList: string[] | null;
  body: BodySource | null;
  redirect: 'follow' | 'error' | 'manual';
  signal?: unknown;
}

const FROM_PARTS = Symbol('kiln.request.fromParts');

function redirectMode(m: unknown): 'follow' | 'error' | 'manual' | undefined {
  if (m === undefined || m === 'follow' || m === 'error' || m === 'manual') return m;
  throw new TypeError(`"${String(m)}" is not a valid redirect mode (expected "follow", "error" or "manual")`);
}

function partsFrom(input: string | URL | Request, init: RequestInit): RequestParts {
  const from = input instanceof Request ? input : null;
  let body: BodySource | null = from ? peekBodySource(from) : null;
  let type: string | null = null;
  const method = init.method !== undefined ? normalizeMethod(String(init.method)) : from ? from.method : 'GET';
  if (init.body !== undefined && init.body !== null) {
    if (method === 'GET' || method === 'HEAD') throw new TypeError('Request with GET/HEAD method cannot have body');
    const e = extractBody(init.body);
    body = e.source;
    type = e.type;
  } else if (from && body !== null) {
    if (from.bodyUsed) throw new TypeError('Cannot construct a Request with a Request whose body was already used');
    takeBodySource(from);
  }
  const headers = new Headers(init.headers ?? (from ? from.headers : undefined));
  if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
  return {
    method, url: from ? from.url : new URL(input as string | URL).href, headers, headerList: null, body,
    redirect: redirectMode(init.redirect) ?? (from ? from.redirect : 'follow'),
    signal: init.signal !== undefined ? init.signal ?? undefined : from?.signal,
  };
}

export class Request extends Body {
  private readonly _url: string;
  private readonly _method: string;
  private _headers: Headers | null;
  private readonly headerList: string[] | null;
  private readonly _redirect: 'follow' | 'error' | 'manual';
  private readonly _signal: unknown;

  constructor(input: string | URL | Request, init: RequestInit = {}) {
    const p = (input as unknown) === FROM_PARTS ? (init as unknown as RequestParts) : partsFrom(input, init);
    super(p.body);
    this._url = p.url;
    this._method = p.method;
    this._headers = p.headers;
    this.headerList = p.headerList;
    this._redirect = p.redirect;
    this._signal = p.signal;
  }

  get url(): string {
    return this._url;
  }
  get method(): string {
    return this._method;
  }
  get headers(): Headers {
    if (this._headers === null) this._headers = headersFromList(this.headerList!);
    return this._headers;
  }
  get redirect(): 'follow' | 'error' | 'manual' {
    return this._redirect;
  }
  get signal(): unknown {
    return this._signal;
  }
  get mode(): string {
    return 'cors';
  }
  get credentials(): string {
    return 'same-origin';
  }
  get cache(): string {
    return 'default';
  }
  get destination(): string {
    return '';
  }
  get referrer(): string {
    return 'about:client';
  }
  get integrity(): string {
    return '';
  }

  clone(): Request {
    if (this.bodyUsed) throw new TypeError('Cannot clone a Request whose body was used');
    const body = cloneBodySource(this);
    const parts: RequestParts = { method: this._method, url: this._url, headers: new Headers(this.headers), headerList: null, body, redirect: this._redirect, signal: this._signal };
    return new Request(FROM_PARTS as unknown as string, parts as unknown as RequestInit);
  }

  get [Symbol.toStringTag](): string {
    return 'Request';
  }
}

/**
 * Internal (kiln:http): a Request from a parsed request head. `headerList` is the parser's
 * checked [name, value, ...] list, `url` an absolute URL built from a checked target.
 */
export function requestFromServer(method: string, url: string, headerList: string[], body: BodySource | null): Request {
  const parts: RequestParts = { method, url, headers: null, headerList, body, redirect: 'follow' };
  return new Request(FROM_PARTS as unknown as string, parts as unknown as RequestInit);
}
