// Types of the `kiln:*` modules for apps (examples/*/main.ts typecheck against these with the
// kernel tsconfig). Implementations: kiln:process → units/process.ts, kiln:block → units/block.ts, kiln:vsock → units/vsock.ts,
// kiln:fs → units/fs.ts, kiln:netdev → units/netdev.ts, kiln:net → units/net.ts, kiln:http → units/http.ts
// (kiln build maps them).
// Keep in step with the implementation. Spec: shared/DESIGN.md §4 "App API".

declare module 'kiln:process' {
  /** Arguments after `--` on the guest command line (`kiln run app.elf -- a b`). */
  export const args: string[];
  /** NAME=value pairs given before `--` on the guest command line. */
  export const env: Record<string, string>;
  /** Kernel parameters (keys containing a dot, bare words). */
  export const kernelParams: Record<string, string>;
  export const argv0: string;
  /** Ends the VM now with `code` (0–255; default: exitCode, else 0). */
  export function exit(code?: number): never;
  const process: {
    readonly args: string[];
    readonly env: Record<string, string>;
    readonly kernelParams: Record<string, string>;
    readonly argv0: string;
    exit(code?: number): never;
    /** Exit code used when the event loop drains (default 0). */
    exitCode: number | undefined;
  };
  export default process;
}

declare module 'kiln:block' {
  export type BlockErrorCode = 'ENODEV' | 'EROFS' | 'EINVAL' | 'EIO' | 'ENOTSUP';
  export class BlockError extends Error {
    readonly code: BlockErrorCode;
  }
  export interface BlockDevice {
    /** Size in bytes (a multiple of 512). */
    readonly size: number;
    readonly readOnly: boolean;
    /** Reads `length` bytes at `offset` (both multiples of 512, inside the disk). */
    read(offset: number, length: number): Promise<Uint8Array>;
    /** Writes `bytes` at `offset` (multiples of 512); EROFS on a read-only disk. */
    write(offset: number, bytes: Uint8Array): Promise<void>;
    /** Asks the device to make written data durable (a no-op without VIRTIO_BLK_F_FLUSH). */
    flush(): Promise<void>;
    /** The device's id string (virtio GET_ID, at most 20 characters). */
    id(): Promise<string>;
  }
  /** Opens the `index`-th virtio-blk disk (`kiln run --disk PATH`); ENODEV when there is none. */
  export function openBlockDevice(index?: number): Promise<BlockDevice>;
}

declare module 'kiln:vsock' {
  export type VsockErrorCode = 'ENODEV' | 'ECONNREFUSED' | 'ECONNRESET' | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EINVAL' | 'EPIPE' | 'EBADF' | 'ENOTCONN';
  export class VsockError extends Error {
    readonly code: VsockErrorCode;
  }
  export interface Addr {
    cid: number;
    port: number;
  }
  /** A stream connection (Deno's Conn shape). */
  export interface Conn {
    readonly localPort: number;
    readonly remotePort: number;
    readonly remoteCid: number;
    readonly localAddr: Addr;
    readonly remoteAddr: Addr;
    /** Reads into `buf`: the byte count, or null at end of stream; ECONNRESET if the peer reset. */
    read(buf: Uint8Array): Promise<number | null>;
    /** Writes all of `bytes`; resolves with its length once the peer had room for the last byte. */
    write(bytes: Uint8Array): Promise<number>;
    /** No more writes: the peer reads end of stream after what was written. */
    closeWrite(): Promise<void>;
    /** Closes both directions (pending reads resolve null). */
    close(): void;
  }
  /** A listening port (Deno's Listener shape): accept() or `for await (const conn of listener)`. */
  export interface Listener extends AsyncIterable<Conn> {
    readonly port: number;
    readonly addr: Addr;
    accept(): Promise<Conn>;
    close(): void;
  }
  /** The host's CID. */
  export const VMADDR_CID_HOST: 2;
  /** This guest's CID (`kiln run --vsock CID,...`). */
  export function localCid(): number;
  /** Listens on `port`; keeps the program alive until close(). EADDRINUSE if taken, ENODEV without --vsock. */
  export function listen(port: number): Listener;
  /** Connects to `port` on `cid` (2 = the host: `<UDS_PATH>_<port>`); ECONNREFUSED when nobody listens. */
  export function connect(cid: number, port: number): Promise<Conn>;
}

declare module 'kiln:netdev' {
  export type NetDevErrorCode = 'ENODEV' | 'EINVAL' | 'EMSGSIZE' | 'EIO';
  export class NetDevError extends Error {
    readonly code: NetDevErrorCode;
  }
  export interface NetStats {
    rxFrames: number;
    rxBytes: number;
    /** Frames received with nobody listening (or shorter than an Ethernet header). */
    rxDropped: number;
    txFrames: number;
    txBytes: number;
    /** Device interrupts handled and notifications (VM exits) sent. */
    interrupts: number;
    notifications: number;
  }
  export interface NetDevice {
    /** The NIC's MAC address (6 bytes). */
    readonly mac: Uint8Array;
    /** Largest payload of a frame, without the Ethernet header (1500 unless the device says). */
    readonly mtu: number;
    /** Sends one Ethernet frame (header included, no FCS; 14 to mtu + 18 bytes). Resolves once the device took it. */
    write(frame: Uint8Array): Promise<void>;
    /** Calls `cb` with every received frame, in the event loop, until the returned function is called; keeps the program alive meanwhile. */
    listen(cb: (frame: Uint8Array) => void): () => void;
    stats(): NetStats;
  }
  /** Opens the `index`-th virtio-net NIC (`kiln run --net tap=NAME` or `--net user,...`); ENODEV when there is none. */
  export function openNetDevice(index?: number): Promise<NetDevice>;
}

declare module 'kiln:fs' {
  export type FsErrorCode =
    | 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'ENOSPC' | 'EROFS' | 'EINVAL' | 'EIO'
    | 'EBADF' | 'ENAMETOOLONG' | 'EACCES' | 'EPERM' | 'EXDEV' | 'EBUSY' | 'ELOOP' | 'EFBIG' | 'ENODEV';
  /** A filesystem error, as Node's: message `CODE: description, syscall 'path'`. */
  export class FsError extends Error {
    readonly code: FsErrorCode;
    readonly syscall: string;
    readonly path: string;
  }
  export const constants: {
    readonly F_OK: 0; readonly R_OK: 4; readonly W_OK: 2; readonly X_OK: 1; readonly COPYFILE_EXCL: 1;
    readonly S_IFMT: number; readonly S_IFREG: number; readonly S_IFDIR: number; readonly S_IFLNK: number;
  };
  /** utf8 (utf-8) and latin1 (binary); without one, bytes. */
  export type Encoding = 'utf8' | 'utf-8' | 'latin1' | 'binary';
  /** r, r+, rs+, w, wx, w+, wx+, a, ax, a+, ax+, as, as+ (Node's). */
  export type OpenFlag = 'r' | 'r+' | 'rs+' | 'w' | 'wx' | 'xw' | 'w+' | 'wx+' | 'xw+' | 'a' | 'as' | 'ax' | 'xa' | 'a+' | 'as+' | 'ax+' | 'xa+';
  export type Data = string | Uint8Array | ArrayBufferView | ArrayBuffer;
  export class Stats {
    readonly dev: number; readonly ino: number; readonly mode: number; readonly nlink: number;
    readonly uid: number; readonly gid: number; readonly rdev: number; readonly size: number;
    readonly blksize: number; readonly blocks: number;
    readonly atimeMs: number; readonly mtimeMs: number; readonly ctimeMs: number; readonly birthtimeMs: number;
    readonly atime: Date; readonly mtime: Date; readonly ctime: Date; readonly birthtime: Date;
    isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isBlockDevice(): boolean;
    isCharacterDevice(): boolean; isFIFO(): boolean; isSocket(): boolean;
  }
  export class Dirent {
    readonly name: string;
    readonly parentPath: string;
    readonly path: string;
    isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isBlockDevice(): boolean;
    isCharacterDevice(): boolean; isFIFO(): boolean; isSocket(): boolean;
  }
  export interface ReadStreamOptions {
    start?: number;
    /** Last byte to read, inclusive (Node's). */
    end?: number;
    highWaterMark?: number;
    /** Close the file handle at the end (default true). */
    autoClose?: boolean;
  }
  /** A file's chunks: `for await (const chunk of stream)`. */
  export class ReadStream implements AsyncIterable<Uint8Array> {
    readonly bytesRead: number;
    /** The next chunk, or null at the end. */
    read(): Promise<Uint8Array | null>;
    close(): Promise<void>;
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  }
  export interface WriteStreamOptions {
    start?: number;
    encoding?: Encoding;
    autoClose?: boolean;
  }
  /** Sequential writes; each promise resolves once its bytes are written. */
  export class WriteStream {
    readonly bytesWritten: number;
    write(chunk: Data): Promise<void>;
    /** Writes a last chunk, waits for all writes, closes the handle (autoClose). */
    end(chunk?: Data): Promise<void>;
  }
  export interface ReadOptions { buffer?: Uint8Array; offset?: number; length?: number; position?: number | null }
  /** An open file (Node's FileHandle). A null position means "at the file position, and advance it". */
  export class FileHandle {
    readonly fd: number;
    read(buffer?: Uint8Array, offset?: number, length?: number, position?: number | null): Promise<{ bytesRead: number; buffer: Uint8Array }>;
    read(buffer: Uint8Array, options: Omit<ReadOptions, 'buffer'>): Promise<{ bytesRead: number; buffer: Uint8Array }>;
    read(options: ReadOptions): Promise<{ bytesRead: number; buffer: Uint8Array }>;
    write(buffer: Uint8Array | ArrayBufferView | ArrayBuffer, offset?: number | null, length?: number, position?: number | null): Promise<{ bytesWritten: number; buffer: Data }>;
    write(text: string, position?: number | null, encoding?: Encoding): Promise<{ bytesWritten: number; buffer: Data }>;
    readFile(options: Encoding | { encoding: Encoding }): Promise<string>;
    readFile(options?: { encoding?: null }): Promise<Uint8Array>;
    writeFile(data: Data, options?: Encoding | { encoding?: Encoding | null }): Promise<void>;
    appendFile(data: Data, options?: Encoding | { encoding?: Encoding | null }): Promise<void>;
    stat(): Promise<Stats>;
    truncate(len?: number): Promise<void>;
    sync(): Promise<void>;
    datasync(): Promise<void>;
    close(): Promise<void>;
    createReadStream(options?: ReadStreamOptions): ReadStream;
    createWriteStream(options?: WriteStreamOptions): WriteStream;
  }
  export interface MountInfo {
    path: string;
    /** "bootfs", "tmpfs", "vfat", "virtiofs". */
    type: string;
    readOnly: boolean;
    /** "bootfs", "tmpfs", "disk:N", "virtiofs:TAG". */
    source: string;
  }
  export function open(path: string, flags?: OpenFlag, mode?: number): Promise<FileHandle>;
  export function readFile(path: string, options: Encoding | { encoding: Encoding; flag?: OpenFlag }): Promise<string>;
  export function readFile(path: string, options?: { encoding?: null; flag?: OpenFlag }): Promise<Uint8Array>;
  export function writeFile(path: string, data: Data, options?: Encoding | { encoding?: Encoding | null; flag?: OpenFlag; mode?: number }): Promise<void>;
  export function appendFile(path: string, data: Data, options?: Encoding | { encoding?: Encoding | null; flag?: OpenFlag; mode?: number }): Promise<void>;
  export function stat(path: string): Promise<Stats>;
  /** Kiln's filesystems have no symbolic links: lstat is stat. */
  export function lstat(path: string): Promise<Stats>;
  export function readdir(path: string, options: { withFileTypes: true; recursive?: boolean }): Promise<Dirent[]>;
  export function readdir(path: string, options?: Encoding | { encoding?: Encoding; withFileTypes?: false; recursive?: boolean }): Promise<string[]>;
  /** With recursive: the first directory created (undefined if none), and no EEXIST. */
  export function mkdir(path: string, options?: number | { recursive?: boolean; mode?: number }): Promise<string | undefined>;
  export function rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  export function rmdir(path: string): Promise<void>;
  export function unlink(path: string): Promise<void>;
  /** EXDEV across filesystems, EBUSY for mount points. */
  export function rename(oldPath: string, newPath: string): Promise<void>;
  export function truncate(path: string, len?: number): Promise<void>;
  export function copyFile(src: string, dest: string, mode?: number): Promise<void>;
  export function access(path: string, mode?: number): Promise<void>;
  export function realpath(path: string): Promise<string>;
  export function createReadStream(path: string, options?: ReadStreamOptions & { flags?: OpenFlag }): AsyncIterable<Uint8Array> & { close(): Promise<void> };
  export function createWriteStream(path: string, options?: WriteStreamOptions & { flags?: OpenFlag }): Promise<WriteStream>;
  /** Node's StatFs; `type` is the filesystem's name. */
  export function statfs(path: string): Promise<{ type: string; bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number }>;
  /** The mounted filesystems (bootfs from --assets, --mount ones, mount() ones), by path. */
  export function mounts(): MountInfo[];
  /** Mounts "tmpfs", "disk:N" or "virtiofs:TAG" at `path`. */
  export function mount(path: string, source: string): Promise<void>;
  /** Writes back and detaches; EBUSY while files on it are open or filesystems are mounted below. */
  export function unmount(path: string): Promise<void>;
  /** Writes every cached change back (this also happens when the program ends). */
  export function sync(): Promise<void>;
}

declare module 'kiln:net' {
  export type NetErrorCode =
    | 'ECONNREFUSED' | 'ECONNRESET' | 'ECONNABORTED' | 'ETIMEDOUT' | 'EADDRINUSE' | 'EADDRNOTAVAIL'
    | 'EHOSTUNREACH' | 'ENETUNREACH' | 'EINVAL' | 'EPIPE' | 'EBADF' | 'ENOTCONN' | 'EMSGSIZE' | 'ENODEV';
  export class NetError extends Error {
    readonly code: NetErrorCode;
  }
  export interface NetAddr {
    transport: 'tcp' | 'udp';
    /** A dotted IPv4 address. */
    hostname: string;
    port: number;
  }
  /** A TCP connection (kiln:vsock's and Deno's Conn shape). */
  export interface Conn {
    readonly localAddr: NetAddr;
    readonly remoteAddr: NetAddr;
    /** Reads into `buf`: the byte count, or null at end of stream; ECONNRESET/ETIMEDOUT when the connection broke. */
    read(buf: Uint8Array): Promise<number | null>;
    /** Writes all of `bytes`; resolves with its length once the send buffer took the last byte (backpressure). */
    write(bytes: Uint8Array): Promise<number>;
    /** No more writes: the peer reads end of stream after what was written. */
    closeWrite(): Promise<void>;
    /** Closes both ways: what was written is still delivered (FIN after it); pending reads resolve null. */
    close(): void;
    /** Disables Nagle's algorithm (default on). */
    setNoDelay(noDelay?: boolean): void;
    /** TCP keep-alive probes after `idleMs` without traffic (default 2 h). */
    setKeepAlive(enabled?: boolean, idleMs?: number): void;
    /** Aborts the connection (ETIMEDOUT) after `ms` without a byte received or sent; 0 turns it off. */
    setIdleTimeout(ms: number): void;
  }
  /** A listening TCP port: accept() or `for await (const conn of listener)`. */
  export interface Listener extends AsyncIterable<Conn> {
    readonly addr: NetAddr;
    /** The next connection; EBADF once closed. */
    accept(): Promise<Conn>;
    /** Stops listening; connections not yet accepted are reset. */
    close(): void;
  }
  export interface Datagram {
    data: Uint8Array;
    remoteAddr: NetAddr;
  }
  /** A UDP socket: receive() or `for await (const d of socket)`. */
  export interface DatagramConn extends AsyncIterable<Datagram> {
    readonly addr: NetAddr;
    /** Datagrams dropped because 64 were waiting already. */
    readonly dropped: number;
    receive(): Promise<Datagram>;
    /** Sends one datagram (at most MTU - 28 bytes: EMSGSIZE) to a dotted IPv4 address. */
    send(bytes: Uint8Array, to: { hostname: string; port: number }): Promise<number>;
    close(): void;
  }
  export interface ListenOptions {
    port: number;
    /** Local address to accept on (default 0.0.0.0: any). */
    hostname?: string;
    /** Established connections waiting for accept(). */
    backlog?: number;
    /** setIdleTimeout for each accepted connection. */
    idleTimeoutMs?: number;
  }
  export interface ConnectOptions {
    /** A dotted IPv4 address (kiln:net has no DNS). */
    hostname: string;
    port: number;
    /** ETIMEDOUT if the connection is not up in time (default: the TCP layer's SYN retries, ~2 min). */
    timeoutMs?: number;
    idleTimeoutMs?: number;
  }
  export interface InterfaceInfo {
    name: string;
    mac: string;
    mtu: number;
    /** static: ip= on the command line (kiln run --net user passes one); dhcp: no ip= or ip=dhcp; off: ip=off. */
    method: 'static' | 'dhcp' | 'off';
    /** Undefined until configured. */
    address: string | undefined;
    netmask: string | undefined;
    prefixLength: number | undefined;
    gateway: string | undefined;
    dns: string[];
    hostname: string;
  }
  /** Listens on a TCP port of NIC 0 (the stack comes up on first use); keeps the program alive until close(). */
  export function listen(options: ListenOptions): Listener;
  /** Opens a TCP connection; an open Conn keeps the program alive until closed. */
  export function connect(options: ConnectOptions): Promise<Conn>;
  /** Binds a UDP port (0: ephemeral). */
  export function listenDatagram(options: { port: number; hostname?: string }): DatagramConn;
  /** The network interfaces ([] without a NIC). */
  export function interfaces(): InterfaceInfo[];
  /** Resolves once the interface has an address: at once with a static ip=, after DHCP otherwise. */
  export function configured(): Promise<InterfaceInfo>;
  /** Interface and transmit counters (drops, checksum failures, fragments, ICMP sent...). */
  export function stats(): { interface: Record<string, number>; transmit: { queued: number; dropped: number; errors: number } };
}

declare module 'kiln:http' {
  /** Limits and timeouts of one server (every field optional in ServeOptions.limits). */
  export interface HttpLimits {
    /** Request line + header fields + blank line, bytes (431 beyond; 414 for a request line alone). Default 16 KiB. */
    maxHeadBytes: number;
    /** Header field lines per request (431 beyond). Default 100. */
    maxHeaders: number;
    /** Request body bytes (413 beyond). Default 10 MiB. */
    maxBodyBytes: number;
    /** Open connections; further ones are closed at once. Default 1024. */
    maxConnections: number;
    /** Unread request body the server reads and discards to keep a connection (else it closes it). Default 256 KiB. */
    maxDrainBytes: number;
    /** From the first byte of a request to the end of its head (408 and close). Default 10 s. */
    headerTimeoutMs: number;
    /** An idle keep-alive connection waiting for its next request (closed). Default 5 s. */
    idleTimeoutMs: number;
    /** Longest wait for the next bytes of a request body (408 and close). Default 30 s. */
    bodyTimeoutMs: number;
    /** Longest wait for the peer to take response bytes (close). Default 30 s. */
    writeTimeoutMs: number;
  }
  /** A byte stream connection: kiln:net's and kiln:vsock's Conn have this shape. */
  export interface HttpConn {
    readonly remoteAddr?: unknown;
    read(buf: Uint8Array): Promise<number | null>;
    write(bytes: Uint8Array): Promise<number>;
    closeWrite(): Promise<void>;
    close(): void;
    setNoDelay?(noDelay?: boolean): void;
  }
  /** A listener: kiln:net's listen() and kiln:vsock's listen() return one. */
  export interface HttpListener<C extends HttpConn = HttpConn> {
    readonly addr: unknown;
    accept(): Promise<C>;
    close(): void;
  }
  export interface ServeInfo {
    /** The peer: { transport: 'tcp', hostname, port } over TCP, { cid, port } over vsock. */
    remoteAddr: unknown;
  }
  export type Handler = (request: Request, info: ServeInfo) => Response | Promise<Response>;
  /** Answers when the handler throws (default: log the error, 500). */
  export type ErrorHandler = (error: unknown) => Response | Promise<Response>;
  export interface ServeOptions {
    /** TCP port (default 8000). */
    port?: number;
    /** Local address to accept on (default "0.0.0.0": any). */
    hostname?: string;
    /** Serve on this listener instead of TCP, e.g. kiln:vsock's listen(PORT). */
    listener?: HttpListener;
    /** Aborting it shuts the server down (anything with `aborted` and addEventListener('abort')). */
    signal?: { readonly aborted: boolean; addEventListener(type: 'abort', listener: () => void): void };
    /** Called once listening (default: logs "Listening on http://HOST:PORT/"). */
    onListen?: (addr: unknown) => void;
    onError?: ErrorHandler;
    limits?: Partial<HttpLimits>;
  }
  export interface HttpServer {
    /** The listener's address ({ transport: 'tcp', hostname, port } for TCP). */
    readonly addr: unknown;
    /** Resolves once the server stopped accepting and every connection is closed. */
    readonly finished: Promise<void>;
    /** Stops accepting; idle connections close now, busy ones after their response. Resolves like `finished`. */
    shutdown(): Promise<void>;
    /** Connections accepted, refused (over maxConnections), open now. */
    stats(): { accepted: number; refused: number; active: number };
  }
  /**
   * Serves HTTP/1.1 (keep-alive, pipelining, chunked bodies both ways, Expect: 100-continue)
   * until shutdown() or the signal; the server keeps the program alive meanwhile. A handler
   * that throws gets a 500 (onError), malformed requests a 400-class answer.
   */
  export function serve(handler: Handler): HttpServer;
  export function serve(options: ServeOptions, handler: Handler): HttpServer;
  export const Headers: typeof globalThis.Headers;
  export const Request: typeof globalThis.Request;
  export const Response: typeof globalThis.Response;
}
