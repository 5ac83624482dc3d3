// Response (WHATWG Fetch §5.5): status (200–599), statusText, headers, the Body mixin, ok,
// clone(), and the static Response.json(), Response.redirect(), Response.error(). Bodies may
// be a string, bytes, URLSearchParams, a ReadableStream or any async iterable of bytes or
// strings (kiln:http streams those with chunked encoding). fetch builds its responses with
// responseFromNetwork (url, redirected, type "basic"). Not covered: header guards (headers of
// redirect()/error() responses stay mutable).

import { Body, cloneBodySource, extractBody, type BodyInit, type BodySource } from './body.ts';
import { Headers, appendTrusted, headersFromList, type HeadersInit } from './headers.ts';
import { URL } from './url.ts';

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

const REASON_PHRASE = /^[\t \x21-\x7e\x80-\xff]*$/;
const NULL_BODY_STATUS = [101, 103, 204, 205, 304];
const REDIRECT_STATUS = [301, 302, 303, 307, 308];
const TEXT_PLAIN = 'text/plain;charset=UTF-8';

export type ResponseType = 'basic' | 'cors' | 'default' | 'error' | 'opaque' | 'opaqueredirect';

export class Response extends Body {
  private readonly _status: number;
  private readonly _statusText: string;
  private readonly _headers: Headers;
  private _type: ResponseType;
  private _url = '';
  private _redirected = false;

  constructor(body: BodyInit | null = null, init?: ResponseInit) {
    let status = 200;
    let statusText = '';
    if (init !== undefined) {
      if (init.status !== undefined) {
        status = Number(init.status);
        if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`The status provided (${String(init.status)}) is outside the range [200, 599]`);
      }
      if (init.statusText !== undefined) {
        statusText = String(init.statusText);
        if (!REASON_PHRASE.test(statusText)) throw new TypeError(`Invalid statusText: "${statusText}"`);
      }
    }
    let source: BodySource | null = null;
    let type: string | null = null;
    if (typeof body === 'string') {
      // The common case, without extractBody's type tests.
      source = { kind: 'text', text: body };
      type = TEXT_PLAIN;
    } else if (body !== null && body !== undefined) {
      const e = extractBody(body);
      source = e.source;
      type = e.type;
    }
    if (source !== null && NULL_BODY_STATUS.indexOf(status) >= 0) throw new TypeError(`Response with null body status (${status}) cannot have body`);
    super(source);
    this._status = status;
    this._statusText = statusText;
    const headers = init === undefined || init.headers === undefined ? new Headers() : new Headers(init.headers);
    if (type !== null && (init === undefined || init.headers === undefined || !headers.has('content-type'))) appendTrusted(headers, 'content-type', type);
    this._headers = headers;
    this._type = 'default';
  }

  get status(): number {
    return this._status;
  }
  get statusText(): string {
    return this._statusText;
  }
  get ok(): boolean {
    return this._status >= 200 && this._status <= 299;
  }
  get headers(): Headers {
    return this._headers;
  }
  get type(): ResponseType {
    return this._type;
  }
  get url(): string {
    return this._url;
  }
  get redirected(): boolean {
    return this._redirected;
  }

  clone(): Response {
    if (this.bodyUsed) throw new TypeError('Cannot clone a Response whose body was used');
    const s = cloneBodySource(this);
    const copy = new Response(null, { status: this._status, statusText: this._statusText, headers: this._headers });
    (copy as unknown as { bodySource: BodySource | null }).bodySource = s;
    copy._type = this._type;
    copy._url = this._url;
    copy._redirected = this._redirected;
    return copy;
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }

  /** A response whose body is JSON.stringify(data), content-type application/json. */
  static json(data: unknown, init: ResponseInit = {}): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Value is not JSON serializable');
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(text, { status: init.status, statusText: init.statusText, headers });
  }

  /** A redirect to `url` (absolute, or relative to nothing: it must parse) with status 301/302/303/307/308. */
  static redirect(url: string | URL, status = 302): Response {
    const href = new URL(url).href;
    if (REDIRECT_STATUS.indexOf(status) < 0) throw new RangeError(`Invalid status code: ${status}`);
    return new Response(null, { status, headers: { location: href } });
  }

  /** A network error response (type "error", status 0); kiln:http answers it with a 500. */
  static error(): Response {
    const r = new Response(null, { status: 200 });
    (r as unknown as { _status: number })._status = 0;
    r._type = 'error';
    return r;
  }
}

/** Internal (fetch): a response from the network: status 200–599 from a parsed head, its checked
 * [name, value, ...] list, the body (null for a null-body status or HEAD), the final URL. */
export function responseFromNetwork(status: number, statusText: string, headerList: string[], body: BodySource | null, url: string, redirected: boolean): Response {
  const r = new Response(null, { status: status >= 200 && status <= 599 ? status : 200 });
  const fields = r as unknown as { _status: number; _statusText: string; _headers: Headers; bodySource: BodySource | null; _type: ResponseType; _url: string; _redirected: boolean };
  fields._status = status;
  fields._statusText = statusText;
  fields._headers = headersFromList(headerList);
  fields.bodySource = body;
  fields._type = 'basic';
  fields._url = url;
  fields._redirected = redirected;
  return r;
}
