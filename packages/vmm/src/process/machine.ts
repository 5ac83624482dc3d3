// The process machine: the guest runs as a confined Linux process, the tender (arch/tender/),
// on the same device models as on KVM. Guest RAM is a memfd both processes map (the control page
// after it); register accesses arrive over a stream socket like KVM exits and are answered in
// order; QueueNotify and interrupts are eventfds plus control-page bits (ioeventfd's and irqfd's
// equivalents); InterruptStatus/ACK never leave the guest (the transports keep their status
// word in the control page). Everything the guest sends is hostile input: a malformed frame, a
// flood of requests without reading replies, or a request before HELLO kills the guest with the
// reason. Contract: docs/ARCHITECTURE.md "The process platform".

import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { EventFd, GuestMemory, KVM_EXIT_IO, KVM_EXIT_MMIO, SpawnedProcess, loadAddon, socketPair, type VcpuExit } from '@kiln/kvm';
import { ImageError } from '@kiln/common/elf/errors.ts';
import { GuestRam } from '../boot/guest_ram.ts';
import { ZERO_PAGE_START, type RamRegion } from '../boot/layout.ts';
import type { KernelImage } from '../boot/elf_loader.ts';
import type { VirtioMmio } from '../devices/virtio/mmio.ts';
import { VmmError } from '../errors.ts';
import { died, type ExitHandler, type Machine, type MachineRun, type Outcome, type ProfilingSetup } from '../machine.ts';
import { ProfileRing } from '../profile/ring.ts';
import {
  CONTROL_IRQ_PENDING,
  CONTROL_NOTIFY,
  CONTROL_SIZE,
  CONTROL_SLOTS,
  CONTROL_STATUS,
  KILN_PROCESS_ABI,
  PROFILE_RING_OFFSET,
  REG_HELLO,
  REG_MMIO_WRITE,
  REG_PIO_READ,
  REG_PIO_WRITE,
  REG_REPLY_SIZE,
  REG_REQUEST_SIZE,
  TENDER_EXIT_ABI,
  TENDER_EXIT_CONFINE,
  decodeRegRequest,
} from './abi.ts';

/** arch/build/kiln-tender, found through the repository (the CLI bundle and the sources agree). */
export const TENDER_PATH = join(dirname(createRequire(import.meta.url).resolve('@kiln/kvm/package.json')), '../../arch/build/kiln-tender');

/** Replies the guest has not read, in bytes, before it counts as flooding the channel. */
export const CHANNEL_UNREAD_LIMIT = 64 * 1024;
/** Tender diagnostics kept for an error message. */
const DIAG_LIMIT = 16 * 1024;

export interface ProcessMachineOptions {
  memBytes: number;
  regions: RamRegion[];
  step: (name: string) => void;
  /** Console output straight to this fd (the tender writes to it); else through `stdout`. */
  consoleFd?: number;
  stdout: { write(data: Uint8Array): unknown };
  /** Where the tender's own lines go once the guest runs (a refused namespace, ...). */
  stderr: { write(s: string): unknown };
  /** Run without namespaces and seccomp (only when asked for explicitly). */
  unconfined?: boolean;
  tenderPath?: string;
  debug?: (line: string) => void;
  /** Room for the profiler's ring after the control page (startProfiling), in bytes with its header. */
  profileRingBytes?: number;
}

export class ProcessMachine implements Machine {
  readonly platform = 'process';
  readonly ram: GuestRam;
  readonly #o: ProcessMachineOptions;
  readonly #mem: GuestMemory;
  readonly #control: Int32Array;
  readonly #wake: EventFd;
  readonly #notify: EventFd;
  readonly #transports = new Map<number, VirtioMmio>();
  readonly #tender: string;
  #args: string[] = [];
  #child: SpawnedProcess | undefined;
  #stopped = false;
  #quiesced = false;
  #closed = false;

  constructor(o: ProcessMachineOptions) {
    this.#o = o;
    this.#tender = o.tenderPath ?? TENDER_PATH;
    try {
      accessSync(this.#tender, constants.X_OK);
    } catch {
      throw new VmmError('ETENDER', `the process platform's tender ${this.#tender} is missing or not executable: run \`make -C arch\` (bash scripts/setup.sh)`);
    }
    const addon = loadAddon();
    this.#mem = new GuestMemory(addon, o.memBytes + PROFILE_RING_OFFSET + (o.profileRingBytes ?? 0), { shared: true });
    try {
      this.ram = new GuestRam(this.#mem.bytes, o.regions);
      this.#control = new Int32Array(this.#mem.bytes.buffer, this.#mem.bytes.byteOffset + o.memBytes, CONTROL_SIZE / 4);
      this.#wake = new EventFd(addon);
      this.#notify = new EventFd(addon);
    } catch (e) {
      this.#mem.free();
      throw e;
    }
    o.step('create_memory');
  }

  configureCpus(kernel: KernelImage, boot: 'linux' | 'pvh'): void {
    if (boot !== 'linux') throw new VmmError('EBADCONFIG', 'the process platform enters the image through its process entry note; boot mode pvh needs KVM');
    const pe = kernel.processEntry;
    if (!pe) throw new ImageError('EUNSUPPORTED', 'the image has no process entry note (Kiln note type 1): it cannot run on the process platform (rebuild it with this kiln, or run it on KVM)');
    if (pe.abi !== KILN_PROCESS_ABI) throw new ImageError('EUNSUPPORTED', `the image speaks process ABI ${pe.abi}, this VMM ${KILN_PROCESS_ABI}: rebuild it with this kiln`);
    this.#args = ['--abi', String(KILN_PROCESS_ABI), '--parent', String(process.pid), '--ram-size', String(this.#o.memBytes), '--entry', `0x${pe.entry.toString(16)}`, '--zero-page', `0x${ZERO_PAGE_START.toString(16)}`];
    for (const s of kernel.segments) this.#args.push('--segment', `0x${s.paddr.toString(16)}:0x${s.memsz.toString(16)}:${s.flags}`);
    if (this.#o.unconfined) this.#args.push('--unconfined');
  }

  startProfiling(p: ProfilingSetup): ProfileRing {
    const bytes = this.#o.profileRingBytes;
    if (!bytes) throw new VmmError('EBADCONFIG', 'profiling needs a machine made with room for the profile ring');
    const at = this.#o.memBytes + PROFILE_RING_OFFSET;
    const ring = new ProfileRing(this.#mem.bytes.subarray(at, at + bytes), true);
    // The tender finds the text range in its own checked segments.
    this.#args.push('--profile-hz', String(p.hz), '--profile-desc', `0x${p.descAddr.toString(16)}`, '--profile-ring', String(ring.size));
    return ring;
  }

  raiseIrq(pin: number): void {
    Atomics.or(this.#control, CONTROL_IRQ_PENDING / 4, 1 << pin);
    if (!this.#quiesced) this.#wake.write(1n);
  }

  statusWord(slot: number): Int32Array | undefined {
    if (slot >= CONTROL_SLOTS) return undefined;
    return this.#control.subarray(CONTROL_STATUS / 4 + slot, CONTROL_STATUS / 4 + slot + 1);
  }

  interruptFor(_slot: number, pin: number): () => void {
    return () => this.raiseIrq(pin);
  }

  attachVirtio(slot: number, _base: number, t: VirtioMmio): void {
    this.#transports.set(slot, t);
  }

  setConsoleFd(): void {
    // The tender is handed its console fd when it starts (ProcessMachineOptions.consoleFd).
  }

  /** Takes each transport's notify word and tells it which queues the guest notified. */
  #dispatchNotifies(): void {
    for (const [slot, t] of this.#transports) {
      let bits = Atomics.exchange(this.#control, CONTROL_NOTIFY / 4 + slot, 0) >>> 0;
      while (bits) {
        const q = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        t.notifyQueue(q);
      }
    }
  }

  run(handler: ExitHandler, end: (o: Outcome) => void): Promise<MachineRun> {
    const o = this.#o;
    return new Promise<MachineRun>((resolve, reject) => {
      let requests = 0;
      let hello = false;
      let diag = '';
      let settled = false;
      const fail = (why: string): void => {
        end(died(`the guest broke the process platform's register channel: ${why}`));
        this.stop();
      };
      // The tender's fds 0-6 (abi.ts FD_*): /dev/null, console, diagnostics, channel, RAM, wake, notify.
      const pairs: [number, number][] = [];
      const pair = (): [number, number] => {
        const p = socketPair();
        pairs.push(p);
        return p;
      };
      let child: SpawnedProcess;
      const devNull = openSync('/dev/null', 'r');
      const consolePair = o.consoleFd === undefined ? pair() : undefined;
      const diagPair = pair();
      const channelPair = pair();
      try {
        child = new SpawnedProcess(this.#tender, this.#args, [devNull, o.consoleFd ?? consolePair![1], diagPair[1], channelPair[1], this.#mem.fd, this.#wake.fd, this.#notify.fd]);
      } catch (e) {
        for (const [a, b] of pairs) closeSync(a), closeSync(b);
        return reject(new VmmError('ETENDER', `cannot start the tender ${this.#tender}: ${(e as Error).message}`));
      } finally {
        closeSync(devNull);
      }
      for (const [, b] of pairs) closeSync(b); // the child's ends
      this.#child = child;
      if (this.#stopped) child.kill('SIGKILL');
      // Done once the tender has ended and every stream it wrote to is drained.
      const streams: Socket[] = [];
      const stream = (fd: number): Socket => {
        const sock = new Socket({ fd, readable: true, writable: true });
        sock.on('error', () => {}); // the tender's end closing first is its exit, seen through the pidfd
        streams.push(sock);
        return sock;
      };
      if (consolePair) stream(consolePair[0]).on('data', (c: Buffer) => o.stdout.write(c));
      stream(diagPair[0]).on('data', (c: Buffer) => {
        if (hello) o.stderr.write(c.toString());
        else if (diag.length < DIAG_LIMIT) diag += c.toString();
      });
      const channel = stream(channelPair[0]);
      let partial: Buffer | undefined;
      channel.on('data', (chunk: Buffer) => {
        const buf = partial ? Buffer.concat([partial, chunk]) : chunk;
        const replies = Buffer.alloc(Math.floor(buf.length / REG_REQUEST_SIZE) * REG_REPLY_SIZE);
        let off = 0;
        let nreplies = 0;
        for (; off + REG_REQUEST_SIZE <= buf.length && !this.#stopped; off += REG_REQUEST_SIZE) {
          const r = decodeRegRequest(buf, off);
          if (typeof r === 'string') return fail(`malformed request (${r})`);
          if (r.op === REG_HELLO) {
            if (hello) return fail('a second HELLO');
            if (r.abi !== KILN_PROCESS_ABI) return fail(`HELLO with ABI ${r.abi}`);
            hello = true;
            o.step('start_tender');
            if (diag) o.stderr.write(diag);
            continue;
          }
          if (!hello) return fail('a request before HELLO');
          requests++;
          const isPio = r.op <= REG_PIO_WRITE;
          const isWrite = r.op === REG_PIO_WRITE || r.op === REG_MMIO_WRITE;
          const data = isWrite ? new Uint8Array(4) : undefined;
          if (data) new DataView(data.buffer).setUint32(0, r.value, true);
          const timeNs = process.hrtime.bigint();
          const exit: VcpuExit = isPio
            ? { kind: 'io', reason: KVM_EXIT_IO, timeNs, direction: r.op === REG_PIO_READ ? 'in' : 'out', port: r.addr, size: r.width, count: 1, ...(data ? { data: data.subarray(0, r.width) } : {}) }
            : { kind: 'mmio', reason: KVM_EXIT_MMIO, timeNs, physAddr: r.addr, len: r.width, isWrite, ...(data ? { data: data.subarray(0, r.width) } : {}) };
          const out = handler(exit, 0);
          if (out) replies.set(out.subarray(0, Math.min(r.width, REG_REPLY_SIZE)), nreplies * REG_REPLY_SIZE);
          nreplies++;
        }
        partial = off < buf.length ? Buffer.from(buf.subarray(off)) : undefined;
        if (nreplies && !this.#stopped) channel.write(replies.subarray(0, nreplies * REG_REPLY_SIZE));
        if (channel.writableLength > CHANNEL_UNREAD_LIMIT) fail(`over ${CHANNEL_UNREAD_LIMIT} bytes of replies left unread (a flood of requests)`);
      });
      this.#notify.watch(() => this.#dispatchNotifies());
      let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let open = streams.length;
      const settle = (): void => {
        if (settled || !exited || open > 0) return;
        clearTimeout(drainTimer);
        settled = true;
        child.close();
        this.#child = undefined;
        const { code, signal } = exited;
        const text = diag.trim().replace(/^kiln-tender: /gm, '');
        if (!hello && !this.#stopped) {
          const why = text || `the tender ended (${signal ?? `status ${code}`}) before the guest started`;
          if (code === TENDER_EXIT_CONFINE) return reject(new VmmError('ECONFINE', why));
          if (code === TENDER_EXIT_ABI) return reject(new VmmError('ETENDER', why));
          return reject(new VmmError('ETENDER', `the tender could not start the guest: ${why}`));
        }
        if (signal) end(died(`the guest process was killed by ${signal}${signal === 'SIGSYS' ? ' (a system call the seccomp filter refused)' : ''}`));
        else end(died(`the guest process ended with status ${code} without an exit request`));
        resolve({ vcpuExits: requests });
      };
      let drainTimer: NodeJS.Timeout | undefined;
      for (const sock of streams) sock.on('close', () => { open--; settle(); });
      child.onExit((code, signal) => {
        exited = { code, signal };
        // Streams end when the last holder of their other end is gone; a guest cannot keep the
        // VMM waiting past that (its namespace's processes die with it), but bound it anyway.
        drainTimer = setTimeout(() => { for (const sock of streams) sock.destroy(); }, 2000);
        settle();
      });
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#child?.kill('SIGKILL');
  }

  quiesce(): void {
    this.stop();
    this.#quiesced = true;
    this.#notify.close();
    this.#wake.close();
  }

  close(): void {
    if (this.#closed) return;
    this.quiesce();
    this.#closed = true;
    this.#mem.free();
  }
}
