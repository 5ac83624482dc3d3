// Blob and FormData as Request/Response bodies (Fetch §5.2 "extract a body", §5.3 formData() and
// blob()): registered with body.ts by install_blob.ts and install_form_data.ts, so only apps that
// use Blob or FormData carry them. A FormData body is serialised as multipart/form-data with a
// fresh boundary; formData() parses multipart/form-data and application/x-www-form-urlencoded.

import { decodeUtf8 } from '@kiln/common/text/utf8.ts';
import { Blob, blobBytes, blobOf } from './blob.ts';
import { registerFormBodies, type ExtractedBody } from './body.ts';
import { FormData } from './form_data.ts';
import { boundaryOf, newBoundary, parseMultipart, serializeMultipart } from './multipart.ts';
import { URLSearchParams } from './url.ts';

/** The MIME type's essence: "type/subtype" in lower case, parameters dropped. */
const essence = (contentType: string): string => contentType.split(';', 1)[0]!.trim().toLowerCase();

registerFormBodies({
  extract(init: object): ExtractedBody | null {
    if (init instanceof Blob) return { source: { kind: 'bytes', bytes: blobBytes(init) }, type: init.type === '' ? null : init.type };
    if (init instanceof FormData) {
      const boundary = newBoundary();
      return { source: { kind: 'bytes', bytes: serializeMultipart(init, boundary) }, type: `multipart/form-data; boundary=${boundary}` };
    }
    return null;
  },
  formData(bytes: Uint8Array, contentType: string): FormData {
    const mime = essence(contentType);
    if (mime === 'multipart/form-data') {
      const boundary = boundaryOf(contentType);
      if (boundary === null) throw new TypeError('Failed to parse body as FormData: multipart/form-data without a boundary parameter');
      return parseMultipart(bytes, boundary);
    }
    if (mime === 'application/x-www-form-urlencoded') {
      const form = new FormData();
      for (const [k, v] of new URLSearchParams(decodeUtf8(bytes))) form.append(k, v);
      return form;
    }
    throw new TypeError(`Failed to parse body as FormData: Content-Type "${contentType}" is neither multipart/form-data nor application/x-www-form-urlencoded`);
  },
  blob(bytes: Uint8Array, contentType: string): Blob {
    return blobOf(bytes, contentType); // the Blob normalises the type
  },
});
