// The hypervisor seam: the small interface the VMM's KVM machine is written against. `Kvm`
// (kvm.ts) implements it over /dev/kvm; the process platform (packages/vmm/src/process/) needs
// none of it, and the VMM logic both share (buses, devices, outcomes) is tested without either.
// Register and exit shapes follow struct kvm_regs, kvm_sregs and kvm_run (Documentation/virt/kvm/api.rst); 64-bit values are bigint.

export const REG_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'] as const;
export type RegName = (typeof REG_NAMES)[number];
export type Regs = Record<RegName, bigint>;
export type RegsUpdate = Partial<Record<RegName, bigint | number>>;

/** struct kvm_segment: the hidden (descriptor-cache) part of a segment register. */
export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}
export type SegmentUpdate = Partial<Omit<Segment, 'base'>> & { base?: bigint | number };

export interface DTable {
  base: bigint;
  limit: number;
}

export const SEGMENT_NAMES = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
export type SegmentName = (typeof SEGMENT_NAMES)[number];
export const CONTROL_NAMES = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apic_base'] as const;
export type ControlName = (typeof CONTROL_NAMES)[number];

export type Sregs = Record<SegmentName, Segment> & Record<ControlName, bigint> & { gdt: DTable; idt: DTable };
/** Partial update: fields not given keep their value (the addon reads, modifies, writes). */
export type SregsUpdate = Partial<Record<SegmentName, SegmentUpdate>> &
  Partial<Record<ControlName, bigint | number>> & { gdt?: { base: bigint | number; limit: number }; idt?: { base: bigint | number; limit: number } };

/** struct kvm_cpuid_entry2 */
export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export interface MsrEntry {
  index: number;
  data: bigint | number;
}

/**
 * A vCPU exit that reached userspace. `timeNs` is CLOCK_MONOTONIC (same clock as
 * process.hrtime.bigint()) taken on the vCPU thread right after KVM_RUN returned.
 */
export type VcpuExit =
  | { kind: 'io'; reason: number; timeNs: bigint; direction: 'in' | 'out'; port: number; size: 1 | 2 | 4; count: number; data?: Uint8Array }
  | { kind: 'mmio'; reason: number; timeNs: bigint; physAddr: number; len: number; isWrite: boolean; data?: Uint8Array }
  | { kind: 'hlt'; reason: number; timeNs: bigint }
  | { kind: 'shutdown'; reason: number; timeNs: bigint }
  | { kind: 'internal-error'; reason: number; timeNs: bigint; suberror: number; data: bigint[] }
  | { kind: 'fail-entry'; reason: number; timeNs: bigint; hardwareEntryFailureReason: bigint; cpu: number }
  | { kind: 'system-event'; reason: number; timeNs: bigint; type: number; data: bigint[] }
  | { kind: 'exception'; reason: number; timeNs: bigint; exception: number; errorCode: number }
  | { kind: 'other'; reason: number; timeNs: bigint; hardwareExitReason?: bigint };

/**
 * Handles one exit on the main thread while the vCPU waits. For an `in` exit return
 * size*count bytes, for an MMIO read `len` bytes (a number is taken as a little-endian value);
 * missing bytes read as 0xff. To end the vCPU, call its stop() (or the VM's) from here.
 */
export type ExitHandler = (exit: VcpuExit) => Uint8Array | number | void;

export interface VcpuDone {
  /** KVM_RUN calls made. */
  runs: number;
  /** KVM_RUN failed with something other than EINTR/EAGAIN. */
  error?: Error;
  /** The exit handler threw (the vCPU stopped then); its message. */
  handlerError?: string;
}

export interface HvVcpu {
  readonly id: number;
  getRegs(): Regs;
  setRegs(r: RegsUpdate): void;
  getSregs(): Sregs;
  setSregs(s: SregsUpdate): void;
  setFpu(f: { fcw?: number; mxcsr?: number }): void;
  getMsrs(indices: number[]): bigint[];
  /** Throws EIOCTL naming the first MSR KVM refused. */
  setMsrs(entries: MsrEntry[]): void;
  setCpuid(entries: CpuidEntry[]): void;
  getMpState(): number;
  setMpState(state: number): void;
  getTscKhz(): number;
  /** Starts the vCPU thread; resolves when it has exited and been joined. */
  run(handler: ExitHandler): Promise<VcpuDone>;
  /** Asks the vCPU to leave the guest and its thread to exit (returns at once). */
  stop(): void;
  /**
   * Console fast path: one-byte OUTs to `port` are written by the vCPU thread straight to `fd`,
   * with no exit handler call; `null` turns it off. Safe while running. Returns the bytes written
   * through it so far.
   */
  setPortSink(sink: { port: number; fd: number } | null): number;
  /**
   * Interrupt-status fast path for one virtio-mmio slot: 4-byte reads at `statusAddr` return
   * word[0] and 4-byte writes at `ackAddr` clear the written bits in it (Atomics), answered by the
   * vCPU thread with no exit handler call. `word` must be an Int32Array over a SharedArrayBuffer.
   */
  addStatusRegister(statusAddr: number, ackAddr: number, word: Int32Array): void;
  /**
   * The profiler's sampler (before run()): `hz` times a second the vCPU is kicked out of the
   * guest and sampled into `ring` (arch/profile.h, its header written), reading guest RAM in
   * `memory` only inside `regions`; `descAddr` is the core's descriptor (0: none).
   */
  setProfile(p: { ring: Uint8Array; memory: Uint8Array; hz: number; descAddr: number; textLo: number; textHi: number; regions: readonly { guestPhysAddr: number; size: number; hostOffset: number }[] }): void;
  close(): void;
}

/** Host memory that backs guest RAM. `bytes` is invalid after free(). */
export interface HvMemory {
  readonly bytes: Uint8Array;
  readonly size: number;
  free(): void;
}

export interface MemoryRegion {
  slot: number;
  guestPhysAddr: number;
  memory: HvMemory;
  /** Offset into `memory`. */
  offset: number;
  size: number;
}

export interface HvEventFd {
  readonly fd: number;
  /** Returns and clears the counter; 0n when it was zero. */
  read(): bigint;
  write(value?: bigint | number): void;
  /**
   * Calls `cb` on the main thread whenever the counter becomes non-zero, with the counter value
   * (read and reset before the call). One watcher per eventfd; it keeps the event loop alive
   * until unwatch() or close().
   */
  watch(cb: (count: number) => void): void;
  unwatch(): void;
  /** Unwatches and closes the fd. Idempotent. */
  close(): void;
}

export interface HvVm {
  mapMemory(r: MemoryRegion): void;
  createIrqchip(): void;
  createPit2(): void;
  setTssAddr(addr: number): void;
  setIdentityMapAddr(addr: number): void;
  irqLine(irq: number, level: 0 | 1): void;
  createEventFd(): HvEventFd;
  /** KVM_IOEVENTFD: guest writes to addr (port if pio) signal `eventFd` without exiting. */
  ioeventfd(r: { addr: number; len: 0 | 1 | 2 | 4 | 8; eventFd: HvEventFd; datamatch?: bigint | number; pio?: boolean; deassign?: boolean }): void;
  /** KVM_IRQFD: writing to `eventFd` raises GSI `gsi`. */
  irqfd(r: { gsi: number; eventFd: HvEventFd; deassign?: boolean }): void;
  createVcpu(id: number): HvVcpu;
  close(): void;
}

export interface Hypervisor {
  readonly name: string;
  /** KVM_GET_SUPPORTED_CPUID. */
  supportedCpuid(): CpuidEntry[];
  createMemory(size: number): HvMemory;
  createVm(): HvVm;
  close(): void;
}
