// The KVM machine: a microVM on /dev/kvm. VM, guest memory, irqchip and TSS in the order that is
// cheap on this host (VM → guest memory → irqchip → vCPUs, shared/PVM.md §8); one vCPU thread per
// vCPU blocking in KVM_RUN (the addon); virtio QueueNotify through ioeventfds, interrupts through
// irqfds, InterruptStatus/ACK and the serial console answered on the vCPU threads. KVM's own
// exits (triple fault, internal error, ...) become outcomes in outcomeOfKvmExit.
// Linux KVM API: Documentation/virt/kvm/api.rst.

import { Kvm, KVM_SYSTEM_EVENT_CRASH, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN, type HvEventFd, type HvMemory, type HvVcpu, type HvVm, type Hypervisor, type VcpuExit } from '@kiln/kvm';
import { SERIAL_PORT } from '@kiln/common/layout.ts';
import { VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_QUEUE_NOTIFY } from '@kiln/common/virtio/constants.ts';
import { GuestRam } from './boot/guest_ram.ts';
import type { RamRegion } from './boot/layout.ts';
import type { KernelImage } from './boot/elf_loader.ts';
import { linuxBootRegs, linuxBootSregs, pvhBootRegs, pvhBootSregs } from './boot/regs.ts';
import { buildCpuid } from './boot/cpuid.ts';
import { bootMsrs } from './boot/msrs.ts';
import type { VirtioMmio } from './devices/virtio/mmio.ts';
import { died, exitCodeFor, type ExitHandler, type Machine, type MachineRun, type Outcome, type ProfilingSetup } from './machine.ts';
import { ProfileRing } from './profile/ring.ts';
import { VmmError } from './errors.ts';

/** KVM_SET_TSS_ADDR value Firecracker uses (3 pages below the 4 GiB BIOS area). */
export const KVM_TSS_ADDRESS = 0xfffb_d000;

const INTERNAL_ERROR_NAMES: Record<number, string> = {
  1: 'KVM_INTERNAL_ERROR_EMULATION: instruction emulation failed',
  2: 'KVM_INTERNAL_ERROR_SIMUL_EX: exception while delivering an exception',
  3: 'KVM_INTERNAL_ERROR_DELIVERY_EV: cannot deliver an event',
  4: 'KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON',
};

/** What a KVM exit that is not a register access means for the VM (undefined: nothing). */
export function outcomeOfKvmExit(exit: VcpuExit, index: number): Outcome | undefined {
  switch (exit.kind) {
    case 'io':
    case 'mmio':
      return undefined;
    case 'shutdown':
      return { reason: 'shutdown', exitCode: exitCodeFor('shutdown'), message: `vCPU ${index}: triple fault (KVM_EXIT_SHUTDOWN)` };
    case 'internal-error': {
      const what = INTERNAL_ERROR_NAMES[exit.suberror] ?? `suberror ${exit.suberror}`;
      const data = exit.data.length ? ` [${exit.data.map((d) => '0x' + d.toString(16)).join(' ')}]` : '';
      return died(`vCPU ${index}: KVM internal error, suberror ${exit.suberror} (${what})${data}`);
    }
    case 'fail-entry':
      return died(`vCPU ${index}: KVM_EXIT_FAIL_ENTRY, hardware reason 0x${exit.hardwareEntryFailureReason.toString(16)}`);
    case 'system-event':
      if (exit.type === KVM_SYSTEM_EVENT_RESET) return { reason: 'reset', exitCode: exitCodeFor('reset'), message: `vCPU ${index}: system reset` };
      if (exit.type === KVM_SYSTEM_EVENT_SHUTDOWN) return { reason: 'exit', exitCode: 0, message: `vCPU ${index}: guest powered off` };
      return died(`vCPU ${index}: system event ${exit.type}${exit.type === KVM_SYSTEM_EVENT_CRASH ? ' (crash)' : ''}`);
    case 'hlt':
      return died(`vCPU ${index}: halted with nothing to wake it (KVM_EXIT_HLT)`);
    case 'exception':
      return died(`vCPU ${index}: unhandled exception ${exit.exception}`);
    default:
      return died(`vCPU ${index}: unexpected KVM exit reason ${exit.reason}`);
  }
}

export class KvmMachine implements Machine {
  readonly platform = 'kvm';
  readonly ram: GuestRam;
  readonly #hv: Hypervisor;
  readonly #ownHv: boolean;
  readonly #vm: HvVm;
  readonly #mem: HvMemory;
  readonly #cpus: number;
  readonly #vcpus: HvVcpu[] = [];
  readonly #eventFds: HvEventFd[] = [];

  readonly #profileRingBytes: number | undefined;

  /** Creates the VM and its memory (`step` times each part). Throws KvmError when KVM cannot be used. */
  constructor(o: { hypervisor?: Hypervisor; memBytes: number; regions: RamRegion[]; cpus: number; step: (name: string) => void; profileRingBytes?: number }) {
    this.#profileRingBytes = o.profileRingBytes;
    this.#ownHv = o.hypervisor === undefined;
    this.#hv = o.hypervisor ?? Kvm.open();
    if (this.#ownHv) o.step('open_kvm');
    this.#cpus = o.cpus;
    try {
      this.#vm = this.#hv.createVm();
      o.step('create_vm');
    } catch (e) {
      if (this.#ownHv) this.#hv.close();
      throw e;
    }
    try {
      this.#mem = this.#hv.createMemory(o.memBytes);
      o.step('create_memory');
      o.regions.forEach((r, slot) => this.#vm.mapMemory({ slot, guestPhysAddr: r.guestPhysAddr, memory: this.#mem, offset: r.hostOffset, size: r.size }));
      o.step('map_memory');
      this.#vm.createIrqchip();
      o.step('create_irqchip');
      this.#vm.setTssAddr(KVM_TSS_ADDRESS);
      o.step('set_tss_addr');
      this.ram = new GuestRam(this.#mem.bytes, o.regions);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  configureCpus(kernel: KernelImage, boot: 'linux' | 'pvh', warnings: string[], step: (name: string) => void): void {
    for (let i = 0; i < this.#cpus; i++) this.#vcpus.push(this.#vm.createVcpu(i));
    step('create_vcpus');
    const supported = this.#hv.supportedCpuid();
    for (const [i, v] of this.#vcpus.entries()) {
      v.setCpuid(buildCpuid(supported, i, v.getTscKhz()));
      try {
        v.setMsrs(bootMsrs());
      } catch (e) {
        if (i === 0) warnings.push(`boot MSRs not set: ${(e as Error).message}`);
      }
    }
    const bsp = this.#vcpus[0]!;
    bsp.setFpu({ fcw: 0x37f, mxcsr: 0x1f80 });
    if (boot === 'linux') {
      const s = bsp.getSregs();
      bsp.setSregs(linuxBootSregs(s.cr0, s.cr4, s.efer));
      bsp.setRegs(linuxBootRegs(kernel.entry));
    } else {
      bsp.setSregs(pvhBootSregs());
      bsp.setRegs(pvhBootRegs(kernel.pvhEntry!));
    }
  }

  raiseIrq(pin: number): void {
    this.#vm.irqLine(pin, 1);
    this.#vm.irqLine(pin, 0);
  }

  statusWord(): Int32Array | undefined {
    return undefined;
  }

  /** An irqfd on the slot's GSI, registered before the first KVM_RUN (cheap then, shared/PVM.md §8). */
  interruptFor(_slot: number, pin: number): () => void {
    const irqFd = this.#vm.createEventFd();
    this.#eventFds.push(irqFd);
    this.#vm.irqfd({ gsi: pin, eventFd: irqFd });
    return () => irqFd.write(1n);
  }

  /** InterruptStatus/ACK answered by the vCPU threads from the transport's shared word; one
   * ioeventfd per queue (4-byte write at base+0x50, datamatch = queue index). */
  attachVirtio(_slot: number, base: number, t: VirtioMmio): void {
    for (const v of this.#vcpus) v.addStatusRegister(base + VIRTIO_MMIO_INTERRUPT_STATUS, base + VIRTIO_MMIO_INTERRUPT_ACK, t.interruptStatusWord);
    for (let q = 0; q < t.queueCount; q++) {
      const efd = this.#vm.createEventFd();
      this.#eventFds.push(efd);
      this.#vm.ioeventfd({ addr: base + VIRTIO_MMIO_QUEUE_NOTIFY, len: 4, eventFd: efd, datamatch: q });
      efd.watch(() => t.notifyQueue(q));
    }
  }

  setConsoleFd(fd: number | null): void {
    for (const v of this.#vcpus) v.setPortSink(fd === null ? null : { port: SERIAL_PORT, fd });
  }

  startProfiling(p: ProfilingSetup): ProfileRing {
    const bytes = this.#profileRingBytes;
    if (!bytes) throw new VmmError('EBADCONFIG', 'profiling needs a machine made with room for the profile ring');
    const ringBytes = new Uint8Array(new SharedArrayBuffer(bytes));
    const ring = new ProfileRing(ringBytes, true);
    this.#vcpus[0]!.setProfile({ ring: ringBytes, memory: this.#mem.bytes, hz: p.hz, descAddr: p.descAddr, textLo: p.textLo, textHi: p.textHi, regions: this.ram.regions });
    return ring;
  }

  async run(handler: ExitHandler, end: (o: Outcome) => void): Promise<MachineRun> {
    let vcpuExits = 0;
    await Promise.all(
      this.#vcpus.map((v, i) =>
        v
          .run((exit) => {
            const o = outcomeOfKvmExit(exit, i);
            if (o) {
              end(o);
              return undefined;
            }
            return handler(exit, i);
          })
          .then(
            (done) => {
              vcpuExits += done.runs;
              if (done.handlerError) end(died(`vCPU ${i}: VMM exit handler failed: ${done.handlerError}`));
              else if (done.error) end(died(`vCPU ${i}: ${done.error.message}`));
              else end(died(`vCPU ${i} stopped unexpectedly`)); // ignored when an outcome came first
            },
            (e: unknown) => end(died(`vCPU ${i} did not start: ${(e as Error).message}`)),
          ),
      ),
    );
    return { vcpuExits };
  }

  stop(): void {
    for (const v of this.#vcpus) v.stop();
  }

  quiesce(): void {
    for (const v of this.#vcpus) v.close();
    for (const e of this.#eventFds) e.close();
  }

  close(): void {
    this.quiesce();
    this.#vm?.close();
    this.#mem?.free();
    if (this.#ownHv) this.#hv.close();
  }
}
