// Marks "app starts": kiln build imports this after the prelude and before the app, so the
// boot timer (Guest-boot-time) and the bootchart measure up to the first line of app code.
// Spec: docs/ARCHITECTURE.md "Native ops" (op_boot_mark), Firecracker's boot-timer device.

import { ops } from './ops.ts';

ops.op_boot_mark();
