// URL and URLSearchParams (WHATWG URL Standard), enough for servers: parsing absolute and
// relative URLs with the special schemes (http, https, ws, wss, ftp; file with its basic
// form), authority (userinfo, host, port, default ports elided), hosts as domains (ASCII,
// lower-cased, forbidden code points refused), IPv4 in all its number forms and IPv6 (both
// serialized canonically), opaque hosts and opaque paths for other schemes, dot-segment
// removal, backslashes as slashes in special URLs, the spec's percent-encode sets, and
// application/x-www-form-urlencoded for URLSearchParams.
// Not covered: IDNA (a host with non-ASCII characters is a TypeError instead of punycode),
// Windows drive letters and other file: quirks, and the setters for protocol, username,
// password, host, hostname and port follow a simpler rule (re-parse the URL with the new part;
// ignored if that fails) than the spec's state overrides.

import { decodeUtf8, encodeUtf8 } from '@kiln/common/text/utf8.ts';

const SPECIAL_PORTS: Record<string, number | null> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443, 'ftp:': 21, 'file:': null };

// Percent-encode sets (URL Standard §1.3), as "characters to encode" patterns; any code point
// above U+007E is in every set.
const C0_SET = /[\x00-\x1f\x7f-\uffff]/g;
const FRAGMENT_SET = /[\x00-\x20"<>`\x7f-\uffff]/g;
const QUERY_SET = /[\x00-\x20"#<>\x7f-\uffff]/g;
const SPECIAL_QUERY_SET = /[\x00-\x20"#<>'\x7f-\uffff]/g;
const PATH_SET = /[\x00-\x20"#<>?`{}\x7f-\uffff]/g;
const USERINFO_SET = /[\x00-\x20"#<>?`{}/:;=@[\\\]^|\x7f-\uffff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function encodeChar(c: string): string {
  if (c.length === 1 && c.charCodeAt(0) < 0x80) return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  return encodeURIComponent(c);
}

/** Percent-encodes the code points of `s` that are in `set` (UTF-8; lone surrogates as U+FFFD). */
function percentEncode(s: string, set: RegExp): string {
  set.lastIndex = 0;
  if (!set.test(s)) return s;
  return s.replace(LONE_SURROGATE, '\ufffd').replace(/[\ud800-\udbff][\udc00-\udfff]/g, (p) => encodeURIComponent(p)).replace(set, (c) => (c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdfff ? c : encodeChar(c)));
}

/** Percent-decodes `s` into bytes (invalid escapes stay literal), then UTF-8 decodes (invalid → U+FFFD). */
function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes = encodeUtf8(s);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]!) && isHex(bytes[i + 2]!)) {
      out[n++] = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      i += 2;
    } else out[n++] = b;
  }
  return decodeUtf8(out.subarray(0, n));
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

/** WebIDL USVString: lone surrogates become U+FFFD. */
function usv(v: unknown): string {
  const s = String(v);
  return /[\ud800-\udfff]/.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s;
}

function failure(input: string): TypeError {
  return new TypeError(`Invalid URL: "${input}"`);
}

// --- hosts -----------------------------------------------------------------------------

const FORBIDDEN_HOST = /[\x00\t\n\r #/:<>?@[\\\]^|]/;
const FORBIDDEN_DOMAIN = /[\x00-\x20#%/:<>?@[\\\]^|\x7f]/;

function parseIpv4Number(part: string): number {
  if (part === '') return NaN;
  let radix = 10;
  let digits = part;
  if (/^0[xX]/.test(part)) {
    radix = 16;
    digits = part.slice(2);
  } else if (part.length > 1 && part[0] === '0') {
    radix = 8;
    digits = part.slice(1);
  }
  if (digits === '') return 0;
  const re = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9A-Fa-f]+$/ : /^[0-7]+$/;
  if (!re.test(digits)) return NaN;
  return parseInt(digits, radix);
}

/** The URL Standard's "ends in a number" check. */
function endsInANumber(host: string): boolean {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '') {
    if (parts.length === 1) return false;
    parts.pop();
  }
  const last = parts[parts.length - 1]!;
  if (last !== '' && /^[0-9]+$/.test(last)) return true;
  return !Number.isNaN(parseIpv4Number(last)) && /^0[xX]/.test(last);
}

function parseIpv4(host: string, input: string): string {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length > 4) throw failure(input);
  const nums = parts.map(parseIpv4Number);
  if (nums.some((n) => Number.isNaN(n))) throw failure(input);
  for (let i = 0; i < nums.length - 1; i++) if (nums[i]! > 255) throw failure(input);
  if (nums[nums.length - 1]! >= 256 ** (5 - nums.length)) throw failure(input);
  let ipv4 = nums[nums.length - 1]!;
  for (let i = 0; i < nums.length - 1; i++) ipv4 += nums[i]! * 256 ** (3 - i);
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(ipv4 % 256);
    ipv4 = Math.floor(ipv4 / 256);
  }
  return out.join('.');
}

/** IPv6 address text (without brackets) → 8 pieces (URL Standard §3.5 "IPv6 parser"). */
function parseIpv6(s: string, input: string): number[] {
  const pieces = [0, 0, 0, 0, 0, 0, 0, 0];
  let idx = 0;
  let compress = -1;
  let p = 0;
  const c = (i: number): string => s[i] ?? '';
  if (c(p) === ':') {
    if (c(p + 1) !== ':') throw failure(input);
    p += 2;
    compress = ++idx;
  }
  while (p < s.length) {
    if (idx === 8) throw failure(input);
    if (c(p) === ':') {
      if (compress !== -1) throw failure(input);
      p++;
      compress = ++idx;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && /[0-9A-Fa-f]/.test(c(p))) {
      value = value * 16 + parseInt(c(p), 16);
      p++;
      length++;
    }
    if (c(p) === '.') {
      if (length === 0) throw failure(input);
      p -= length;
      if (idx > 6) throw failure(input);
      let seen = 0;
      while (p < s.length) {
        let v = -1;
        if (seen > 0) {
          if (c(p) === '.' && seen < 4) p++;
          else throw failure(input);
        }
        if (!/[0-9]/.test(c(p))) throw failure(input);
        while (/[0-9]/.test(c(p))) {
          const n = Number(c(p));
          if (v === -1) v = n;
          else if (v === 0) throw failure(input);
          else v = v * 10 + n;
          if (v > 255) throw failure(input);
          p++;
        }
        pieces[idx] = pieces[idx]! * 0x100 + v;
        seen++;
        if (seen === 2 || seen === 4) idx++;
      }
      if (seen !== 4) throw failure(input);
      break;
    } else if (c(p) === ':') {
      p++;
      if (p >= s.length) throw failure(input);
    } else if (p < s.length) throw failure(input);
    pieces[idx++] = value;
  }
  if (compress !== -1) {
    let swaps = idx - compress;
    idx = 7;
    while (idx !== 0 && swaps > 0) {
      const t = pieces[compress + swaps - 1]!;
      pieces[compress + swaps - 1] = pieces[idx]!;
      pieces[idx] = t;
      idx--;
      swaps--;
    }
  } else if (idx !== 8) throw failure(input);
  return pieces;
}

function serializeIpv6(pieces: number[]): string {
  // Compress the first longest run of two or more zero pieces.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (pieces[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && pieces[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += pieces[i]!.toString(16);
    if (i < 7) out += ':';
  }
  return `[${out}]`;
}

function parseHost(raw: string, special: boolean, input: string): string {
  if (raw.startsWith('[')) {
    if (!raw.endsWith(']')) throw failure(input);
    return serializeIpv6(parseIpv6(raw.slice(1, -1), input));
  }
  if (!special) {
    if (FORBIDDEN_HOST.test(raw)) throw failure(input);
    return percentEncode(raw, C0_SET);
  }
  const domain = percentDecode(raw);
  if (/[^\x00-\x7f]/.test(domain)) throw new TypeError(`Invalid URL: "${input}" (internationalized domain names are not supported in Kiln)`);
  const ascii = domain.toLowerCase();
  if (ascii === '' || FORBIDDEN_DOMAIN.test(ascii)) throw failure(input);
  return endsInANumber(ascii) ? parseIpv4(ascii, input) : ascii;
}

// --- paths ------------------------------------------------------------------------------

const SINGLE_DOT = /^(?:\.|%2e)$/i;
const DOUBLE_DOT = /^(?:\.|%2e)(?:\.|%2e)$/i;

/** Appends the segments of `path` to `segments`, resolving dot segments (URL Standard path state). */
function appendPath(segments: string[], path: string, special: boolean): void {
  const parts = path.split(special ? /[/\\]/ : '/');
  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i]!;
    const last = i === parts.length - 1;
    if (DOUBLE_DOT.test(seg)) {
      if (segments.length > 0) segments.pop();
      if (last) segments.push('');
    } else if (SINGLE_DOT.test(seg)) {
      if (last) segments.push('');
    } else segments.push(percentEncode(seg, PATH_SET));
  }
}

// --- the URL record -----------------------------------------------------------------------

interface UrlRecord {
  protocol: string; // "http:"
  username: string;
  password: string;
  host: string | null; // serialized host, null when the URL has no authority
  port: number | null;
  /** Segments (hierarchical path) or one opaque string (opaque path). */
  path: string[] | string;
  query: string | null;
  fragment: string | null;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+\-.]*):/;

function splitSuffix(rest: string, special: boolean): { before: string; query: string | null; fragment: string | null } {
  let fragment: string | null = null;
  const h = rest.indexOf('#');
  if (h >= 0) {
    fragment = percentEncode(rest.slice(h + 1), FRAGMENT_SET);
    rest = rest.slice(0, h);
  }
  let query: string | null = null;
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = percentEncode(rest.slice(q + 1), special ? SPECIAL_QUERY_SET : QUERY_SET);
    rest = rest.slice(0, q);
  }
  return { before: rest, query, fragment };
}

/** Parses "userinfo@host:port" into the record. */
function parseAuthority(rec: UrlRecord, auth: string, special: boolean, input: string): void {
  const at = auth.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = auth.slice(0, at);
    const colon = userinfo.indexOf(':');
    rec.username = percentEncode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, USERINFO_SET);
    rec.password = colon >= 0 ? percentEncode(userinfo.slice(colon + 1), USERINFO_SET) : '';
    auth = auth.slice(at + 1);
  }
  let hostText = auth;
  let portText: string | null = null;
  const m = /:([^:\]]*)$/.exec(auth);
  if (m !== null) {
    hostText = auth.slice(0, m.index);
    portText = m[1]!;
  }
  if (hostText === '') {
    if (special && rec.protocol !== 'file:') throw failure(input);
    if (at >= 0 || portText !== null) throw failure(input);
  }
  rec.host = hostText === '' ? '' : parseHost(hostText, special, input);
  if (rec.protocol === 'file:' && rec.host === 'localhost') rec.host = '';
  rec.port = null;
  if (portText !== null && portText !== '') {
    if (!/^[0-9]+$/.test(portText)) throw failure(input);
    const port = Number(portText);
    if (port > 65535) throw failure(input);
    rec.port = SPECIAL_PORTS[rec.protocol] === port ? null : port;
  }
}

function parse(rawInput: string, base: UrlRecord | null): UrlRecord {
  const input = rawInput.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '').replace(/[\t\n\r]/g, '');
  const sm = SCHEME.exec(input);
  let rest: string;
  let rec: UrlRecord;
  if (sm !== null) {
    const protocol = `${sm[1]!.toLowerCase()}:`;
    rest = input.slice(sm[0].length);
    const special = protocol in SPECIAL_PORTS;
    if (special && base !== null && base.protocol === protocol && !/^[/\\]{2}/.test(rest)) {
      // "http:foo" and "http:/foo" against an http: base are relative (URL Standard "special relative or authority" state).
      return parseRelative(rest, base, rawInput);
    }
    rec = { protocol, username: '', password: '', host: null, port: null, path: [], query: null, fragment: null };
    if (special) {
      // Special authority: skip any slashes and backslashes.
      const body = rest.replace(/^[/\\]*/, '');
      if (protocol === 'file:') return parseFile(rec, rest, rawInput);
      const end = body.search(/[/\\?#]/);
      const auth = end < 0 ? body : body.slice(0, end);
      parseAuthority(rec, auth, true, rawInput);
      const sx = splitSuffix(end < 0 ? '' : body.slice(end), true);
      return withPath(rec, sx, sx.before.replace(/^[/\\]/, ''), true);
    }
    if (rest.startsWith('//')) {
      const body = rest.slice(2);
      const end = body.search(/[/?#]/);
      parseAuthority(rec, end < 0 ? body : body.slice(0, end), false, rawInput);
      const sx = splitSuffix(end < 0 ? '' : body.slice(end), false);
      return withPath(rec, sx, sx.before === '' ? undefined : sx.before.slice(1), false);
    }
    const sx = splitSuffix(rest, false);
    if (sx.before.startsWith('/')) return withPath(rec, sx, sx.before.slice(1), false);
    rec.path = percentEncode(sx.before, C0_SET); // an opaque path
    rec.query = sx.query;
    rec.fragment = sx.fragment;
    return rec;
  }
  if (base === null) throw failure(rawInput);
  return parseRelative(input, base, rawInput);
}

function parseFile(rec: UrlRecord, rest: string, rawInput: string): UrlRecord {
  rec.host = '';
  let body = rest;
  if (/^[/\\]{2}/.test(body)) {
    body = body.slice(2);
    const end = body.search(/[/\\?#]/);
    const auth = end < 0 ? body : body.slice(0, end);
    rec.host = auth === '' ? '' : parseHost(auth, true, rawInput);
    if (rec.host === 'localhost') rec.host = '';
    body = end < 0 ? '' : body.slice(end);
  }
  const sx = splitSuffix(body, true);
  return withPath(rec, sx, sx.before.replace(/^[/\\]/, ''), true);
}

/** Ends a record: its path as segments of `path` (its first slash cut; none if undefined), its query and fragment. */
function withPath(rec: UrlRecord, sx: { query: string | null; fragment: string | null }, path: string | undefined, special: boolean): UrlRecord {
  const segs: string[] = [];
  if (path !== undefined) appendPath(segs, path, special);
  rec.path = segs;
  rec.query = sx.query;
  rec.fragment = sx.fragment;
  return rec;
}

function parseRelative(input: string, base: UrlRecord, rawInput: string): UrlRecord {
  const special = base.protocol in SPECIAL_PORTS;
  const rec: UrlRecord = { ...base, path: typeof base.path === 'string' ? base.path : base.path.slice(), fragment: null };
  if (typeof base.path === 'string') {
    if (!input.startsWith('#')) throw failure(rawInput);
    rec.fragment = percentEncode(input.slice(1), FRAGMENT_SET);
    return rec;
  }
  const slash = special ? /^[/\\]/ : /^\//;
  if (special ? /^[/\\]{2}/.test(input) : input.startsWith('//')) {
    // Scheme-relative: a new authority.
    return parse(`${base.protocol}${input}`, null);
  }
  const sx = splitSuffix(input, special);
  rec.fragment = sx.fragment;
  if (sx.before === '') {
    rec.query = sx.query !== null ? sx.query : base.query;
    return rec;
  }
  rec.query = sx.query;
  const segs = slash.test(sx.before) ? [] : (rec.path as string[]);
  if (!slash.test(sx.before)) segs.pop();
  appendPath(segs, slash.test(sx.before) ? sx.before.slice(1) : sx.before, special);
  rec.path = segs;
  return rec;
}

function serializePath(rec: UrlRecord): string {
  if (typeof rec.path === 'string') return rec.path;
  // URL Standard: a path starting with an empty segment and no host gets "/." to stay a path.
  const prefix = rec.host === null && rec.path.length > 1 && rec.path[0] === '' ? '/.' : '';
  let out = prefix;
  for (const s of rec.path) out += `/${s}`;
  return out;
}

function serializeHost(rec: UrlRecord): string {
  if (rec.host === null) return '';
  return rec.port === null ? rec.host : `${rec.host}:${rec.port}`;
}

function serialize(rec: UrlRecord, excludeFragment = false): string {
  let out = rec.protocol;
  if (rec.host !== null) {
    out += '//';
    if (rec.username !== '' || rec.password !== '') {
      out += rec.username;
      if (rec.password !== '') out += `:${rec.password}`;
      out += '@';
    }
    out += serializeHost(rec);
  }
  out += serializePath(rec);
  if (rec.query !== null) out += `?${rec.query}`;
  if (!excludeFragment && rec.fragment !== null) out += `#${rec.fragment}`;
  return out;
}

// --- application/x-www-form-urlencoded --------------------------------------------------------

function formDecode(s: string): string {
  return percentDecode(s.indexOf('+') >= 0 ? s.replace(/\+/g, ' ') : s);
}

function formEncode(s: string): string {
  return encodeURIComponent(s.replace(LONE_SURROGATE, '\ufffd'))
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function parseForm(query: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? [formDecode(part), ''] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
  }
  return out;
}

// --- the classes ------------------------------------------------------------------------

export class URLSearchParams implements Iterable<[string, string]> {
  private list: [string, string][] = [];
  /** @internal The URL whose query this object mirrors. */
  private owner: URL | null = null;

  constructor(init: string | URLSearchParams | Record<string, string> | Iterable<[string, string]> = '') {
    if (typeof init === 'string') {
      const q = usv(init);
      this.list = parseForm(q.startsWith('?') ? q.slice(1) : q);
    } else if (init instanceof URLSearchParams) {
      this.list = init.list.map((p) => [p[0], p[1]]);
    } else if (init !== null && typeof init === 'object') {
      if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
        for (const pair of init as Iterable<Iterable<string>>) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
          this.list.push([usv(p[0]), usv(p[1])]);
        }
      } else {
        for (const k of Object.keys(init)) this.list.push([usv(k), usv((init as Record<string, string>)[k])]);
      }
    } else {
      this.list = parseForm(usv(init));
    }
  }

  get size(): number {
    return this.list.length;
  }

  private update(): void {
    if (this.owner === null) return;
    const q = this.toString();
    setQuery(this.owner, q === '' ? null : q);
  }

  append(name: string, value: string): void {
    this.list.push([usv(name), usv(value)]);
    this.update();
  }

  delete(name: string, value?: string): void {
    const n = String(name);
    this.list = this.list.filter((p) => p[0] !== n || (value !== undefined && p[1] !== String(value)));
    this.update();
  }

  get(name: string): string | null {
    const n = String(name);
    for (const p of this.list) if (p[0] === n) return p[1];
    return null;
  }

  getAll(name: string): string[] {
    const n = String(name);
    return this.list.filter((p) => p[0] === n).map((p) => p[1]);
  }

  has(name: string, value?: string): boolean {
    const n = String(name);
    return this.list.some((p) => p[0] === n && (value === undefined || p[1] === String(value)));
  }

  set(name: string, value: string): void {
    const n = usv(name);
    const v = usv(value);
    const i = this.list.findIndex((p) => p[0] === n);
    if (i < 0) this.list.push([n, v]);
    else {
      this.list[i] = [n, v];
      this.list = this.list.filter((p, j) => j <= i || p[0] !== n);
    }
    this.update();
  }

  /** Stable sort by name, comparing UTF-16 code units. */
  sort(): void {
    this.list = this.list.map((p, i) => [p, i] as const).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map((e) => e[0]);
    this.update();
  }

  forEach(callback: (value: string, name: string, parent: URLSearchParams) => void, thisArg?: unknown): void {
    for (const [n, v] of this.list.slice()) callback.call(thisArg, v, n, this);
  }

  entries(): IterableIterator<[string, string]> {
    return this.list.map((p): [string, string] => [p[0], p[1]])[Symbol.iterator]();
  }
  keys(): IterableIterator<string> {
    return this.list.map((p) => p[0])[Symbol.iterator]();
  }
  values(): IterableIterator<string> {
    return this.list.map((p) => p[1])[Symbol.iterator]();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toString(): string {
    return this.list.map((p) => `${formEncode(p[0])}=${formEncode(p[1])}`).join('&');
  }

  get [Symbol.toStringTag](): string {
    return 'URLSearchParams';
  }
}

function linkParams(params: URLSearchParams, owner: URL, query: string | null): void {
  const p = params as unknown as { owner: URL | null; list: [string, string][] };
  p.owner = owner;
  p.list = query === null ? [] : parseForm(query);
}

function recordOf(u: URL): UrlRecord {
  return (u as unknown as { rec: UrlRecord }).rec;
}

function setQuery(u: URL, query: string | null): void {
  recordOf(u).query = query;
}

export class URL {
  private rec: UrlRecord;
  private params: URLSearchParams | null = null;

  constructor(url: string | URL, base: string | URL | undefined = undefined) { // a default: URL.length is 1, as Web IDL says
    const b = base === undefined ? null : base instanceof URL ? recordOf(base) : parse(String(base), null);
    this.rec = parse(url instanceof URL ? url.href : String(url), b);
  }

  static canParse(url: string, base?: string): boolean {
    try {
      new URL(url, base);
      return true;
    } catch {
      return false;
    }
  }

  static parse(url: string, base?: string): URL | null {
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }

  get href(): string {
    return serialize(this.rec);
  }
  set href(v: string) {
    this.rec = parse(String(v), null);
    if (this.params) linkParams(this.params, this, this.rec.query);
  }

  get origin(): string {
    const r = this.rec;
    if (r.protocol in SPECIAL_PORTS && r.protocol !== 'file:') return `${r.protocol}//${serializeHost(r)}`;
    return 'null';
  }

  get protocol(): string {
    return this.rec.protocol;
  }
  set protocol(v: string) {
    const p = String(v).replace(/:.*$/, '');
    this.reparse(serialize(this.rec).replace(/^[^:]*/, p));
  }

  get username(): string {
    return this.rec.username;
  }
  set username(v: string) {
    if (this.rec.host === null || this.rec.host === '' || this.rec.protocol === 'file:') return;
    this.rec.username = percentEncode(String(v), USERINFO_SET);
  }

  get password(): string {
    return this.rec.password;
  }
  set password(v: string) {
    if (this.rec.host === null || this.rec.host === '' || this.rec.protocol === 'file:') return;
    this.rec.password = percentEncode(String(v), USERINFO_SET);
  }

  get host(): string {
    return serializeHost(this.rec);
  }
  set host(v: string) {
    this.replaceAuthority(String(v), true);
  }

  get hostname(): string {
    return this.rec.host ?? '';
  }
  set hostname(v: string) {
    this.replaceAuthority(String(v), false);
  }

  get port(): string {
    return this.rec.port === null ? '' : String(this.rec.port);
  }
  set port(v: string) {
    const r = this.rec;
    if (r.host === null || r.host === '' || r.protocol === 'file:') return;
    const digits = /^[0-9]*/.exec(String(v))![0];
    if (digits === '') {
      if (String(v) === '') r.port = null;
      return;
    }
    const port = Number(digits);
    if (port > 65535) return;
    r.port = SPECIAL_PORTS[r.protocol] === port ? null : port;
  }

  get pathname(): string {
    return serializePath(this.rec);
  }
  set pathname(v: string) {
    const r = this.rec;
    if (typeof r.path === 'string') return;
    const special = r.protocol in SPECIAL_PORTS;
    const s = String(v).replace(/[\t\n\r]/g, '');
    const segs: string[] = [];
    appendPath(segs, (special ? /^[/\\]/ : /^\//).test(s) ? s.slice(1) : s, special);
    r.path = segs;
  }

  get search(): string {
    const q = this.rec.query;
    return q === null || q === '' ? '' : `?${q}`;
  }
  set search(v: string) {
    let s = String(v).replace(/[\t\n\r]/g, '');
    if (s.startsWith('?')) s = s.slice(1);
    this.rec.query = s === '' && String(v) === '' ? null : percentEncode(s, this.rec.protocol in SPECIAL_PORTS ? SPECIAL_QUERY_SET : QUERY_SET);
    if (this.params) linkParams(this.params, this, this.rec.query);
  }

  get searchParams(): URLSearchParams {
    if (this.params === null) {
      this.params = new URLSearchParams();
      linkParams(this.params, this, this.rec.query);
    }
    return this.params;
  }

  get hash(): string {
    const f = this.rec.fragment;
    return f === null || f === '' ? '' : `#${f}`;
  }
  set hash(v: string) {
    let s = String(v).replace(/[\t\n\r]/g, '');
    if (s === '') {
      this.rec.fragment = null;
      return;
    }
    if (s.startsWith('#')) s = s.slice(1);
    this.rec.fragment = percentEncode(s, FRAGMENT_SET);
  }

  toString(): string {
    return this.href;
  }
  toJSON(): string {
    return this.href;
  }

  get [Symbol.toStringTag](): string {
    return 'URL';
  }

  private replaceAuthority(value: string, withPort: boolean): void {
    const r = this.rec;
    if (r.host === null || typeof r.path === 'string') return;
    const special = r.protocol in SPECIAL_PORTS;
    const end = value.search(special ? /[/\\?#]/ : /[/?#]/);
    const m = /^(\[[^\]]*\]|[^:]*)(?::([0-9]*))?/.exec(end < 0 ? value : value.slice(0, end))!;
    const hostText = m[1]!;
    if (hostText === '' && special) return;
    let host: string;
    try {
      host = parseHost(hostText, special, value);
    } catch {
      return;
    }
    r.host = host;
    if (withPort && m[2] !== undefined && m[2] !== '') {
      const port = Number(m[2]);
      if (port <= 65535) r.port = SPECIAL_PORTS[r.protocol] === port ? null : port;
    }
  }

  private reparse(href: string): void {
    try {
      const rec = parse(href, null);
      if ((rec.protocol in SPECIAL_PORTS) !== (this.rec.protocol in SPECIAL_PORTS)) return;
      this.rec = rec;
    } catch {
      // setters ignore values that do not parse
    }
  }
}
