// Node-only test helper: node:net sockets in the Conn/Listener shape of kiln:vsock and kiln:net
// (read(buf) → count | null, write(bytes) → count once flushed to the socket, closeWrite,
// close; accept(), close()), so the guest's HTTP server can be tested in Node against real
// peers (fetch, node:http, curl, raw sockets). Reads pause the socket past 64 KiB buffered.
// Not part of the guest (the kernel tsconfig excludes testing/node_*.ts).

import { createServer, type Server, type Socket } from 'node:net';

const HIGH_WATER = 64 * 1024;

export interface TcpAddr {
  transport: 'tcp';
  hostname: string;
  port: number;
}

class CodedError extends Error {
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
  }
}

export class NodeConn {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private error: Error | undefined;
  private readers: { buf: Uint8Array; resolve(n: number | null): void; reject(e: Error): void }[] = [];
  readonly remoteAddr: TcpAddr;
  readonly localAddr: TcpAddr;

  constructor(readonly socket: Socket) {
    this.remoteAddr = { transport: 'tcp', hostname: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.localAddr = { transport: 'tcp', hostname: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      if (this.buffered > HIGH_WATER) socket.pause();
      this.serveReaders();
    });
    socket.on('end', () => {
      this.ended = true;
      this.serveReaders();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.serveReaders();
    });
    socket.on('close', () => {
      this.ended = true;
      this.serveReaders();
    });
  }

  private take(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, buf.length - n);
      buf.set(c.subarray(0, k), n);
      n += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    if (this.buffered <= HIGH_WATER && this.socket.isPaused()) this.socket.resume();
    return n;
  }

  private serveReaders(): void {
    while (this.readers.length > 0) {
      const r = this.readers[0]!;
      if (this.buffered > 0) {
        this.readers.shift();
        r.resolve(this.take(r.buf));
      } else if (this.error) {
        this.readers.shift();
        r.reject(this.error);
      } else if (this.ended) {
        this.readers.shift();
        r.resolve(null);
      } else return;
    }
  }

  read(buf: Uint8Array): Promise<number | null> {
    if (this.buffered > 0 || buf.length === 0) return Promise.resolve(this.take(buf));
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.readers.push({ buf, resolve, reject }));
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.socket.destroyed || this.socket.writableEnded) return Promise.reject(new CodedError('EPIPE', 'the connection is closed for writing'));
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (e) => (e ? reject(e) : resolve(bytes.length)));
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.writableEnded) resolve();
      else this.socket.end(resolve);
    });
  }

  close(): void {
    this.socket.destroy();
    this.ended = true;
    this.serveReaders();
  }
}

export class NodeListener {
  private readonly backlog: NodeConn[] = [];
  private readonly waiting: { resolve(c: NodeConn): void; reject(e: Error): void }[] = [];
  private open = true;

  private constructor(readonly server: Server) {
    server.on('connection', (s: Socket) => {
      const c = new NodeConn(s);
      const w = this.waiting.shift();
      if (w) w.resolve(c);
      else this.backlog.push(c);
    });
  }

  /** Listens on 127.0.0.1 at an ephemeral port. */
  static listen(): Promise<NodeListener> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(new NodeListener(server)));
    });
  }

  get addr(): TcpAddr {
    const a = this.server.address();
    return { transport: 'tcp', hostname: '127.0.0.1', port: typeof a === 'object' && a !== null ? a.port : 0 };
  }

  accept(): Promise<NodeConn> {
    const c = this.backlog.shift();
    if (c) return Promise.resolve(c);
    if (!this.open) return Promise.reject(new CodedError('EBADF', 'the listener is closed'));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.server.close();
    for (const w of this.waiting.splice(0)) w.reject(new CodedError('EBADF', 'the listener is closed'));
    for (const c of this.backlog.splice(0)) c.close();
  }
}
