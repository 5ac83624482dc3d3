// `node:fs/promises`: kiln:fs (units/fs.ts, which has node:fs/promises's shapes over the guest's
// VFS), with a default export as Node's module has. An app importing it gets kiln:fs's boot
// mounts, as with kiln:fs itself (kiln build counts it as kiln:fs).
import * as fs from '../fs.ts';

export * from '../fs.ts';
export default fs;
