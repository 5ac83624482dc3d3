// The shape of the native addon (native/kiln_*.cc, module entry kiln_kvm.cc) and its lazy
// loader. Loading is deferred to first use so code that only uses a fake hypervisor (unit tests)
// runs without a built addon. Build it with `npm run build -w @kiln/kvm` (node-gyp).

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KvmError } from './errors.ts';
import type { CpuidEntry } from './hypervisor.ts';

type U64 = number | bigint;

/** The addon reads and writes struct kvm_cpuid_entry2 in the wrapper's own shape. */
export type NativeCpuidEntry = CpuidEntry;

export interface NativeExit {
  reason: number;
  timeNs: bigint;
  // KVM_EXIT_IO
  direction?: number;
  size?: number;
  port?: number;
  count?: number;
  // KVM_EXIT_MMIO
  physAddr?: bigint;
  len?: number;
  isWrite?: boolean;
  data?: Uint8Array | bigint[];
  suberror?: number;
  type?: number;
  exception?: number;
  hardwareEntryFailureReason?: bigint;
  cpu?: number;
  hardwareExitReason?: bigint;
}

export interface NativeDone {
  runs: number;
  errno?: number;
  errnoName?: string;
  message?: string;
  handlerError?: string;
}

export interface NativeVcpu {
  readonly fd: number;
  readonly id: number;
  getRegs(): Record<string, bigint>;
  setRegs(r: Record<string, U64>): void;
  getSregs(): Record<string, unknown>;
  setSregs(s: Record<string, unknown>): void;
  setFpu(f: { fcw?: number; mxcsr?: number }): void;
  getMsrs(indices: number[]): bigint[];
  setMsrs(entries: { index: number; data: U64 }[]): number;
  setCpuid2(entries: NativeCpuidEntry[]): void;
  getMpState(): number;
  setMpState(state: number): void;
  getTscKhz(): number;
  start(onExit: (e: NativeExit) => Uint8Array | number | bigint | undefined | void, onDone: (d: NativeDone) => void): void;
  stop(): void;
  setPortSink(port: number, fd?: number): number;
  addStatusRegister(statusAddr: number, ackAddr: number, word: Int32Array): void;
  setProfile(ring: Uint8Array, memory: Uint8Array, hz: number, descAddr: number, textLo: number, textHi: number, regions: number[]): void;
  join(): boolean;
  close(): void;
}

export interface NativeAddon {
  openKvm(path?: string): number;
  close(fd: number): void;
  getApiVersion(kvmFd: number): number;
  checkExtension(fd: number, cap: number): number;
  createVm(kvmFd: number): number;
  getVcpuMmapSize(kvmFd: number): number;
  getSupportedCpuid(kvmFd: number): NativeCpuidEntry[];
  /** `shared`: a memfd mapped MAP_SHARED, whose fd is returned (the process platform's tender maps it too). */
  memCreate(size: U64, shared?: boolean): { id: number; buffer: ArrayBuffer; fd?: number };
  memFree(id: number, buffer?: ArrayBuffer): void;
  setUserMemoryRegion(vmFd: number, r: { slot: number; flags?: number; guestPhysAddr: U64; size: U64; memoryId?: number; offset?: U64 }): void;
  createIrqchip(vmFd: number): void;
  createPit2(vmFd: number, flags: number): void;
  setTssAddr(vmFd: number, addr: number): void;
  setIdentityMapAddr(vmFd: number, addr: U64): void;
  irqLine(vmFd: number, irq: number, level: number): void;
  eventfd(initval?: number): number;
  eventfdRead(fd: number): bigint | null;
  eventfdWrite(fd: number, value: U64): void;
  ioeventfd(vmFd: number, e: { addr: U64; len: number; fd: number; datamatch?: U64; pio?: boolean; deassign?: boolean }): void;
  irqfd(vmFd: number, f: { fd: number; gsi: number; deassign?: boolean }): void;
  /** uv_poll on the main loop: calls cb with the eventfd counter (read and reset) when readable. */
  watchFd(fd: number, cb: (count: number, status: number) => void, raw?: boolean): number;
  /**
   * Opens /dev/net/tun (O_NONBLOCK) attached to TAP interface `name` (IFF_TAP | IFF_NO_PI); with
   * `vnetHdrSize` 10 or 12 also IFF_VNET_HDR and TUNSETVNETHDRSZ; returns the fd.
   */
  tapOpen(name: string, vnetHdrSize?: number): number;
  unwatchFd(id: number): void;
  nowNs(): bigint;
  /** posix_spawn (no copy of this process): fds[i] (or -1) becomes the child's fd i; default signal actions. */
  spawnProcess(path: string, argv: string[], fds: number[]): { pid: number; pidfd: number };
  /** waitpid(WNOHANG): the child's end, or null while it runs. `signal` is a number. */
  reapProcess(pid: number): { code?: number; signal?: number } | null;
  pidfdKill(pidfd: number, signal: number): void;
  /** A connected AF_UNIX SOCK_STREAM pair (close-on-exec). */
  socketPair(): [number, number];
  Vcpu: new (vmFd: number, id: number, mmapSize: number) => NativeVcpu;
}

/** Where node-gyp puts the addon: found through the @kiln/kvm package, so that the path holds
 * both from these sources and from the bundled CLI (packages/cli/dist). */
export const ADDON_PATH = join(
  dirname(createRequire(import.meta.url).resolve('@kiln/kvm/package.json')),
  'build/Release/kiln_kvm.node',
);

let addon: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (addon) return addon;
  if (!existsSync(ADDON_PATH)) {
    throw new KvmError('ENOADDON', `the KVM addon is not built (${ADDON_PATH} is missing): run \`npm run build -w @kiln/kvm\``);
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (e) {
    throw new KvmError('ENOADDON', `cannot load the KVM addon ${ADDON_PATH}: ${(e as Error).message}; rebuild it with \`npm run build -w @kiln/kvm\``, { cause: e });
  }
  return addon;
}
