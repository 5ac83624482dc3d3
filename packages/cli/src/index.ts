// @kiln/cli: the kiln command (main) and its parts, importable by tests and scripts.
// Spec: docs/ARCHITECTURE.md; help texts in help.ts.

export { main } from './main.ts';
export { buildImage, bundle, compileBytecode, kilnResolvePlugin } from './build.ts';
export { runImage, guestCmdline, type RunOptions } from './run.ts';
export { runQemu, qemuArgs, decodeQemuStatus, kvmUsable } from './qemu.ts';
export { checkImage } from './image_check.ts';
export { CliError, EXIT_CODES } from './errors.ts';
