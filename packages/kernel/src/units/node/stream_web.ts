// `node:stream/web` for guests: the kernel's WHATWG streams, the same classes as the guest's
// globals (web/install_streams.ts, install_transform_streams.ts, install_compression_stream.ts,
// install_decompression_stream.ts), so Readable.toWeb's streams (units/node/stream.ts) are
// instances of these. Each is bundled only if imported. Absent, as the kernel has no byte streams
// nor size()-aware strategies: ReadableStreamBYOBReader, ReadableStreamBYOBRequest,
// ReadableByteStreamController, ByteLengthQueuingStrategy, CountQueuingStrategy.
// Spec: Node.js Web Streams API; docs/ARCHITECTURE.md "The CLI" (bundler conventions).

export { ReadableStream, ReadableStreamDefaultController, ReadableStreamDefaultReader } from '../../web/readable_stream.ts';
export { WritableStream, WritableStreamDefaultController, WritableStreamDefaultWriter } from '../../web/writable_stream.ts';
export { TextDecoderStream, TextEncoderStream, TransformStream, TransformStreamDefaultController } from '../../web/transform_stream.ts';
export { CompressionStream } from '../../web/compression_stream.ts';
export { DecompressionStream } from '../../web/decompression_stream.ts';
