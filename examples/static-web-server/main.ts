// Toro's static web server on Kiln: serves the files baked into the image's bootfs
// (`kiln build --assets DIR`), with content types, index.html for directories, HEAD, and 404s.
// Paths the filesystem refuses (a NUL, a name or path too long) are 400s, and anything else that
// fails is a 500 logged in one line, with control characters escaped (the path is the client's).
// Run: kiln build examples/static-web-server/main.ts --assets examples/static-web-server/public -o web.elf
//      kiln run web.elf --net user,hostfwd=tcp:127.0.0.1:8080-:8080   (then: curl localhost:8080/)

import { readFile, stat } from 'kiln:fs';
import { serve } from 'kiln:http';
import { args } from 'kiln:process';

const port = args[0] ? Number(args[0]) : 8080;

const TYPES: Record<string, string> = {
  html: 'text/html;charset=UTF-8',
  css: 'text/css;charset=UTF-8',
  js: 'text/javascript;charset=UTF-8',
  json: 'application/json',
  txt: 'text/plain;charset=UTF-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  ico: 'image/x-icon',
};

function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot > path.lastIndexOf('/') && TYPES[path.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}

const escape = (s: string): string => s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
const badRequest = (): Response => new Response('bad request\n', { status: 400, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
const notFound = (): Response => new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain;charset=UTF-8' } });

serve({ port }, async (req) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return new Response('method not allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } });
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url).pathname);
  } catch {
    return badRequest();
  }
  try {
    if ((await stat(path)).isDirectory()) path = path.replace(/\/?$/, '/index.html');
    const body = await readFile(path);
    return new Response(body, { headers: { 'content-type': contentType(path) } });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return notFound();
    if (code === 'EINVAL' || code === 'ENAMETOOLONG') {
      console.log(`static-web-server: 400 ${code} ${escape(path.slice(0, 200))}`);
      return badRequest();
    }
    console.error(`static-web-server: 500 ${escape(String(code ?? (e as Error).name))} ${escape(path.slice(0, 200))}: ${escape(String((e as Error).message))}`);
    return new Response('internal server error\n', { status: 500 });
  }
});
