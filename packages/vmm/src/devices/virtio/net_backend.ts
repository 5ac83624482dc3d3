// virtio-net backends. TAP: /dev/net/tun attached to an existing interface (IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR with TUNSETVNETHDRSZ 12, non-blocking, opened by the addon), readable events from
// the main loop's uv_poll, frames with their 12-byte virtio_net_hdr read and written with one
// read/write each (`vnetHdr`: the device passes the header through); a full TAP queue drops the
// frame (as a NIC would).
// User mode: Debian's passt (https://passt.top) on a socket pair (its fd 3) with QEMU's stream protocol
// (4-byte big-endian length, then the frame); passt answers ARP/DHCP itself, gives the guest
// 10.0.2.15/24 with gateway 10.0.2.2 (QEMU slirp's addresses), forwards the requested loopback
// TCP ports to the guest (`-t 127.0.0.1/HOSTPORT:GUESTPORT`) and exits with the VM (-1 and a kill).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { ARP_LEN, ARP_OP_REQUEST, emitArp } from '@kiln/common/wire/arp.ts';
import { ETHERNET_HEADER_LEN, ETHERTYPE_ARP, MAC_BROADCAST, macFromBytes, writeEthernetHeader } from '@kiln/common/wire/ethernet.ts';
import { parseIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import { TapFd } from '@kiln/kvm';
import { VmmError } from '../../errors.ts';
import type { NetBackend } from './net.ts';

/** Largest frame read from a backend (64 KiB, TAP's own limit; the device drops what exceeds the MTU). */
const MAX_FRAME = 65536;
/** virtio_net_hdr size on the TAP (TUNSETVNETHDRSZ): the 12-byte VERSION_1 header the guest uses. */
const TAP_VNET_HDR_SIZE = 12;
/** Frames read per readable event before yielding (uv_poll is level-triggered: it fires again). */
const READ_BATCH = 64;
/** Bytes queued towards passt before frames from the guest are dropped. */
const PASST_WRITE_MAX = 4 * 1024 * 1024;

export class TapBackend implements NetBackend {
  readonly name: string;
  readonly vnetHdr = true;
  readonly #tap: TapFd;
  readonly #buf = Buffer.allocUnsafe(TAP_VNET_HDR_SIZE + MAX_FRAME);
  #cb: ((frame: Uint8Array) => void) | undefined;
  dropped = 0;

  constructor(ifname: string) {
    this.name = `tap:${ifname}`;
    try {
      this.#tap = new TapFd(ifname, { vnetHdrSize: TAP_VNET_HDR_SIZE });
    } catch (e) {
      const err = e as { errnoName?: string; message: string };
      const why = err.errnoName === 'EPERM' ? 'permission denied (needs CAP_NET_ADMIN or a TAP owned by this user)' : err.errnoName === 'EBUSY' ? 'in use by another process' : err.message;
      throw new VmmError('ENET', `TAP ${ifname}: ${why}`);
    }
    this.#tap.watch(() => this.#readable());
  }

  #readable(): void {
    for (let i = 0; i < READ_BATCH; i++) {
      let n: number;
      try {
        n = readSync(this.#tap.fd, this.#buf, 0, TAP_VNET_HDR_SIZE + MAX_FRAME, null);
      } catch {
        return; // EAGAIN: drained (or the interface went away)
      }
      if (n <= 0) return;
      this.#cb?.(this.#buf.subarray(0, n).slice());
    }
  }

  send(frame: Uint8Array): void {
    try {
      writeSync(this.#tap.fd, frame);
    } catch {
      this.dropped++; // EAGAIN (queue full) or EIO (interface down): the frame is lost
    }
  }

  onFrame(cb: (frame: Uint8Array) => void): void {
    this.#cb = cb;
  }

  close(): void {
    this.#tap.close();
  }
}

export interface HostFwd {
  hostAddr: string;
  hostPort: number;
  guestPort: number;
}

/** How long passt may take to bind the forwarded ports before the VM fails with ENET. */
const PASST_BIND_TIMEOUT_MS = 5000;

/** Whether `table` (/proc/net/tcp: this network namespace's IPv4 sockets) shows addr:port listening. */
export function tcpListening(addr: string, port: number, table: string): boolean {
  const v = parseIpv4Addr(addr);
  if (v === undefined) return false;
  // local_address is the address in network byte order printed as a little-endian word, then the port
  const word = (((v & 0xff) << 24) | (((v >>> 8) & 0xff) << 16) | (((v >>> 16) & 0xff) << 8) | (v >>> 24)) >>> 0;
  const want = `${word.toString(16).toUpperCase().padStart(8, '0')}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want && f[3] === '0A') return true; // 0A: TCP_LISTEN
  }
  return false;
}

/** QEMU slirp's guest addresses, which passt is told to hand out. */
export const USER_NET = { guest: '10.0.2.15', prefix: 24, gateway: '10.0.2.2' } as const;

/**
 * The guest's gratuitous ARP (RFC 5227 §2.3, what kiln:net sends once configured), from its MAC and
 * USER_NET's address. passt (Debian bookworm's) learns the guest's MAC from the guest's first frame
 * and until then addresses frames to 00:00:00:00:00:00, which the guest drops: a client that
 * connected before the guest had sent anything got no SYN-ACK. The backend sends this for the
 * guest as passt starts.
 */
export function guestAnnouncement(guestMac: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_LEN);
  const mac = macFromBytes(guestMac);
  const ip = parseIpv4Addr(USER_NET.guest)!;
  writeEthernetHeader(frame, MAC_BROADCAST, mac, ETHERTYPE_ARP);
  emitArp({ operation: ARP_OP_REQUEST, senderMac: mac, senderIp: ip, targetMac: 0, targetIp: ip }, frame.subarray(ETHERNET_HEADER_LEN));
  return frame;
}

export class PasstBackend implements NetBackend {
  readonly name = 'passt';
  readonly #child: ChildProcess;
  readonly #sock: Socket;
  #cb: ((frame: Uint8Array) => void) | undefined;
  #pending: Buffer = Buffer.alloc(0);
  #closed = false;
  #onExit: ((why: string) => void) | undefined;
  #exitReason: string | undefined;
  dropped = 0;

  readonly #hostfwd: readonly HostFwd[];

  private constructor(child: ChildProcess, sock: Socket, hostfwd: readonly HostFwd[]) {
    this.#child = child;
    this.#sock = sock;
    this.#hostfwd = hostfwd;
    sock.on('data', (d: Buffer) => this.#data(d));
    sock.on('error', () => {});
  }

  /** passt's command line: the connected socket is its fd 3 (-F 3), so there is no socket file. */
  static args(hostfwd: readonly HostFwd[]): string[] {
    const a = ['-f', '-q', '-1', '-4', '-F', '3', '-a', USER_NET.guest, '-n', String(USER_NET.prefix), '-g', USER_NET.gateway, '-u', 'none'];
    if (hostfwd.length === 0) a.push('-t', 'none');
    for (const f of hostfwd) a.push('-t', `${f.hostAddr}/${f.hostPort}:${f.guestPort}`);
    return a;
  }

  /**
   * Checks that the forwarded ports are free and starts passt on one end of a socket pair (its
   * stdio fd 3); resolves as soon as the process exists (a VmmError ENET if it could not start).
   * Frames the guest sends meanwhile wait in the socket pair. passt failing later (a bad forward
   * it refuses, a crash) reaches onUnexpectedExit, which runVm turns into the VM's outcome. The
   * wait for its listening ports is ready(), so it overlaps the rest of the VM's setup. With
   * `guestMac`, passt is told the guest's MAC first (guestAnnouncement).
   */
  static async start(hostfwd: readonly HostFwd[], o: { passt?: string; guestMac?: Uint8Array } = {}): Promise<PasstBackend> {
    for (const f of hostfwd) {
      const err = await new Promise<string | undefined>((resolve) => {
        const srv = createServer();
        srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' ? 'is in use' : e.code === 'EACCES' ? 'needs privileges' : e.message));
        srv.listen({ host: f.hostAddr, port: f.hostPort, exclusive: true }, () => srv.close(() => resolve(undefined)));
      });
      if (err !== undefined) throw new VmmError('ENET', `user-mode networking: host port ${f.hostAddr}:${f.hostPort} ${err}`);
    }
    const child = spawn(o.passt ?? 'passt', PasstBackend.args(hostfwd), { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const started = await new Promise<string | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'passt is not installed (apt-get install passt)' : e.message));
    });
    if (started !== undefined) throw new VmmError('ENET', `user-mode networking: ${started}`);
    const backend = new PasstBackend(child, child.stdio[3] as Socket, hostfwd);
    if (o.guestMac) backend.send(guestAnnouncement(o.guestMac));
    child.on('exit', (code, sig) => {
      if (backend.#closed) return;
      const detail = stderr.split('\n').filter((l) => l && !l.startsWith('Failed to send') && !l.startsWith("Don't run as root")).slice(-2).join('; ');
      backend.#exitReason = `passt exited (${sig ?? `code ${code}`})${detail ? `: ${detail}` : ''}`;
      backend.#onExit?.(backend.#exitReason);
    });
    return backend;
  }

  /**
   * Resolves once passt listens on every forwarded host port, so a client that connects when the
   * guest says it is listening is not refused (the guest boots in a few ms, passt binds in ~15).
   * runVm awaits it just before the vCPUs start, after everything else is set up. Rejects (ENET)
   * if passt ends first or takes longer than PASST_BIND_TIMEOUT_MS.
   */
  async ready(): Promise<void> {
    if (this.#hostfwd.length === 0) return;
    const t0 = Date.now();
    for (;;) {
      const table = readFileSync('/proc/net/tcp', 'utf8');
      if (this.#hostfwd.every((f) => tcpListening(f.hostAddr, f.hostPort, table))) return;
      if (this.#exitReason !== undefined) throw new VmmError('ENET', `user-mode networking: ${this.#exitReason}`);
      if (Date.now() - t0 > PASST_BIND_TIMEOUT_MS) throw new VmmError('ENET', `user-mode networking: passt did not listen on ${this.#hostfwd.map((f) => `${f.hostAddr}:${f.hostPort}`).join(', ')} within ${PASST_BIND_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** `cb` learns why passt ended if it ends before close() (at once if it already has): the NIC is dead from then on. */
  onUnexpectedExit(cb: (why: string) => void): void {
    this.#onExit = cb;
    if (this.#exitReason !== undefined) cb(this.#exitReason);
  }

  #data(d: Buffer): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, d]) : d;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (len > MAX_FRAME) {
        // out of sync with passt: nothing sensible can follow
        this.#sock.destroy();
        this.#pending = Buffer.alloc(0);
        return;
      }
      if (buf.length < 4 + len) break;
      this.#cb?.(new Uint8Array(buf.subarray(4, 4 + len)));
      buf = buf.subarray(4 + len);
    }
    this.#pending = Buffer.from(buf);
  }

  send(frame: Uint8Array): void {
    if (this.#closed || this.#sock.writableLength > PASST_WRITE_MAX) {
      this.dropped++;
      return;
    }
    const out = Buffer.allocUnsafe(4 + frame.length);
    out.writeUInt32BE(frame.length, 0);
    out.set(frame, 4);
    this.#sock.write(out);
  }

  onFrame(cb: (frame: Uint8Array) => void): void {
    this.#cb = cb;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock.destroy();
    const gone = new Promise<void>((r) => (this.#child.exitCode !== null || this.#child.signalCode !== null ? r() : this.#child.once('exit', () => r())));
    this.#child.kill('SIGTERM');
    const t = setTimeout(() => this.#child.kill('SIGKILL'), 1000);
    await gone;
    clearTimeout(t);
  }
}
