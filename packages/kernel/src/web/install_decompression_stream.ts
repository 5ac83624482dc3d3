// Installs DecompressionStream (decompression_stream.ts) as a global, only for apps whose bundle names it
// (packages/cli/src/build.ts OPTIONAL_GLOBALS); the streams it is made of come with it.

import './install_transform_streams.ts';
import { DecompressionStream } from './decompression_stream.ts';

Object.defineProperty(globalThis, 'DecompressionStream', { value: DecompressionStream, writable: true, configurable: true, enumerable: false });
