// fetch (WHATWG Fetch §5.6) for http:// URLs, over a connect function (units/fetch.ts gives
// kiln:net's, which resolves names by DNS; a Node test gives node:net's): the Request is built
// from the arguments as the spec says, client.ts makes the exchange, and the Response streams
// its body as the app reads it.
// Redirects (301/302/303/307/308) are followed up to 20 times (POST becomes GET on 301/302,
// all but HEAD on 303; a streamed body cannot be sent twice, so its redirect is a TypeError;
// Authorization is dropped across origins), or returned (`redirect: 'manual'`, as Workers and
// Deno do), or refused (`'error'`). An AbortSignal aborts the connection, whether the head or
// the body is on its way, with the signal's reason. https:// and other schemes are a TypeError
// saying what is missing. Framing headers (Content-Length, Transfer-Encoding, Connection, ...)
// are the exchange's own; the app's are dropped.

import { encodeUtf8 } from '@kiln/common/text/utf8.ts';
import type { AbortSignalLike } from '../lib/abort_signal_like.ts';
import { KILN_USER_AGENT } from '../lib/kiln_version.ts';
import { bodyChunks, peekBodySource, takeBodySource, type BodySource } from '../web/body.ts';
import { Request, type RequestInit } from '../web/request.ts';
import { responseFromNetwork, type Response } from '../web/response.ts';
import { URL } from '../web/url.ts';
import { exchange, networkError } from './client.ts';
import type { HttpConn } from './types.ts';

/** Opens a TCP connection to a hostname (a name or a dotted address) and port. */
export type Connect = (hostname: string, port: number) => Promise<HttpConn>;

const MAX_REDIRECTS = 20;
const REDIRECTS = [301, 302, 303, 307, 308];
/** Request headers the exchange writes itself (RFC 9112 framing and hop-by-hop fields). */
const EXCHANGE_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'proxy-connection']);
/** Dropped with the body when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/** The request body to send: in-memory bodies as bytes (Content-Length), the rest streamed (chunked). */
async function bodyToSend(source: BodySource | null): Promise<Uint8Array | AsyncIterator<Uint8Array> | null> {
  if (source === null) return null;
  if (source.kind === 'text') return encodeUtf8(source.text);
  if (source.kind === 'bytes') return source.bytes;
  return bodyChunks(source);
}

function checkUrl(url: URL): void {
  if (url.protocol === 'http:') return;
  if (url.protocol === 'https:') throw new TypeError(`fetch ${url.href}: https:// needs TLS, which Kiln guests do not have yet (use http://)`);
  throw new TypeError(`fetch ${url.href}: the ${url.protocol} scheme is not supported (Kiln's fetch speaks http://)`);
}

/** A fetch that connects with `connect`. */
export function makeFetch(connect: Connect): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return (input, init) => fetchWith(connect, input, init);
}

async function fetchWith(connect: Connect, input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const signal = request.signal as AbortSignalLike | undefined;
  if (signal?.aborted) throw signal.reason;
  let url = new URL(request.url);
  let method = request.method;
  const headers = [...request.headers] as [string, string][];
  let source = peekBodySource(request);
  if (source !== null) takeBodySource(request);
  const replayable = source === null || source.kind === 'text' || source.kind === 'bytes';
  for (let redirects = 0; ; redirects++) {
    checkUrl(url);
    if (url.username !== '' || url.password !== '') throw new TypeError(`fetch ${url.href}: credentials in the URL are not allowed`);
    const port = url.port === '' ? 80 : Number(url.port);
    const hostname = url.hostname;
    if (hostname.startsWith('[')) throw new TypeError(`fetch ${url.href}: IPv6 addresses are not supported (kiln:net speaks IPv4)`);
    const fields: [string, string][] = [];
    if (!headers.some(([n]) => n === 'host')) fields.push(['host', url.host]);
    for (const [n, v] of headers) if (!EXCHANGE_HEADERS.has(n)) fields.push([n, v]);
    if (!headers.some(([n]) => n === 'accept')) fields.push(['accept', '*/*']);
    if (!headers.some(([n]) => n === 'user-agent')) fields.push(['user-agent', KILN_USER_AGENT]);
    let conn;
    try {
      conn = await abortable(connect(hostname, port), signal);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw networkError(`cannot connect to ${url.host}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    conn.setNoDelay?.(true);
    const response = await exchange(conn, {
      method, target: `${url.pathname}${url.search}`, headers: fields, body: await bodyToSend(source), ...(signal ? { signal } : {}),
    });
    const location = response.headerList.indexOf('location');
    const isRedirect = REDIRECTS.includes(response.status) && location >= 0 && location % 2 === 0;
    if (!isRedirect || request.redirect === 'manual') {
      const body: BodySource | null = response.body ? { kind: 'pull', ...response.body } : null;
      return responseFromNetwork(response.status, response.statusText, response.headerList, body, url.href, redirects > 0);
    }
    response.body?.cancel();
    if (request.redirect === 'error') throw new TypeError(`fetch ${url.href}: the server redirected (${response.status}) and the request's redirect mode is "error"`);
    if (redirects === MAX_REDIRECTS) throw new TypeError(`fetch ${request.url}: more than ${MAX_REDIRECTS} redirects`);
    let next: URL;
    try {
      next = new URL(response.headerList[location + 1]!, url);
    } catch {
      throw new TypeError(`fetch ${url.href}: the redirect's Location ${JSON.stringify(response.headerList[location + 1])} is not a URL`);
    }
    if ((response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = 'GET';
      source = null;
      for (const name of BODY_HEADERS) removeHeader(headers, name);
    } else if (source !== null && !replayable) {
      throw new TypeError(`fetch ${url.href}: the server redirected (${response.status}) a request whose body is a stream, which cannot be sent again`);
    }
    if (next.origin !== url.origin) removeHeader(headers, 'authorization');
    url = next;
  }
}

/** The connection, or the signal's reason as soon as it aborts (a connection made later is closed). */
function abortable<C extends { close(): void }>(connecting: Promise<C>, signal: AbortSignalLike | undefined): Promise<C> {
  if (!signal) return connecting;
  return new Promise<C>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      void connecting.then((c) => c.close(), () => undefined);
    };
    signal.addEventListener('abort', onAbort);
    connecting.then((c) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) c.close();
      else resolve(c);
    }, (e: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}

function removeHeader(headers: [string, string][], name: string): void {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === name) headers.splice(i, 1);
}
