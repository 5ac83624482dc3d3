// Installs CompressionStream (compression_stream.ts) as a global, only for apps whose bundle names it
// (packages/cli/src/build.ts OPTIONAL_GLOBALS); the streams it is made of come with it.

import './install_transform_streams.ts';
import { CompressionStream } from './compression_stream.ts';

Object.defineProperty(globalThis, 'CompressionStream', { value: CompressionStream, writable: true, configurable: true, enumerable: false });
