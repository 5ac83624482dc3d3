// `node:stream/promises` for guests: pipeline and finished returning promises, npm
// readable-stream's (the same functions as node:stream's `promises`, units/node/stream.ts).
// Spec: Node.js stream (Streams Promises API); docs/ARCHITECTURE.md "The CLI" (bundler conventions).

import Stream from './stream.ts';

const { promises } = Stream;
export const { pipeline, finished } = promises;
export default promises;
