// The request's URL (Fetch's request.url) from its request target and Host (RFC 9112 §3.2,
// §3.3): origin-form against the Host's origin (or the server's for HTTP/1.0 without Host),
// asterisk-form as origin + "/*", absolute-form as itself; the common plain target without a
// URL parse, and a small cache of Host values already checked.

import { URL } from '../web/url.ts';
import type { RequestHead } from './parser.ts';

/** A request target the URL serializer would print unchanged (no dot segments, nothing to encode). */
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*)?$/;
const ORIGIN_CACHE_MAX = 64;
const origins = new Map<string, string | null>();

/** "http://host[:port]" as URL would serialize it, or null when the Host value is not a valid host. */
function originOf(host: string): string | null {
  let o = origins.get(host);
  if (o !== undefined) return o;
  try {
    const u = new URL(`http://${host}`);
    o = u.pathname === '/' && u.search === '' && u.username === '' ? u.origin : null;
  } catch {
    o = null;
  }
  if (origins.size >= ORIGIN_CACHE_MAX) origins.clear();
  origins.set(host, o);
  return o;
}

/** The request's URL (Fetch's request.url) from its target and Host, or null if it cannot be one. */
export function requestUrl(head: RequestHead, defaultOrigin: string): string | null {
  const t = head.target;
  if (t.charCodeAt(0) === 47 /* / */) {
    const origin = head.host === null || head.host === '' ? defaultOrigin : originOf(head.host);
    if (origin === null) return null;
    if (PLAIN_TARGET.test(t) && t.indexOf('/.') < 0 && t.indexOf('%2') < 0) return origin + t;
    try {
      return new URL(t, origin).href;
    } catch {
      return null;
    }
  }
  if (t === '*') {
    const origin = head.host === null || head.host === '' ? defaultOrigin : originOf(head.host);
    return origin === null ? null : `${origin}/*`;
  }
  try {
    return new URL(t).href; // the parser admits only http:// without userinfo
  } catch {
    return null;
  }
}
