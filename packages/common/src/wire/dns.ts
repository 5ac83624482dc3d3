// DNS messages (RFC 1035 §4), as much as a stub resolver needs: a recursive query for one name
// and type (A, or any type number), and the parse of a response — the header, the question
// echoed back, and the answer records (A addresses, CNAME targets; other types kept as raw
// data). Names may be compressed (§4.1.4): a pointer must point backwards, so a hostile loop
// ends; every length is checked against the message, and a name is at most 255 bytes in 127
// labels. A malformed message is a DnsFormatError, never an exception of another kind.

import type { Ipv4Addr } from './ipv4.ts';

export const DNS_PORT = 53;
export const DnsType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28 } as const;
const DNS_CLASS_IN = 1;
/** Response codes (RCODE) a resolver acts on. */
export const DnsRcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const HEADER_LEN = 12;
const MAX_NAME = 255;
const MAX_LABEL = 63;

export class DnsFormatError extends Error {
  constructor(message: string) {
    super(`malformed DNS message: ${message}`);
    this.name = 'DnsFormatError';
  }
}

export interface DnsRecord {
  /** Lower-cased, without the final dot. */
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A: the address; CNAME, NS, PTR: the target name; others: undefined (see `data`). */
  address?: Ipv4Addr;
  target?: string;
  data: Uint8Array;
}

export interface DnsResponse {
  id: number;
  /** QR set: this is a response. */
  response: boolean;
  /** TC: the server cut the message to fit a datagram. */
  truncated: boolean;
  rcode: number;
  question: { name: string; type: number; class: number } | undefined;
  answers: DnsRecord[];
}

/** Whether `name` is a hostname a query can carry: dot-separated labels of 1–63 bytes, 255 in all. */
export function checkDnsName(name: string): string | undefined {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '') return 'the name is empty';
  if (n.length > MAX_NAME - 2) return 'the name is longer than 253 characters';
  for (const label of n.split('.')) {
    if (label === '') return 'the name has an empty label';
    if (label.length > MAX_LABEL) return `the label "${label.slice(0, 20)}…" is longer than 63 characters`;
    if (!/^[A-Za-z0-9_-]+$/.test(label)) return `the label "${label}" has characters other than letters, digits, "-" and "_"`;
  }
  return undefined;
}

/** A recursive (RD) query for `name`'s records of `type`; throws a RangeError for a name checkDnsName refuses. */
export function encodeDnsQuery(id: number, name: string, type: number = DnsType.A): Uint8Array {
  const bad = checkDnsName(name);
  if (bad !== undefined) throw new RangeError(`cannot ask DNS for ${JSON.stringify(name)}: ${bad}`);
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  const nameLen = labels.reduce((n, l) => n + 1 + l.length, 1);
  const out = new Uint8Array(HEADER_LEN + nameLen + 4);
  out[0] = (id >>> 8) & 0xff;
  out[1] = id & 0xff;
  out[2] = 0x01; // RD
  out[5] = 1; // QDCOUNT
  let at = HEADER_LEN;
  for (const l of labels) {
    out[at++] = l.length;
    for (let i = 0; i < l.length; i++) out[at++] = l.charCodeAt(i);
  }
  out[at++] = 0;
  out[at++] = type >>> 8;
  out[at++] = type & 0xff;
  out[at++] = 0;
  out[at++] = DNS_CLASS_IN;
  return out;
}

const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const be32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** Reads the (possibly compressed) name at `at`: the name and where the bytes after it start. */
function readName(msg: Uint8Array, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = start;
  let next = -1;
  let length = 1;
  let lowest = start; // a pointer must go below every position read so far: no loops
  for (;;) {
    if (at >= msg.length) throw new DnsFormatError('a name runs past the end');
    const len = msg[at]!;
    if (len === 0) {
      if (next === -1) next = at + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (at + 1 >= msg.length) throw new DnsFormatError('a name pointer runs past the end');
      const target = ((len & 0x3f) << 8) | msg[at + 1]!;
      if (target >= lowest) throw new DnsFormatError('a name pointer does not point backwards');
      if (next === -1) next = at + 2;
      lowest = target;
      at = target;
      continue;
    }
    if (kind !== 0) throw new DnsFormatError(`a label has the reserved type bits ${kind >>> 6}`);
    if (at + 1 + len > msg.length) throw new DnsFormatError('a label runs past the end');
    length += 1 + len;
    if (length > MAX_NAME) throw new DnsFormatError('a name is longer than 255 bytes');
    let label = '';
    for (let i = at + 1; i <= at + len; i++) label += String.fromCharCode(msg[i]!);
    labels.push(label.toLowerCase());
    at += 1 + len;
  }
  return { name: labels.join('.'), next };
}

/** Parses a response (or any message): throws DnsFormatError when it is malformed. */
export function parseDnsMessage(msg: Uint8Array): DnsResponse {
  if (msg.length < HEADER_LEN) throw new DnsFormatError(`${msg.length} bytes is shorter than the 12-byte header`);
  const flags = be16(msg, 2);
  const qdcount = be16(msg, 4);
  const ancount = be16(msg, 6);
  let at = HEADER_LEN;
  let question: DnsResponse['question'];
  for (let i = 0; i < qdcount; i++) {
    const { name, next } = readName(msg, at);
    if (next + 4 > msg.length) throw new DnsFormatError('the question runs past the end');
    if (i === 0) question = { name, type: be16(msg, next), class: be16(msg, next + 2) };
    at = next + 4;
  }
  const answers: DnsRecord[] = [];
  for (let i = 0; i < ancount; i++) {
    const { name, next } = readName(msg, at);
    if (next + 10 > msg.length) throw new DnsFormatError('a record header runs past the end');
    const type = be16(msg, next);
    const rdlength = be16(msg, next + 8);
    const rdata = next + 10;
    if (rdata + rdlength > msg.length) throw new DnsFormatError('a record\'s data runs past the end');
    const record: DnsRecord = { name, type, class: be16(msg, next + 2), ttl: be32(msg, next + 4), data: msg.slice(rdata, rdata + rdlength) };
    if (type === DnsType.A) {
      if (rdlength !== 4) throw new DnsFormatError(`an A record has ${rdlength} bytes of data, not 4`);
      record.address = be32(msg, rdata);
    } else if (type === DnsType.CNAME || type === DnsType.NS || type === DnsType.PTR) {
      const target = readName(msg, rdata);
      if (target.next !== rdata + rdlength) throw new DnsFormatError('a name record\'s data is not one name');
      record.target = target.name;
    }
    answers.push(record);
    at = rdata + rdlength;
  }
  return { id: be16(msg, 0), response: (flags & 0x8000) !== 0, truncated: (flags & 0x0200) !== 0, rcode: flags & 0x0f, question, answers };
}

/** The addresses `name` has in a response's answers, following CNAMEs inside it (at most 8), with the least TTL on the way. */
export function addressesOf(r: DnsResponse, name: string): { addresses: Ipv4Addr[]; ttl: number } {
  let want = name.toLowerCase().replace(/\.$/, '');
  let ttl = Infinity;
  for (let hops = 0; hops <= 8; hops++) {
    const a = r.answers.filter((x) => x.type === DnsType.A && x.class === DNS_CLASS_IN && x.name === want);
    if (a.length > 0) return { addresses: a.map((x) => x.address!), ttl: Math.min(ttl, ...a.map((x) => x.ttl)) };
    const c = r.answers.find((x) => x.type === DnsType.CNAME && x.name === want);
    if (!c) break;
    ttl = Math.min(ttl, c.ttl);
    want = c.target!;
  }
  return { addresses: [], ttl: 0 };
}
