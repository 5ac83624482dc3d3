// HTTP server on vsock port 8080 (kiln:http over kiln:vsock's listener): GET / says hello,
// /echo sends the request body back (streamed), /json shows the parsed request, /stream sends a
// chunked body, /quit answers and shuts the server down (the program then ends).
// Run: kiln run http-vsock.elf --vsock 3,/tmp/h.sock
//      then on the host: printf 'CONNECT 8080\nGET / HTTP/1.1\r\nHost: x\r\n\r\n' | socat - UNIX-CONNECT:/tmp/h.sock

import { serve } from 'kiln:http';
import { listen } from 'kiln:vsock';

const PORT = 8080;

const server = serve({ listener: listen(PORT), onListen: () => console.log(`http-vsock: listening on vsock port ${PORT}`) }, async (req) => {
  const url = new URL(req.url);
  switch (url.pathname) {
    case '/':
      return new Response('hello');
    case '/echo':
      return new Response(req.body, { headers: { 'content-type': req.headers.get('content-type') ?? 'application/octet-stream' } });
    case '/json':
      return Response.json({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: Object.fromEntries(req.headers), body: await req.text() });
    case '/stream':
      return new Response((async function* () {
        for (let i = 0; i < 3; i++) yield new TextEncoder().encode(`part ${i}\n`);
      })());
    case '/quit':
      queueMicrotask(() => void server.shutdown());
      return new Response('bye\n', { headers: { connection: 'close' } });
    default:
      return new Response('not found\n', { status: 404 });
  }
});

server.finished.then(() => console.log('http-vsock: server stopped'));
