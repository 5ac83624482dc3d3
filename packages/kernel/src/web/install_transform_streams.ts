// Installs WritableStream, TransformStream and the text streams (TextEncoderStream,
// TextDecoderStream) with their writer and controllers as globals, only for apps whose bundle
// names one of them (packages/cli/src/build.ts OPTIONAL_GLOBALS); ReadableStream comes with them.

import './install_streams.ts';
import { TextDecoderStream, TextEncoderStream, TransformStream, TransformStreamDefaultController } from './transform_stream.ts';
import { WritableStream, WritableStreamDefaultController, WritableStreamDefaultWriter } from './writable_stream.ts';

for (const [name, value] of [
  ['WritableStream', WritableStream], ['WritableStreamDefaultWriter', WritableStreamDefaultWriter], ['WritableStreamDefaultController', WritableStreamDefaultController],
  ['TransformStream', TransformStream], ['TransformStreamDefaultController', TransformStreamDefaultController],
  ['TextEncoderStream', TextEncoderStream], ['TextDecoderStream', TextDecoderStream],
] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
