// Test and benchmark helper (Node only): a loopback TCP port nothing listens on right now, for a
// hostfwd or a host server a test starts. The port is free when this resolves; a test binds it soon.

import { createServer } from 'node:net';

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
