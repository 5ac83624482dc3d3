// Joins byte chunks into one Uint8Array (a single chunk is returned as it is, not copied): bodies
// read in pieces (web/body.ts), multipart serialisation (web/multipart.ts), Blob parts (web/blob.ts).

export function concatBytes(chunks: Uint8Array[], total = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
