// The `kiln:http` module: an HTTP/1.1 server with web-standard Request/Response/Headers, in
// Deno.serve's shape: serve({ port, hostname?, signal?, onListen?, onError?, limits? }, handler)
// → HttpServer { addr, finished, shutdown() }. It listens on TCP through kiln:net, or on any
// Conn/Listener given as `listener` (kiln:vsock's listen(PORT), for one: importing kiln:vsock is
// the app's choice, so TCP-only apps do not carry the vsock driver).
// The server itself is http/server.ts; the classes it hands out are web/ (also installed as
// globals when an app names them). Apps typecheck against this file
// (packages/kernel/tsconfig.app.json maps kiln:http here).

import type { AbortSignalLike } from '../lib/abort_signal_like.ts';
import { HttpServer } from '../http/server.ts';
import { limitsForHeap, type ErrorHandler, type Handler, type HttpLimits, type HttpListener } from '../http/types.ts';
import { ops } from '../ops.ts';
import { listen as listenTcp } from './net.ts';

export { HttpServer };
export type { Handler, ErrorHandler, HttpLimits, HttpListener, ServeInfo, HttpConn } from '../http/types.ts';
export { Headers } from '../web/headers.ts';
export { Request } from '../web/request.ts';
export { Response } from '../web/response.ts';

export interface ServeOptions {
  /** TCP port (default 8000). */
  port?: number;
  /** Local address to accept on (default "0.0.0.0": any). */
  hostname?: string;
  /** Serve on this listener instead of TCP: kiln:vsock's listen(PORT), or any Conn/Listener of that shape. */
  listener?: HttpListener;
  /** Aborting it shuts the server down. */
  signal?: AbortSignalLike;
  /** Called once listening (default: logs "Listening on http://HOST:PORT/"). */
  onListen?: (addr: unknown) => void;
  onError?: ErrorHandler;
  limits?: Partial<HttpLimits>;
}

function describeAddr(addr: unknown): string {
  const a = addr as { transport?: string; hostname?: string; port?: number; cid?: number };
  if (a && a.transport === 'tcp') return `http://${a.hostname === '0.0.0.0' ? 'localhost' : a.hostname}:${a.port}/`;
  if (a && typeof a.cid === 'number') return `http://localhost/ on vsock cid ${a.cid} port ${a.port}`;
  return String(addr);
}

function originOf(addr: unknown): string {
  const a = addr as { transport?: string; hostname?: string; port?: number };
  if (a && a.transport === 'tcp') return `http://${a.hostname === '0.0.0.0' ? 'localhost' : a.hostname}${a.port === 80 ? '' : `:${a.port}`}`;
  return 'http://localhost';
}

/** Serves `handler` until shutdown() or the signal aborts; the server keeps the program alive meanwhile. */
export function serve(handler: Handler): HttpServer;
export function serve(options: ServeOptions, handler: Handler): HttpServer;
export function serve(a: ServeOptions | Handler, b?: Handler): HttpServer {
  const options: ServeOptions = typeof a === 'function' ? {} : a;
  const handler = typeof a === 'function' ? a : b;
  if (typeof handler !== 'function') throw new TypeError('serve needs a handler function (request) => Response');
  let listener: HttpListener;
  if (options.listener !== undefined) listener = options.listener;
  else listener = listenTcp({ port: options.port ?? 8000, hostname: options.hostname });
  const server = new HttpServer(listener, handler, {
    limits: { ...limitsForHeap(ops.op_heap_size()), ...options.limits }, onError: options.onError, signal: options.signal, defaultOrigin: originOf(listener.addr),
  });
  (options.onListen ?? ((addr: unknown) => console.log(`Listening on ${describeAddr(addr)}`)))(listener.addr);
  return server;
}
