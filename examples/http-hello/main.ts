// The smallest kiln:http server, on TCP port 8080 through kiln:net: every request gets "hello".
// The benchmark target (wrk against this guest vs the same handler on host Node). `-- N` shuts
// the server down after N requests (default: serve forever); the program then ends.
// Run: kiln run http-hello.elf --net user,hostfwd=tcp:127.0.0.1:8080-:8080
//      then: curl --http1.1 http://127.0.0.1:8080/

import { serve } from 'kiln:http';
import { args } from 'kiln:process';

const limit = args[0] === undefined ? Infinity : Number(args[0]);
let served = 0;
const server = serve({ port: 8080 }, () => {
  if (++served >= limit) queueMicrotask(() => void server.shutdown());
  return new Response('hello');
});
