// The multipart/form-data codec (RFC 7578; HTML's "multipart/form-data encoding algorithm" as
// undici and browsers write it): serialise a FormData with a random boundary, and parse a body
// given its Content-Type's boundary back into one. Parsing is strict about structure (a missing
// boundary, a part without Content-Disposition or name, a truncated body: TypeError) and linear in
// the body's size; the body itself is bounded by whoever read it (kiln:http's body limit).

import { decodeUtf8, encodeUtf8 } from '@kiln/common/text/utf8.ts';
import { concatBytes } from '../lib/concat_bytes.ts';
import { blobBytes, fileOf } from './blob.ts';
import { FormData } from './form_data.ts';

const CRLF = '\r\n';

/** Names and filenames in a Content-Disposition: quotes and line breaks percent-encoded, as browsers do. */
function escapeName(s: string): string {
  return s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

/** String values' bare CR and LF become CRLF (the encoding algorithm's line-break normalisation). */
function normalizeLineBreaks(s: string): string {
  return s.replace(/\r(?!\n)|(?<!\r)\n/g, CRLF);
}

export function newBoundary(): string {
  let r = '';
  for (let i = 0; i < 24; i++) r += Math.floor(Math.random() * 16).toString(16);
  return `----formdata-kiln-${r}`;
}

/** The body bytes of `form` between `boundary` delimiters. */
export function serializeMultipart(form: FormData, boundary: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array): void => {
    chunks.push(b);
    total += b.length;
  };
  for (const [name, value] of form) {
    let head = `--${boundary}${CRLF}Content-Disposition: form-data; name="${escapeName(normalizeLineBreaks(name))}"`;
    if (typeof value === 'string') {
      push(encodeUtf8(`${head}${CRLF}${CRLF}${normalizeLineBreaks(value)}${CRLF}`));
      continue;
    }
    head += `; filename="${escapeName(value.name)}"${CRLF}Content-Type: ${value.type || 'application/octet-stream'}${CRLF}${CRLF}`;
    push(encodeUtf8(head));
    push(blobBytes(value));
    push(encodeUtf8(CRLF));
  }
  push(encodeUtf8(`--${boundary}--${CRLF}`));
  return concatBytes(chunks, total);
}

/** The boundary parameter of a multipart/form-data Content-Type, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m === null ? null : (m[1] ?? m[2])!;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const fail = (why: string): never => {
  throw new TypeError(`Failed to parse body as FormData: ${why}`);
};

/** A parameter (name or filename) of a Content-Disposition header value, or null. Quoted values
 * end at the next quote: browsers percent-encode quotes and send backslashes as they are. */
function dispositionParam(value: string, param: string): string | null {
  const m = new RegExp(`;\\s*${param}="([^"]*)"|;\\s*${param}=([^\\s;"]+)`, 'i').exec(value);
  if (m === null) return null;
  const raw = m[1] ?? m[2]!;
  return raw.replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');
}

/** Parses a multipart/form-data body (TypeError naming the fault). File parts keep their bytes as views of `body`. */
export function parseMultipart(body: Uint8Array, boundary: string): FormData {
  const form = new FormData();
  const delimiter = encodeUtf8(`--${boundary}`);
  const next = encodeUtf8(`\r\n--${boundary}`);
  // The first delimiter may open the body or follow a preamble line.
  let at = body.length >= delimiter.length && indexOfBytes(body.subarray(0, delimiter.length), delimiter, 0) === 0 ? 0 : indexOfBytes(body, next, 0) + 2;
  if (at < 0 || at === 1) fail(`no "--${boundary}" delimiter`);
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return form; // the close delimiter
    // Transport padding, then CRLF.
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) fail('a delimiter is not followed by CRLF');
    at += 2;
    const headEnd = indexOfBytes(body, encodeUtf8('\r\n\r\n'), at);
    if (headEnd < 0) fail('a part has no end of headers');
    const headers = new Map<string, string>();
    for (const line of decodeUtf8(body.subarray(at, headEnd)).split(CRLF)) {
      const colon = line.indexOf(':');
      if (colon <= 0) fail(`bad part header "${line.slice(0, 80)}"`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const disposition = headers.get('content-disposition');
    if (disposition === undefined || !/^form-data\s*(;|$)/i.test(disposition)) fail('a part has no "Content-Disposition: form-data"');
    const name = dispositionParam(disposition!, 'name');
    if (name === null) fail('a part has no name');
    const contentStart = headEnd + 4;
    const contentEnd = indexOfBytes(body, next, contentStart);
    if (contentEnd < 0) fail('the body ends inside a part (no closing delimiter)');
    const content = body.subarray(contentStart, contentEnd);
    const filename = dispositionParam(disposition!, 'filename');
    if (filename === null) form.append(name!, decodeUtf8(content));
    else form.append(name!, fileOf(content, filename, headers.get('content-type') ?? 'text/plain'));
    at = contentEnd + 2;
  }
}
