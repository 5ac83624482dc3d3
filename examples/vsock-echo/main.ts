// Echo server on vsock port 5000: every connection gets back what it sends, until it closes
// its side. `-- N` stops after N connections (default: serve forever).
// Run: kiln run vsock-echo.elf --vsock 3,/tmp/v.sock -- 1
//      then on the host: printf 'CONNECT 5000\nhello\n' | socat - UNIX-CONNECT:/tmp/v.sock

import { listen, type Conn } from 'kiln:vsock';
import { args } from 'kiln:process';

const PORT = 5000;

async function echo(conn: Conn): Promise<number> {
  const buf = new Uint8Array(16 * 1024);
  let total = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    await conn.write(buf.subarray(0, n));
    total += n;
  }
  conn.close();
  return total;
}

async function main(): Promise<void> {
  const limit = args[0] === undefined ? Infinity : Number(args[0]);
  const listener = listen(PORT);
  console.log(`listening on vsock port ${PORT}`);
  let served = 0;
  for await (const conn of listener) {
    const n = await echo(conn);
    console.log(`echoed ${n} bytes to port ${conn.remotePort}`);
    if (++served >= limit) break;
  }
  listener.close();
}

main().catch((err: unknown) => {
  console.log(String(err));
  throw err;
});
