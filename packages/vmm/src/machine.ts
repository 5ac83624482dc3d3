// The seam between runVm and the two ways Kiln runs a guest: a KVM microVM (kvm_machine.ts) and
// the process platform's tender (process/machine.ts). runVm builds everything both share — guest
// RAM's contents (image and boot structures), the PIO/MMIO buses and their devices, the virtio
// transports — and asks the machine only for CPU and memory setup, interrupt lines, the virtio
// fast paths and running. Firecracker's builder.rs is the model.

import type { VcpuExit } from '@kiln/kvm';
import type { GuestRam } from './boot/guest_ram.ts';
import type { KernelImage } from './boot/elf_loader.ts';
import type { VirtioMmio } from './devices/virtio/mmio.ts';
import type { ProfileRing } from './profile/ring.ts';

export type VmExitReason = 'exit' | 'reset' | 'shutdown' | 'timeout' | 'error';

export interface Outcome {
  reason: VmExitReason;
  exitCode: number;
  message?: string;
}

/** A register access (or another exit) for the device models; returns the bytes of a read. */
export type ExitHandler = (exit: VcpuExit, vcpu: number) => Uint8Array | undefined;

export interface MachineRun {
  /** Exits handed to the device models' handler and every exit the platform answered itself. */
  vcpuExits: number;
}

export interface ProfilingSetup {
  hz: number;
  /** Guest address of the core's `kiln_profile` descriptor; 0: native frames only. */
  descAddr: number;
  /** The image's executable range (a RIP outside it is the host's). */
  textLo: number;
  textHi: number;
}

export interface Machine {
  readonly platform: 'kvm' | 'process';
  readonly ram: GuestRam;
  /** Sets up the boot CPU state for `kernel` (KVM: vCPUs, CPUID, MSRs, registers; the process
   * platform: the tender's arguments). */
  configureCpus(kernel: KernelImage, boot: 'linux' | 'pvh', warnings: string[], step: (name: string) => void): void;
  /** Raises IOAPIC pin `pin` (an edge). */
  raiseIrq(pin: number): void;
  /** The word the transport at `slot` keeps InterruptStatus in, when the platform provides it. */
  statusWord(slot: number): Int32Array | undefined;
  /** How the transport at `slot` (on IOAPIC pin `pin`) raises its interrupt. */
  interruptFor(slot: number, pin: number): () => void;
  /** Registers the transport at `slot` (MMIO `base`): its QueueNotify and InterruptStatus/ACK fast paths. */
  attachVirtio(slot: number, base: number, transport: VirtioMmio): void;
  /** Starts the profiler's sampler of vCPU 0 at `hz` (before run(); the machine was made with
   * `profileRingBytes`): samples of the stopped CPU arrive in the returned ring (profile/ring.ts). */
  startProfiling(p: ProfilingSetup): ProfileRing;
  /** Console bytes written straight to `fd` (no device-model round trip); null: through the serial model. */
  setConsoleFd(fd: number | null): void;
  /**
   * Runs the guest until an outcome: exits go to `handler`; `end` receives what only the
   * platform can see (a triple fault, a killed process). Resolves when the guest has stopped.
   */
  run(handler: ExitHandler, end: (o: Outcome) => void): Promise<MachineRun>;
  /** Asks the guest to stop (returns at once). */
  stop(): void;
  /** Stops every source of device work (vCPUs or the tender, notify and interrupt fds); guest
   * memory stays, so runVm can then quiesce the devices. Idempotent. */
  quiesce(): void;
  /** Releases guest memory and the rest (after quiesce()). Idempotent. */
  close(): void;
}

// docs/ARCHITECTURE.md "Exit codes"
export const EXIT_CODE_GUEST_DIED = 123;
export const EXIT_CODE_TIMEOUT = 124;

export function exitCodeFor(reason: VmExitReason, guestCode = 0): number {
  switch (reason) {
    case 'exit':
      return guestCode;
    case 'reset':
      return 0;
    case 'timeout':
      return EXIT_CODE_TIMEOUT;
    default:
      return EXIT_CODE_GUEST_DIED;
  }
}

export function died(message: string): Outcome {
  return { reason: 'error', exitCode: EXIT_CODE_GUEST_DIED, message };
}
