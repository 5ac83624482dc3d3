// The host-side reference for bench/http: the same handler as examples/http-hello ("hello" for every request), on
// Node's own HTTP server (the ceiling Kiln is compared with), and inside the Linux+Node guest
// that bench/http/linux_guest.sh builds. Listens on PORT (argv[2], default 8080) at HOST
// (argv[3], default 127.0.0.1) and prints "listening" once it does.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 8080);
const host = process.argv[3] ?? '127.0.0.1';
createServer((req, res) => {
  res.setHeader('content-type', 'text/plain;charset=UTF-8');
  res.end('hello');
}).listen(port, host, () => console.log('listening'));
