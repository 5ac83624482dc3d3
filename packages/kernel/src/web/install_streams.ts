// Installs ReadableStream (the subset in readable_stream.ts) and its default reader and
// controller as globals, only for apps whose bundle names ReadableStream
// (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import { ReadableStream, ReadableStreamDefaultController, ReadableStreamDefaultReader } from './readable_stream.ts';

for (const [name, value] of [
  ['ReadableStream', ReadableStream], ['ReadableStreamDefaultReader', ReadableStreamDefaultReader], ['ReadableStreamDefaultController', ReadableStreamDefaultController],
] as const) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
