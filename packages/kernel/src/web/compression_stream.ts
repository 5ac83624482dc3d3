// CompressionStream (Compression Streams spec): bytes in, gzip / zlib ("deflate") / raw deflate
// out, at zlib's default level, on pako's deflate (zlib_stream.ts drives it with backpressure).
// Installed by install_compression_stream.ts only for apps that name it.

import { type ZStream as ZStreamType, ZStream, zlibDeflate, zlibDeflateInit2, Z_DEFAULT_STRATEGY, Z_FINISH, Z_NO_FLUSH, Z_STREAM_END, Z_BUF_ERROR, Z_OK } from 'pako';
import { type CompressionFormat, windowBits, ZlibTransform, zlibPair } from './zlib_stream.ts';

const Z_DEFLATED = 8;
const Z_DEFAULT_COMPRESSION = -1;
const MEM_LEVEL = 8;

export class CompressionStream extends ZlibTransform {
  constructor(format: CompressionFormat) {
    const what = 'CompressionStream';
    const bits = windowBits(format, what);
    const strm: ZStreamType = new ZStream();
    if (zlibDeflateInit2(strm, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, MEM_LEVEL, Z_DEFAULT_STRATEGY) !== Z_OK) {
      throw new TypeError(`${what}: zlib could not start (${strm.msg})`);
    }
    super(zlibPair({
      strm,
      run(finish) {
        const status = zlibDeflate(strm, finish ? Z_FINISH : Z_NO_FLUSH);
        if (status === Z_STREAM_END) return true;
        if (status === Z_OK || status === Z_BUF_ERROR) return false;
        throw new TypeError(`${what}: zlib failed (${strm.msg || status})`);
      },
      afterEnd() {
        throw new TypeError(`${what}: written after close`);
      },
    }, what));
  }

  get [Symbol.toStringTag](): string {
    return 'CompressionStream';
  }
}
