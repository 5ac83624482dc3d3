// TCP and UDP echo server on kiln:net: every TCP connection to PORT gets back what it sends
// until it closes its side, every UDP datagram to PORT is sent back. Arguments: [PORT [N]]:
// port (default 7), and stop after N TCP connections (default: serve forever); once stopped
// the program closes its sockets and ends (nothing else keeps it alive).
// Run: kiln run tcp-echo.elf --net user,hostfwd=tcp:127.0.0.1:7007-:7 -- 7 1
//      kiln run tcp-echo.elf --net tap=tap0,ip=10.0.2.15/24 -- 7    (or without ip=: DHCP)

import { configured, listen, listenDatagram, type Conn } from 'kiln:net';
import { args } from 'kiln:process';

async function echo(conn: Conn): Promise<number> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(64 * 1024);
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
  const port = args[0] === undefined ? 7 : Number(args[0]);
  const limit = args[1] === undefined || args[1] === '0' ? Infinity : Number(args[1]);
  const listener = listen({ port });
  const udp = listenDatagram({ port });
  void (async () => {
    for await (const d of udp) await udp.send(d.data, d.remoteAddr);
  })();
  const nic = await configured();
  console.log(`tcp-echo: listening on ${nic.address}:${port} (${nic.method}, gateway ${nic.gateway ?? 'none'}, mac ${nic.mac})`);
  let served = 0;
  for await (const conn of listener) {
    const n = await echo(conn);
    console.log(`tcp-echo: echoed ${n} bytes to ${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`);
    if (++served >= limit) break;
  }
  listener.close();
  udp.close();
}

main().catch((err: unknown) => {
  console.log(`tcp-echo: ${String(err)}`);
  throw err;
});
