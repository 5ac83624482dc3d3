// Builds and runs one microVM: validates the options and the image, creates the VM in the
// order that is cheap on this host (VM → guest memory → irqchip → vCPUs, shared/PVM.md §8),
// lays out the boot structures, wires the legacy devices to the PIO/MMIO buses, runs one thread
// per vCPU and turns exits into an outcome. Every setup step is timed. Firecracker's
// builder.rs is the model; contracts in docs/ARCHITECTURE.md.

import { writeSync } from 'node:fs';
import { Kvm, KvmError, KVM_SYSTEM_EVENT_CRASH, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN, type HvMemory, type HvVcpu, type HvVm, type Hypervisor, type VcpuExit } from '@kiln/kvm';
import { ImageError } from '@kiln/common/elf/errors.ts';
import { BOOT_TIMER_ADDR, DEBUG_EXIT_PORT, SERIAL_PORT } from '@kiln/common/layout.ts';
import { VmmError } from './errors.ts';
import { CMDLINE_ADDR, ramRegions, type RamRegion } from './boot/layout.ts';
import { GuestRam } from './boot/guest_ram.ts';
import { loadKernelImage, parseKernelImage, type KernelImage } from './boot/elf_loader.ts';
import { e820Map } from './boot/e820.ts';
import { writeZeroPage } from './boot/zero_page.ts';
import { writePvhStartInfo } from './boot/pvh.ts';
import { encodeCmdline } from './boot/cmdline.ts';
import { GDT_LINUX64, GDT_PVH32, writeGdt } from './boot/gdt.ts';
import { writeBootPageTables } from './boot/page_tables.ts';
import { linuxBootRegs, linuxBootSregs, pvhBootRegs, pvhBootSregs } from './boot/regs.ts';
import { buildCpuid } from './boot/cpuid.ts';
import { bootMsrs } from './boot/msrs.ts';
import { Bus } from './devices/bus.ts';
import { Serial, type ByteSink } from './devices/serial.ts';
import { I8042, I8042_PORT_BASE, I8042_PORT_LEN } from './devices/i8042.ts';
import { DebugExit, DEBUG_EXIT_PORT_LEN } from './devices/debug_exit.ts';
import { BootTimer, BOOT_TIMER_LEN, formatBootTime, type BootTime } from './devices/boot_timer.ts';
import { Rtc, RTC_PORT_BASE, RTC_PORT_LEN } from './devices/rtc.ts';
import { VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_SLOT_SIZE } from '@kiln/common/virtio/constants.ts';
import { VirtioMmio } from './devices/virtio/mmio.ts';
import type { VirtioDevice } from './devices/virtio/device.ts';
import { VirtioRng } from './devices/virtio/rng.ts';
import { VirtioBlock } from './devices/virtio/block.ts';
import { VirtioConsole } from './devices/virtio/console.ts';
import { VirtioVsock } from './devices/virtio/vsock.ts';
import { VirtioFs } from './devices/virtio/fs/device.ts';
import { VirtioNet, type NetBackend } from './devices/virtio/net.ts';
import { PasstBackend, TapBackend, type HostFwd } from './devices/virtio/net_backend.ts';
import { VIRTIO_MAX_SLOTS, insertKernelParams, slotAddr, slotCmdlineToken, slotIrq } from './devices/virtio/slots.ts';
import type { HvEventFd } from '@kiln/kvm';

export const MIB = 1024 * 1024;
export const DEFAULT_MEM_MIB = 128;
export const MIN_MEM_MIB = 2;
export const MAX_MEM_MIB = 65536;
export const MAX_VCPUS = 255;
/** Serial IRQ line (IOAPIC pin / PIC IRQ 4). */
export const SERIAL_IRQ = 4;
/** KVM_SET_TSS_ADDR value Firecracker uses (3 pages below the 4 GiB BIOS area). */
export const KVM_TSS_ADDRESS = 0xfffb_d000;

// docs/ARCHITECTURE.md "Exit codes"
export const EXIT_CODE_GUEST_DIED = 123;
export const EXIT_CODE_TIMEOUT = 124;

export type VmExitReason = 'exit' | 'reset' | 'shutdown' | 'timeout' | 'error';

export interface RunVmOptions {
  /** The ELF image. */
  image: Uint8Array;
  /** Guest RAM in MiB (default 128, at least 2). */
  memMiB?: number;
  /** vCPUs (default 1). vCPU 0 boots; the others wait for INIT/SIPI. */
  cpus?: number;
  /** Kernel command line (at most 4095 bytes). */
  cmdline?: string;
  /** Print Firecracker's `Guest-boot-time = ...` line on stderr when the guest signals boot. */
  bootTimer?: boolean;
  /** Stop the VM after this many ms (reason 'timeout'). */
  timeoutMs?: number;
  /** Entry protocol (default 'linux': 64-bit entry with zero page; 'pvh': 32-bit PVH entry). */
  boot?: 'linux' | 'pvh';
  /** Serial console output (default process.stdout). */
  stdout?: ByteSink;
  /**
   * Serial console output to this file descriptor instead of `stdout`: the vCPU threads then
   * write plain console bytes to it themselves (the console fast path), with no exit handler
   * round trip per byte.
   */
  stdoutFd?: number;
  /** Where the boot-time line goes (default process.stderr). */
  stderr?: { write(s: string): unknown };
  /** Hypervisor to use (default: opens /dev/kvm; a given one is not closed). */
  hypervisor?: Hypervisor;
  /** Debug log of setup steps and unusual exits. */
  debug?: (line: string) => void;
  /** virtio-blk disks (host files, size a multiple of 512), slots in this order after the rng. */
  disks?: { path: string; readOnly?: boolean }[];
  /** virtio-rng from the host CSPRNG (default true). */
  rng?: boolean;
  /**
   * virtio-console on the console sink. true: `kiln.console=virtio` on the command line, the
   * guest's console.* output uses it from the first line; 'auto': `kiln.console=auto`, the guest
   * moves to it after 512 characters on serial (probing costs ~36 MMIO exits, worth it only for
   * longer output: bench/RESULTS.md "Virtio"). Serial stays for the core's own reports. Default
   * false (`kiln run` passes 'auto' with the console fast path).
   */
  virtioConsole?: boolean | 'auto';
  /**
   * One virtio-net NIC, slot after the disks: an existing TAP interface, or user-mode networking
   * through passt (guest 10.0.2.15/24, gateway 10.0.2.2) forwarding loopback TCP ports to the guest.
   */
  net?: { tap: string } | { user: { hostfwd: HostFwd[] } };
  /**
   * virtio-vsock (slot after the NIC) with Firecracker's hybrid Unix-socket backend: the guest's
   * CID (≥ 3) and the socket the VMM listens on for `CONNECT <port>\n`; a guest connect to CID 2
   * port P goes to `<udsPath>_P`.
   */
  vsock?: { cid: number; udsPath: string };
  /**
   * virtio-fs shares (slots after vsock, in this order): a host directory the guest mounts by
   * `tag` (1 to 36 bytes, unique), served by Kiln's FUSE server; readOnly answers EROFS to every
   * change.
   */
  shares?: { hostDir: string; tag: string; readOnly?: boolean }[];
}

export interface StepTiming {
  step: string;
  ms: number;
}

export interface VmResult {
  /** The process exit code `kiln run` should use. */
  exitCode: number;
  reason: VmExitReason;
  message?: string;
  /** When the guest wrote the boot-timer magic. */
  bootTime?: BootTime;
  /** Setup steps in order, then 'run' (first KVM_RUN to the end) and 'teardown'. */
  timings: StepTiming[];
  stats: {
    /** Exits handed to the JS device models. */
    exits: number;
    /** Every return from KVM_RUN on every vCPU, including exits the vCPU threads answer themselves (console fast path, interrupt status). */
    vcpuExits: number;
    pioExits: number;
    mmioExits: number;
    unknownPioReads: number;
    unknownPioWrites: number;
    unknownMmioReads: number;
    unknownMmioWrites: number;
    /** Per virtio device: driver notifications seen and interrupts raised / suppressed. */
    virtio: { name: string; notifies: number; interrupts: number; suppressedInterrupts: number; failure?: string }[];
  };
  /** Non-fatal problems (an MSR KVM refused, ...). */
  warnings: string[];
}

interface Outcome {
  reason: VmExitReason;
  exitCode: number;
  message?: string;
}

function validate(o: RunVmOptions): { memBytes: number; cpus: number; boot: 'linux' | 'pvh' } {
  const memMiB = o.memMiB ?? DEFAULT_MEM_MIB;
  if (!Number.isInteger(memMiB) || memMiB < MIN_MEM_MIB || memMiB > MAX_MEM_MIB) {
    throw new VmmError('EBADCONFIG', `memory must be a whole number of MiB between ${MIN_MEM_MIB} and ${MAX_MEM_MIB}, got ${memMiB}`);
  }
  const cpus = o.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_VCPUS) {
    throw new VmmError('EBADCONFIG', `vCPU count must be between 1 and ${MAX_VCPUS}, got ${cpus}`);
  }
  const boot = o.boot ?? 'linux';
  if (boot !== 'linux' && boot !== 'pvh') throw new VmmError('EBADCONFIG', `boot mode must be 'linux' or 'pvh', got '${String(boot)}'`);
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) throw new VmmError('EBADCONFIG', `timeout must be positive, got ${o.timeoutMs}`);
  if (!(o.image instanceof Uint8Array)) throw new VmmError('EBADCONFIG', 'image must be a Uint8Array');
  return { memBytes: memMiB * MIB, cpus, boot };
}

function exitCodeFor(reason: VmExitReason, guestCode = 0): number {
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

const INTERNAL_ERROR_NAMES: Record<number, string> = {
  1: 'KVM_INTERNAL_ERROR_EMULATION: instruction emulation failed',
  2: 'KVM_INTERNAL_ERROR_SIMUL_EX: exception while delivering an exception',
  3: 'KVM_INTERNAL_ERROR_DELIVERY_EV: cannot deliver an event',
  4: 'KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON',
};

/** A byte sink writing synchronously to a file descriptor (in order with the vCPU threads' own
 * console writes to it), waiting while a non-blocking pipe is full. */
function fdSink(fd: number): ByteSink {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return {
    write(data: Uint8Array): void {
      let off = 0;
      while (off < data.length) {
        try {
          off += writeSync(fd, data, off);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(pause, 0, 0, 1);
        }
      }
    },
  };
}

/** Builds the VM, runs it to an outcome and releases everything. */
export async function runVm(options: RunVmOptions): Promise<VmResult> {
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const debug = options.debug ?? (() => {});
  const timings: StepTiming[] = [];
  let last = t0;
  const step = (name: string): void => {
    const now = process.hrtime.bigint();
    timings.push({ step: name, ms: Number(now - last) / 1e6 });
    debug(`${name}: ${(Number(now - last) / 1e6).toFixed(3)} ms`);
    last = now;
  };
  const warnings: string[] = [];

  // Everything that can be checked without KVM comes first, so bad input fails fast.
  const { memBytes, cpus, boot } = validate(options);
  const regions = ramRegions(memBytes);
  const inRam = { contains: (gpa: number, len: number) => regions.some((r) => gpa >= r.guestPhysAddr && gpa + len <= r.guestPhysAddr + r.size) };
  const kernel: KernelImage = parseKernelImage(options.image, inRam);
  if (boot === 'pvh' && kernel.pvhEntry === undefined) {
    throw new ImageError('EBADIMAGE', 'image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); boot it with the linux protocol');
  }
  // Virtio devices, in slot order: rng, disks, NIC, vsock, shares, console. Disks and shared
  // directories are opened here so a bad path fails before KVM is touched.
  const virtioDevs: VirtioDevice[] = [];
  const blocks: VirtioBlock[] = [];
  const disks = options.disks ?? [];
  if (!Array.isArray(disks)) throw new VmmError('EBADCONFIG', 'disks must be an array');
  const vsock = options.vsock === undefined ? undefined : new VirtioVsock(options.vsock);
  const shareSpecs = options.shares ?? [];
  if (!Array.isArray(shareSpecs)) throw new VmmError('EBADCONFIG', 'shares must be an array');
  const slotCount = (options.rng ?? true ? 1 : 0) + disks.length + (options.net ? 1 : 0) + (vsock ? 1 : 0) + shareSpecs.length + (options.virtioConsole ? 1 : 0);
  if (slotCount > VIRTIO_MAX_SLOTS) throw new VmmError('EBADCONFIG', `at most ${VIRTIO_MAX_SLOTS} virtio devices fit, got ${slotCount}`);
  if (options.rng ?? true) virtioDevs.push(new VirtioRng());
  try {
    for (const [i, d] of disks.entries()) {
      const b = VirtioBlock.open({ path: d.path, readOnly: d.readOnly ?? false }, `virtio-blk${i}`);
      blocks.push(b);
      virtioDevs.push(b);
    }
  } catch (e) {
    for (const b of blocks) void b.close();
    throw e;
  }
  const shares: VirtioFs[] = [];
  try {
    for (const sh of shareSpecs) {
      if (shares.some((f) => f.tag === sh.tag)) throw new VmmError('ESHARE', `share tag ${JSON.stringify(sh.tag)} is used twice`);
      shares.push(VirtioFs.open({ hostDir: sh.hostDir, tag: sh.tag, readOnly: sh.readOnly ?? false }));
    }
  } catch (e) {
    for (const b of blocks) void b.close();
    for (const f of shares) f.close();
    throw e;
  }
  let netBackend: NetBackend | undefined;
  if (options.net) {
    try {
      netBackend = 'tap' in options.net ? new TapBackend(options.net.tap) : await PasstBackend.start(options.net.user.hostfwd);
    } catch (e) {
      for (const b of blocks) void b.close();
      for (const f of shares) f.close();
      throw e;
    }
    virtioDevs.push(new VirtioNet(netBackend));
  }
  if (vsock) virtioDevs.push(vsock);
  virtioDevs.push(...shares);
  let cmdline: string;
  try {
    cmdline = insertKernelParams(options.cmdline ?? '', virtioDevs.map((_, i) => slotCmdlineToken(i)).concat(options.virtioConsole ? [slotCmdlineToken(virtioDevs.length), options.virtioConsole === 'auto' ? 'kiln.console=auto' : 'kiln.console=virtio'] : []));
    encodeCmdline(cmdline);
  } catch (e) {
    for (const b of blocks) void b.close();
    for (const f of shares) f.close();
    await netBackend?.close();
    throw e;
  }
  step('validate');

  const ownHv = options.hypervisor === undefined;
  const hv = options.hypervisor ?? Kvm.open();
  let vm: HvVm | undefined;
  let mem: HvMemory | undefined;
  const vcpus: HvVcpu[] = [];
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let serial: Serial | undefined;
  const eventFds: HvEventFd[] = [];
  const transports: VirtioMmio[] = [];
  try {
    if (ownHv) step('open_kvm');
    vm = hv.createVm();
    step('create_vm');
    mem = hv.createMemory(memBytes);
    step('create_memory');
    if (vsock) await vsock.listen();
    regions.forEach((r: RamRegion, slot) => vm!.mapMemory({ slot, guestPhysAddr: r.guestPhysAddr, memory: mem!, offset: r.hostOffset, size: r.size }));
    step('map_memory');
    vm.createIrqchip();
    step('create_irqchip');
    vm.setTssAddr(KVM_TSS_ADDRESS);
    step('set_tss_addr');

    const ram = new GuestRam(mem.bytes, regions);
    loadKernelImage(options.image, ram, { kernel, ramIsZero: true }); // RAM is a new anonymous mapping
    step('load_image');
    const e820 = e820Map(memBytes);
    const cmdlineSize = encodeCmdline(cmdline).length;
    ram.write(CMDLINE_ADDR, encodeCmdline(cmdline));
    if (boot === 'linux') {
      writeGdt(ram, GDT_LINUX64);
      writeBootPageTables(ram);
      writeZeroPage(ram, { cmdlineAddr: CMDLINE_ADDR, cmdlineSize, e820 });
    } else {
      writeGdt(ram, GDT_PVH32);
      writePvhStartInfo(ram, { cmdlineAddr: CMDLINE_ADDR, e820 });
    }
    step('write_boot_structures');

    for (let i = 0; i < cpus; i++) vcpus.push(vm.createVcpu(i));
    step('create_vcpus');
    const supported = hv.supportedCpuid();
    for (const [i, v] of vcpus.entries()) {
      v.setCpuid(buildCpuid(supported, i, v.getTscKhz()));
      try {
        v.setMsrs(bootMsrs());
      } catch (e) {
        if (i === 0) warnings.push(`boot MSRs not set: ${(e as Error).message}`);
      }
    }
    const bsp = vcpus[0]!;
    bsp.setFpu({ fcw: 0x37f, mxcsr: 0x1f80 });
    if (boot === 'linux') {
      const s = bsp.getSregs();
      bsp.setSregs(linuxBootSregs(s.cr0, s.cr4, s.efer));
      bsp.setRegs(linuxBootRegs(kernel.entry));
    } else {
      bsp.setSregs(pvhBootSregs());
      bsp.setRegs(pvhBootRegs(kernel.pvhEntry!));
    }
    step('configure_vcpus');

    // Devices
    let outcome: Outcome | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (o: Outcome): void => {
      if (outcome) return;
      outcome = o;
      if (o.message) debug(`vm ends: ${o.reason}: ${o.message}`);
      if (timer) clearTimeout(timer);
      for (const v of vcpus) v.stop();
    };
    let exitTimeNs = t0;
    const pio = new Bus('pio');
    const mmio = new Bus('mmio');
    const theVm = vm;
    const consoleFd = options.stdoutFd;
    serial = new Serial(consoleFd === undefined ? stdout : fdSink(consoleFd), () => {
      try {
        theVm.irqLine(SERIAL_IRQ, 1);
        theVm.irqLine(SERIAL_IRQ, 0);
      } catch (e) {
        warnings.push(`serial IRQ: ${(e as Error).message}`);
      }
    });
    pio.add(SERIAL_PORT, 8, 'serial', serial);
    if (consoleFd !== undefined) {
      const route = (plain: boolean): void => {
        for (const v of vcpus) v.setPortSink(plain ? { port: SERIAL_PORT, fd: consoleFd } : null);
      };
      serial.onPlainOutputChange = route;
      route(serial.plainOutput);
    }
    pio.add(I8042_PORT_BASE, I8042_PORT_LEN, 'i8042', new I8042(() => finish({ reason: 'reset', exitCode: exitCodeFor('reset'), message: 'guest reset through the i8042 (0xfe)' })));
    pio.add(DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_LEN, 'debug-exit', new DebugExit((code) => finish({ reason: 'exit', exitCode: exitCodeFor('exit', code) })));
    pio.add(RTC_PORT_BASE, RTC_PORT_LEN, 'rtc', new Rtc());
    let bootTime: BootTime | undefined;
    const bootTimer = new BootTimer(
      () => {
        const cpu = process.cpuUsage(cpu0);
        return { wallUs: Number((exitTimeNs - t0) / 1000n), cpuUs: cpu.user + cpu.system };
      },
      (t) => {
        if (bootTime) return;
        bootTime = t;
        if (options.bootTimer) {
          serial?.flush();
          stderr.write(formatBootTime(t) + '\n');
        }
      },
    );
    mmio.add(BOOT_TIMER_ADDR, BOOT_TIMER_LEN, 'boot-timer', bootTimer);

    // Virtio: registers through ordinary MMIO exits, except InterruptStatus/InterruptACK, which
    // the vCPU threads answer from the transport's shared status word; QueueNotify through one
    // ioeventfd per queue (4-byte write at base+0x50, datamatch = queue index) and interrupts
    // through an irqfd on the slot's GSI, all registered before the first KVM_RUN (cheap then,
    // shared/PVM.md §8).
    if (options.virtioConsole) virtioDevs.push(new VirtioConsole(consoleFd === undefined ? stdout : fdSink(consoleFd)));
    for (const [i, dev] of virtioDevs.entries()) {
      const base = slotAddr(i);
      const irqFd = theVm.createEventFd();
      eventFds.push(irqFd);
      theVm.irqfd({ gsi: slotIrq(i), eventFd: irqFd });
      const t = new VirtioMmio(dev, {
        mem: ram,
        interrupt: () => irqFd.write(1n),
        onFailure: (m) => {
          warnings.push(`virtio ${m}`);
          debug(`virtio ${m}`);
        },
        log: debug,
      });
      transports.push(t);
      mmio.add(base, VIRTIO_MMIO_SLOT_SIZE, dev.name, t);
      for (const v of vcpus) v.addStatusRegister(base + VIRTIO_MMIO_INTERRUPT_STATUS, base + VIRTIO_MMIO_INTERRUPT_ACK, t.interruptStatusWord);
      for (let q = 0; q < dev.queueSizes.length; q++) {
        const efd = theVm.createEventFd();
        eventFds.push(efd);
        theVm.ioeventfd({ addr: base + VIRTIO_MMIO_QUEUE_NOTIFY, len: 4, eventFd: efd, datamatch: q });
        efd.watch(() => t.notifyQueue(q));
      }
    }
    step('virtio');

    const stats: VmResult['stats'] = { exits: 0, vcpuExits: 0, pioExits: 0, mmioExits: 0, unknownPioReads: 0, unknownPioWrites: 0, unknownMmioReads: 0, unknownMmioWrites: 0, virtio: [] };
    const handlerFor =
      (index: number) =>
      (exit: VcpuExit): Uint8Array | undefined => {
        stats.exits++;
        exitTimeNs = exit.timeNs;
        switch (exit.kind) {
          case 'io': {
            stats.pioExits++;
            const { size, count, port } = exit;
            if (exit.direction === 'out') {
              const data = exit.data ?? new Uint8Array(size * count);
              for (let i = 0; i < count; i++) pio.write(port, data.subarray(i * size, (i + 1) * size));
              return undefined;
            }
            const out = new Uint8Array(size * count);
            for (let i = 0; i < count; i++) pio.read(port, out.subarray(i * size, (i + 1) * size));
            return out;
          }
          case 'mmio': {
            stats.mmioExits++;
            if (exit.isWrite) {
              mmio.write(exit.physAddr, exit.data ?? new Uint8Array(exit.len));
              return undefined;
            }
            const out = new Uint8Array(exit.len);
            mmio.read(exit.physAddr, out);
            return out;
          }
          case 'shutdown':
            finish({ reason: 'shutdown', exitCode: exitCodeFor('shutdown'), message: `vCPU ${index}: triple fault (KVM_EXIT_SHUTDOWN)` });
            return undefined;
          case 'internal-error': {
            const what = INTERNAL_ERROR_NAMES[exit.suberror] ?? `suberror ${exit.suberror}`;
            const data = exit.data.length ? ` [${exit.data.map((d) => '0x' + d.toString(16)).join(' ')}]` : '';
            finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${index}: KVM internal error, suberror ${exit.suberror} (${what})${data}` });
            return undefined;
          }
          case 'fail-entry':
            finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${index}: KVM_EXIT_FAIL_ENTRY, hardware reason 0x${exit.hardwareEntryFailureReason.toString(16)}` });
            return undefined;
          case 'system-event':
            if (exit.type === KVM_SYSTEM_EVENT_RESET) finish({ reason: 'reset', exitCode: exitCodeFor('reset'), message: `vCPU ${index}: system reset` });
            else if (exit.type === KVM_SYSTEM_EVENT_SHUTDOWN) finish({ reason: 'exit', exitCode: 0, message: `vCPU ${index}: guest powered off` });
            else finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${index}: system event ${exit.type}${exit.type === KVM_SYSTEM_EVENT_CRASH ? ' (crash)' : ''}` });
            return undefined;
          case 'hlt':
            finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${index}: halted with nothing to wake it (KVM_EXIT_HLT)` });
            return undefined;
          case 'exception':
            finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${index}: unhandled exception ${exit.exception}` });
            return undefined;
          default:
            finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${index}: unexpected KVM exit reason ${exit.reason}` });
            return undefined;
        }
      };

    const runs = vcpus.map((v, i) =>
      v.run(handlerFor(i)).then(
        (done) => {
          stats.vcpuExits += done.runs;
          if (done.handlerError) finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${i}: VMM exit handler failed: ${done.handlerError}` });
          else if (done.error) finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${i}: ${done.error.message}` });
          else if (!outcome) finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${i} stopped unexpectedly` });
        },
        (e: unknown) => finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `vCPU ${i} did not start: ${(e as Error).message}` }),
      ),
    );
    if (netBackend instanceof PasstBackend) {
      netBackend.onUnexpectedExit((why) => finish({ reason: 'error', exitCode: exitCodeFor('error'), message: `user-mode networking: ${why}` }));
    }
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => finish({ reason: 'timeout', exitCode: exitCodeFor('timeout'), message: `no exit after ${options.timeoutMs} ms` }), options.timeoutMs);
    }
    step('start_vcpus');
    await Promise.all(runs);
    if (timer) clearTimeout(timer);
    serial.flush();
    step('run');

    const o = outcome ?? { reason: 'error' as const, exitCode: EXIT_CODE_GUEST_DIED, message: 'vCPUs stopped without an outcome' };
    stats.unknownPioReads = pio.unknownReads;
    stats.unknownPioWrites = pio.unknownWrites;
    stats.unknownMmioReads = mmio.unknownReads;
    stats.unknownMmioWrites = mmio.unknownWrites;
    stats.virtio = transports.map((t) => ({ name: t.device.name, ...t.stats, ...(t.failure !== undefined ? { failure: t.failure } : {}) }));
    if (pio.unknownLog.length || mmio.unknownLog.length) debug(`unclaimed accesses: pio ${pio.unknownLog.join(' ')} mmio ${mmio.unknownLog.join(' ')}`);
    const result: VmResult = { exitCode: o.exitCode, reason: o.reason, timings, stats, warnings };
    if (o.message !== undefined) result.message = o.message;
    if (bootTime) result.bootTime = bootTime;
    return result;
  } finally {
    try {
      serial?.flush();
    } catch {
      // the sink failing must not keep the VM's resources alive
    }
    for (const v of vcpus) v.close();
    // Quiesce the devices before guest memory goes: no more notifications, no file I/O in flight.
    for (const e of eventFds) e.close();
    for (const t of transports) t.reset();
    await Promise.all(blocks.map((b) => b.close().catch(() => {})));
    await Promise.resolve(netBackend?.close()).catch(() => {});
    await vsock?.close().catch(() => {});
    for (const f of shares) f.close();
    vm?.close();
    mem?.free();
    if (ownHv) hv.close();
    step('teardown');
  }
}

/** True for errors that mean "KVM cannot be used here" (exit code 125 in `kiln run`). */
export function isKvmUnavailable(e: unknown): boolean {
  return e instanceof KvmError && (e.code === 'ENOKVM' || e.code === 'EKVMAPI' || e.code === 'ENOADDON');
}
