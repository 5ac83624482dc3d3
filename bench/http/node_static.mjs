// The host-side reference for the static-web-server part of bench/http: serves the files under
// DIR (argv[2]) with the same content types and 404s as examples/static-web-server, on Node's own
// HTTP server. Listens on PORT (argv[3]) at 127.0.0.1 and prints "listening".
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html;charset=UTF-8', '.css': 'text/css;charset=UTF-8', '.js': 'text/javascript;charset=UTF-8', '.json': 'application/json', '.txt': 'text/plain;charset=UTF-8', '.png': 'image/png', '.svg': 'image/svg+xml' };
const dir = process.argv[2];
const port = Number(process.argv[3] ?? 8080);
createServer(async (req, res) => {
  let path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (path.endsWith('/')) path += 'index.html';
  try {
    const body = await readFile(join(dir, path));
    res.setHeader('content-type', TYPES[extname(path)] ?? 'application/octet-stream');
    res.end(body);
  } catch {
    res.statusCode = 404;
    res.end('not found');
  }
}).listen(port, '127.0.0.1', () => console.log('listening'));
