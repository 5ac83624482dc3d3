// @kiln/kernel: guest TypeScript. The bundle entry is prelude.ts (globals, tick handler);
// apps reach kernel units through `kiln:*` modules (their types are the units': see
// tsconfig.app.json), not this index.
// This index exists for host-side tooling and tests.

export { ops, type KilnOps } from './ops.ts';
export { inspect, format } from './units/inspect.ts';
export { parseCmdline, quoteArg, tokenize, type Cmdline } from '@kiln/common/cmdline.ts';
