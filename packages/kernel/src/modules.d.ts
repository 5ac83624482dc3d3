// Types of the `kiln:*` modules for apps (examples/*/main.ts typecheck against these with the
// kernel tsconfig). Implementations: kiln:process → units/process.ts, kiln:block → units/block.ts, kiln:vsock → units/vsock.ts
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
