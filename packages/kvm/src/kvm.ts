// The /dev/kvm implementation of the hypervisor seam (hypervisor.ts): `Kvm` (system fd),
// `Vm` (VM fd), `Vcpu` (vCPU fd + its native thread), `GuestMemory` (anonymous mapping shared
// with JS as an ArrayBuffer) and `EventFd`. Thin classes over the addon; they own their fds
// and release them in close(). Linux KVM API: Documentation/virt/kvm/api.rst.

import { constants as osConstants } from 'node:os';
import { KvmError, toKvmError, wrap } from './errors.ts';
import { loadAddon, type NativeAddon, type NativeDone, type NativeExit, type NativeVcpu } from './native.ts';
import {
  KVM_API_VERSION,
  KVM_EXIT_EXCEPTION,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_HLT,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_IO,
  KVM_EXIT_IO_IN,
  KVM_EXIT_MMIO,
  KVM_EXIT_SHUTDOWN,
  KVM_EXIT_SYSTEM_EVENT,
} from './constants.ts';
import type {
  CpuidEntry,
  ExitHandler,
  HvEventFd,
  HvMemory,
  HvVcpu,
  HvVm,
  Hypervisor,
  MemoryRegion,
  MsrEntry,
  Regs,
  RegsUpdate,
  Sregs,
  SregsUpdate,
  VcpuDone,
  VcpuExit,
} from './hypervisor.ts';

/** Guest RAM: anonymous memory mapped into this process (or, `shared`, a memfd another process
 * can map: `fd`, closed by free()); `bytes` views the whole mapping. */
export class GuestMemory implements HvMemory {
  readonly size: number;
  readonly id: number;
  /** The memfd of shared memory, -1 for anonymous memory. */
  readonly fd: number;
  #buffer: ArrayBuffer | undefined;
  #bytes: Uint8Array;
  readonly #addon: NativeAddon;

  constructor(addon: NativeAddon, size: number, o: { shared?: boolean } = {}) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % 4096 !== 0) {
      throw new KvmError('EINVAL', `guest memory size must be a positive multiple of 4096 bytes, got ${size}`);
    }
    this.#addon = addon;
    const m = wrap(() => addon.memCreate(size, o.shared === true));
    this.size = size;
    this.id = m.id;
    this.fd = m.fd ?? -1;
    this.#buffer = m.buffer;
    this.#bytes = new Uint8Array(m.buffer);
  }

  get bytes(): Uint8Array {
    if (!this.#buffer) throw new KvmError('EINVAL', 'guest memory was freed');
    return this.#bytes;
  }

  get freed(): boolean {
    return this.#buffer === undefined;
  }

  /** Detaches the ArrayBuffer (views become empty) and unmaps the memory. Idempotent. */
  free(): void {
    if (!this.#buffer) return;
    const b = this.#buffer;
    this.#buffer = undefined;
    this.#bytes = new Uint8Array(0);
    this.#addon.memFree(this.id, b);
  }
}

/** A file descriptor the main loop can watch for readiness (uv_poll in the addon); closing it
 * stops the watch first. Shared by eventfds and TAP fds. */
class WatchableFd {
  #fd: number;
  #watch: number | undefined;
  protected readonly addon: NativeAddon;
  readonly #what: string;
  constructor(addon: NativeAddon, fd: number, what: string) {
    this.addon = addon;
    this.#fd = fd;
    this.#what = what;
  }
  get fd(): number {
    if (this.#fd < 0) throw new KvmError('EINVAL', `${this.#what} is closed`);
    return this.#fd;
  }
  /** `raw`: only report readiness (a TAP); otherwise the addon reads the eventfd counter. */
  protected startWatch(cb: (count: number) => void, raw: boolean): void {
    if (this.#watch !== undefined) throw new KvmError('EINVAL', `${this.#what} is already watched`);
    this.#watch = wrap(() => this.addon.watchFd(this.fd, (count) => cb(count), raw));
  }
  unwatch(): void {
    if (this.#watch === undefined) return;
    this.addon.unwatchFd(this.#watch);
    this.#watch = undefined;
  }
  close(): void {
    this.unwatch();
    if (this.#fd >= 0) this.addon.close(this.#fd);
    this.#fd = -1;
  }
}

export class EventFd extends WatchableFd implements HvEventFd {
  constructor(addon: NativeAddon = loadAddon()) {
    super(addon, wrap(() => addon.eventfd(0)), 'eventfd');
  }
  read(): bigint {
    return wrap(() => this.addon.eventfdRead(this.fd)) ?? 0n;
  }
  write(value: bigint | number = 1n): void {
    wrap(() => this.addon.eventfdWrite(this.fd, value));
  }
  watch(cb: (count: number) => void): void {
    this.startWatch(cb, false);
  }
}

function decodeExit(raw: NativeExit): VcpuExit {
  const reason = raw.reason;
  const timeNs = raw.timeNs;
  switch (reason) {
    case KVM_EXIT_IO:
      return {
        kind: 'io',
        reason,
        timeNs,
        direction: raw.direction === KVM_EXIT_IO_IN ? 'in' : 'out',
        port: raw.port!,
        size: raw.size as 1 | 2 | 4,
        count: raw.count!,
        ...(raw.data instanceof Uint8Array ? { data: raw.data } : {}),
      };
    case KVM_EXIT_MMIO:
      return {
        kind: 'mmio',
        reason,
        timeNs,
        physAddr: Number(raw.physAddr!),
        len: raw.len!,
        isWrite: raw.isWrite!,
        ...(raw.data instanceof Uint8Array ? { data: raw.data } : {}),
      };
    case KVM_EXIT_HLT:
      return { kind: 'hlt', reason, timeNs };
    case KVM_EXIT_SHUTDOWN:
      return { kind: 'shutdown', reason, timeNs };
    case KVM_EXIT_INTERNAL_ERROR:
      return { kind: 'internal-error', reason, timeNs, suberror: raw.suberror ?? 0, data: (raw.data as bigint[]) ?? [] };
    case KVM_EXIT_FAIL_ENTRY:
      return { kind: 'fail-entry', reason, timeNs, hardwareEntryFailureReason: raw.hardwareEntryFailureReason ?? 0n, cpu: raw.cpu ?? 0 };
    case KVM_EXIT_SYSTEM_EVENT:
      return { kind: 'system-event', reason, timeNs, type: raw.type ?? 0, data: (raw.data as bigint[]) ?? [] };
    case KVM_EXIT_EXCEPTION:
      return { kind: 'exception', reason, timeNs, exception: raw.exception ?? 0, errorCode: Number((raw.data as bigint[] | undefined)?.[0] ?? 0n) };
    default:
      return { kind: 'other', reason, timeNs, ...(raw.hardwareExitReason !== undefined ? { hardwareExitReason: raw.hardwareExitReason } : {}) };
  }
}

function decodeDone(d: NativeDone): VcpuDone {
  const out: VcpuDone = { runs: d.runs };
  if (d.errno !== undefined) out.error = new KvmError('EIOCTL', d.message ?? 'KVM_RUN failed', { ioctl: 'KVM_RUN', errno: d.errno, errnoName: d.errnoName });
  if (d.handlerError !== undefined) out.handlerError = d.handlerError;
  return out;
}

export class Vcpu implements HvVcpu {
  readonly id: number;
  readonly #n: NativeVcpu;
  #closed = false;
  #running: Promise<VcpuDone> | undefined;

  constructor(n: NativeVcpu) {
    this.#n = n;
    this.id = n.id;
  }

  get fd(): number {
    return this.#n.fd;
  }
  getRegs(): Regs {
    return wrap(() => this.#n.getRegs()) as Regs;
  }
  setRegs(r: RegsUpdate): void {
    wrap(() => this.#n.setRegs(r as Record<string, bigint | number>));
  }
  getSregs(): Sregs {
    return wrap(() => this.#n.getSregs()) as unknown as Sregs;
  }
  setSregs(s: SregsUpdate): void {
    wrap(() => this.#n.setSregs(s as Record<string, unknown>));
  }
  setFpu(f: { fcw?: number; mxcsr?: number }): void {
    wrap(() => this.#n.setFpu(f));
  }
  getMsrs(indices: number[]): bigint[] {
    const got = wrap(() => this.#n.getMsrs(indices));
    if (got.length !== indices.length) {
      throw new KvmError('EIOCTL', `KVM_GET_MSRS read ${got.length} of ${indices.length} MSRs: MSR 0x${indices[got.length]!.toString(16)} is not supported`, { ioctl: 'KVM_GET_MSRS' });
    }
    return got;
  }
  setMsrs(entries: MsrEntry[]): void {
    let n: number;
    try {
      n = this.#n.setMsrs(entries);
    } catch (e) {
      const k = toKvmError(e);
      if (k instanceof KvmError && k.code === 'EIOCTL') {
        const list = entries.map((m) => '0x' + m.index.toString(16)).join(', ');
        throw new KvmError('EIOCTL', `${k.message} setting MSRs ${list}`, { ioctl: k.ioctl, errno: k.errno, errnoName: k.errnoName });
      }
      throw k;
    }
    if (n !== entries.length) {
      throw new KvmError('EIOCTL', `KVM_SET_MSRS set ${n} of ${entries.length} MSRs: MSR 0x${entries[n]!.index.toString(16)} was refused`, { ioctl: 'KVM_SET_MSRS' });
    }
  }
  setCpuid(entries: CpuidEntry[]): void {
    wrap(() => this.#n.setCpuid2(entries));
  }
  getMpState(): number {
    return wrap(() => this.#n.getMpState());
  }
  setMpState(state: number): void {
    wrap(() => this.#n.setMpState(state));
  }
  getTscKhz(): number {
    return wrap(() => this.#n.getTscKhz());
  }

  run(handler: ExitHandler): Promise<VcpuDone> {
    if (this.#running) throw new KvmError('EINVAL', `vCPU ${this.id} was already started`);
    this.#running = new Promise<VcpuDone>((resolve, reject) => {
      try {
        this.#n.start(
          (raw) => {
            if (this.#closed) return undefined;
            return handler(decodeExit(raw));
          },
          (done) => {
            this.#n.join();
            resolve(decodeDone(done));
          },
        );
      } catch (e) {
        reject(toKvmError(e));
      }
    });
    return this.#running;
  }

  stop(): void {
    this.#n.stop();
  }

  setPortSink(sink: { port: number; fd: number } | null): number {
    return wrap(() => (sink ? this.#n.setPortSink(sink.port, sink.fd) : this.#n.setPortSink(-1)));
  }

  setProfile(p: Parameters<HvVcpu['setProfile']>[0]): void {
    wrap(() => this.#n.setProfile(p.ring, p.memory, p.hz, p.descAddr, p.textLo, p.textHi, p.regions.flatMap((r) => [r.guestPhysAddr, r.size, r.hostOffset])));
  }

  addStatusRegister(statusAddr: number, ackAddr: number, word: Int32Array): void {
    if (!(word.buffer instanceof SharedArrayBuffer)) throw new TypeError('addStatusRegister: the status word must live in a SharedArrayBuffer');
    wrap(() => this.#n.addStatusRegister(statusAddr, ackAddr, word));
  }

  /** Stops and joins the thread if needed, unmaps kvm_run, closes the fd. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#n.close();
  }
}

export class Vm implements HvVm {
  #fd: number;
  readonly #addon: NativeAddon;
  readonly #mmapSize: number;
  readonly #vcpus: Vcpu[] = [];

  constructor(addon: NativeAddon, fd: number, vcpuMmapSize: number) {
    this.#addon = addon;
    this.#fd = fd;
    this.#mmapSize = vcpuMmapSize;
  }

  get fd(): number {
    if (this.#fd < 0) throw new KvmError('EINVAL', 'VM is closed');
    return this.#fd;
  }

  mapMemory(r: MemoryRegion): void {
    if (!(r.memory instanceof GuestMemory)) throw new KvmError('EINVAL', 'KVM VMs need memory from Kvm.createMemory()');
    const mem = r.memory;
    wrap(() => this.#addon.setUserMemoryRegion(this.fd, { slot: r.slot, guestPhysAddr: r.guestPhysAddr, size: r.size, memoryId: mem.id, offset: r.offset }));
  }
  createIrqchip(): void {
    wrap(() => this.#addon.createIrqchip(this.fd));
  }
  createPit2(): void {
    wrap(() => this.#addon.createPit2(this.fd, 0));
  }
  setTssAddr(addr: number): void {
    wrap(() => this.#addon.setTssAddr(this.fd, addr));
  }
  setIdentityMapAddr(addr: number): void {
    wrap(() => this.#addon.setIdentityMapAddr(this.fd, addr));
  }
  irqLine(irq: number, level: 0 | 1): void {
    wrap(() => this.#addon.irqLine(this.fd, irq, level));
  }
  createEventFd(): EventFd {
    return new EventFd(this.#addon);
  }
  ioeventfd(r: { addr: number; len: 0 | 1 | 2 | 4 | 8; eventFd: HvEventFd; datamatch?: bigint | number; pio?: boolean; deassign?: boolean }): void {
    wrap(() =>
      this.#addon.ioeventfd(this.fd, {
        addr: r.addr,
        len: r.len,
        fd: r.eventFd.fd,
        ...(r.datamatch !== undefined ? { datamatch: r.datamatch } : {}),
        pio: r.pio ?? false,
        deassign: r.deassign ?? false,
      }),
    );
  }
  irqfd(r: { gsi: number; eventFd: HvEventFd; deassign?: boolean }): void {
    wrap(() => this.#addon.irqfd(this.fd, { fd: r.eventFd.fd, gsi: r.gsi, deassign: r.deassign ?? false }));
  }
  createVcpu(id: number): Vcpu {
    const n = wrap(() => new this.#addon.Vcpu(this.fd, id, this.#mmapSize));
    const v = new Vcpu(n);
    this.#vcpus.push(v);
    return v;
  }
  /** Closes every vCPU (stopping their threads) and then the VM fd. Idempotent. */
  close(): void {
    for (const v of this.#vcpus) v.close();
    this.#vcpus.length = 0;
    if (this.#fd >= 0) this.#addon.close(this.#fd);
    this.#fd = -1;
  }
}

export class Kvm implements Hypervisor {
  readonly name = 'kvm';
  readonly apiVersion: number;
  readonly vcpuMmapSize: number;
  #fd: number;
  readonly #cpuid: CpuidEntry[];
  readonly #addon: NativeAddon;

  private constructor(addon: NativeAddon, fd: number) {
    this.#addon = addon;
    this.#fd = fd;
    try {
      this.apiVersion = wrap(() => addon.getApiVersion(fd));
      if (this.apiVersion !== KVM_API_VERSION) {
        throw new KvmError('EKVMAPI', `KVM API version is ${this.apiVersion}, Kiln needs ${KVM_API_VERSION}`);
      }
      this.vcpuMmapSize = wrap(() => addon.getVcpuMmapSize(fd));
      // What the host's KVM can offer is part of opening it (as Firecracker's Kvm::new does):
      // queried once here, not during each VM build.
      this.#cpuid = wrap(() => addon.getSupportedCpuid(fd));
    } catch (e) {
      addon.close(fd);
      throw e;
    }
  }

  /** Opens /dev/kvm (or `path`). Throws KvmError ENOKVM, EKVMAPI or ENOADDON. */
  static open(path = '/dev/kvm'): Kvm {
    const addon = loadAddon();
    const fd = wrap(() => addon.openKvm(path));
    return new Kvm(addon, fd);
  }

  get fd(): number {
    if (this.#fd < 0) throw new KvmError('EINVAL', '/dev/kvm handle is closed');
    return this.#fd;
  }

  checkExtension(cap: number): number {
    return wrap(() => this.#addon.checkExtension(this.fd, cap));
  }

  supportedCpuid(): CpuidEntry[] {
    return this.#cpuid.map((e) => ({ ...e }));
  }

  createMemory(size: number): GuestMemory {
    return new GuestMemory(this.#addon, size);
  }

  createVm(): Vm {
    const fd = wrap(() => this.#addon.createVm(this.fd));
    return new Vm(this.#addon, fd, this.vcpuMmapSize);
  }

  close(): void {
    if (this.#fd >= 0) this.#addon.close(this.#fd);
    this.#fd = -1;
  }
}

/** CLOCK_MONOTONIC in ns from the addon (same clock as exit timestamps). */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** Whether KVM can be used here; `reason` says why not (for skipping tests, CLI messages). */
export function probeKvm(path = '/dev/kvm'): { ok: true } | { ok: false; code: string; reason: string } {
  try {
    Kvm.open(path).close();
    return { ok: true };
  } catch (e) {
    const err = toKvmError(e) as Error & { code?: string };
    return { ok: false, code: err.code ?? 'EUNKNOWN', reason: err.message };
  }
}

/**
 * A TAP interface's file descriptor (/dev/net/tun, IFF_TAP | IFF_NO_PI, non-blocking): each
 * read or write is one Ethernet frame, preceded by a virtio_net_hdr of `vnetHdrSize` bytes when
 * that is 10 or 12 (IFF_VNET_HDR, TUNSETVNETHDRSZ; default 0: none). `watch` calls back on the
 * main loop when frames are ready (the caller reads them with fs.readSync until EAGAIN).
 */
export class TapFd extends WatchableFd {
  readonly vnetHdrSize: number;
  constructor(name: string, o: { vnetHdrSize?: number } = {}) {
    const addon = loadAddon();
    const vnetHdrSize = o.vnetHdrSize ?? 0;
    super(addon, wrap(() => addon.tapOpen(name, vnetHdrSize)), 'TAP fd');
    this.vnetHdrSize = vnetHdrSize;
  }
  watch(cb: () => void): void {
    this.startWatch(() => cb(), true);
  }
}

/**
 * A child process started with posix_spawn (no copy of the VMM's address space) and held by a
 * pidfd: `onExit` calls back on the main loop once, with the exit status or the signal's name;
 * `kill` signals through the pidfd (no pid-reuse race). The child is reaped here, not by libuv.
 */
export class SpawnedProcess extends WatchableFd {
  readonly pid: number;
  #ended = false;
  constructor(path: string, argv: string[], fds: number[]) {
    const addon = loadAddon();
    const r = wrap(() => addon.spawnProcess(path, argv, fds));
    super(addon, r.pidfd, 'pidfd');
    this.pid = r.pid;
  }
  get ended(): boolean {
    return this.#ended;
  }
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.startWatch(() => {
      const r = this.addon.reapProcess(this.pid);
      if (!r || this.#ended) return;
      this.#ended = true;
      this.unwatch();
      const name = r.signal === undefined ? null : ((Object.entries(osConstants.signals).find(([, n]) => n === r.signal)?.[0] ?? `SIG${r.signal}`) as NodeJS.Signals);
      cb(r.code ?? null, name);
    }, true);
  }
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#ended) return;
    wrap(() => this.addon.pidfdKill(this.fd, osConstants.signals[signal]));
  }
}

/** A connected AF_UNIX stream socket pair (close-on-exec fds). */
export function socketPair(): [number, number] {
  return wrap(() => loadAddon().socketPair());
}
