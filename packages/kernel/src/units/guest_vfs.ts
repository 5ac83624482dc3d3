// The guest's one VFS (what kiln:fs operates on), registered with the lifecycle so cached
// writes go back to their devices before the VM ends: when the event loop drains, on
// process.exit and on an uncaught error (units/lifecycle.ts, bounded by EXIT_FLUSH_NS).

import { Vfs } from '../fs/vfs.ts';
import { addExitFlush } from './lifecycle.ts';

export const vfs = new Vfs();

addExitFlush({ name: 'writing back the filesystems', pending: () => vfs.dirty, flush: () => vfs.sync() });
