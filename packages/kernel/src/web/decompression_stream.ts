// DecompressionStream (Compression Streams spec): gzip / zlib ("deflate") / raw deflate in,
// bytes out, on pako's inflate, which checks what zlib checks (the gzip CRC-32 and length, the
// zlib Adler-32). Corrupt input, input that ends before the stream does, and data after its end
// error the stream with a TypeError. Installed by install_decompression_stream.ts for apps that
// name it.

import { type ZStream as ZStreamType, ZStream, zlibInflate, zlibInflateInit2, Z_BUF_ERROR, Z_NEED_DICT, Z_NO_FLUSH, Z_OK, Z_STREAM_END } from 'pako';
import { type CompressionFormat, windowBits, ZlibTransform, zlibPair } from './zlib_stream.ts';

export class DecompressionStream extends ZlibTransform {
  constructor(format: CompressionFormat) {
    const what = 'DecompressionStream';
    const bits = windowBits(format, what);
    const strm: ZStreamType = new ZStream();
    if (zlibInflateInit2(strm, bits) !== Z_OK) throw new TypeError(`${what}: zlib could not start (${strm.msg})`);
    const trailing = (): TypeError => new TypeError(`${what}: data after the end of the ${format} stream`);
    super(zlibPair({
      strm,
      run() {
        const status = zlibInflate(strm, Z_NO_FLUSH);
        if (status === Z_STREAM_END) {
          if (strm.avail_in > 0) throw trailing();
          return true;
        }
        if (status === Z_OK || status === Z_BUF_ERROR) return false;
        if (status === Z_NEED_DICT) throw new TypeError(`${what}: the data needs a preset dictionary`);
        throw new TypeError(`${what}: invalid ${format} data (${strm.msg || status})`);
      },
      afterEnd() {
        throw trailing();
      },
    }, what));
  }

  get [Symbol.toStringTag](): string {
    return 'DecompressionStream';
  }
}
