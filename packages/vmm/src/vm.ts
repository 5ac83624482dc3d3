// Builds and runs one guest, on a KVM microVM or on the process platform (machine.ts): validates
// the options and the image, opens the devices, has the machine set up CPU and memory, lays out
// the boot structures in guest RAM, wires the legacy and virtio devices to the PIO/MMIO buses,
// runs the machine and turns its exits into an outcome. Everything but CPU and memory setup is
// shared by both platforms. Every setup step is timed. Firecracker's builder.rs is the model;
// contracts in docs/ARCHITECTURE.md.

import { writeSync } from 'node:fs';
import type { Hypervisor, VcpuExit } from '@kiln/kvm';
import { ImageError } from '@kiln/common/elf/errors.ts';
import { BOOT_TIMER_ADDR, CMDLINE_ADDR, DEBUG_EXIT_PORT, MEM_MIB_MAX, MEM_MIB_MIN, SERIAL_PORT } from '@kiln/common/layout.ts';
import { GUEST_EXIT_CPU_FAULT } from '@kiln/common/exit_codes.ts';
import { VmmError } from './errors.ts';
import { ramRegions } from './boot/layout.ts';
import type { GuestRam } from './boot/guest_ram.ts';
import { loadKernelImage, parseKernelImage, type KernelImage } from './boot/elf_loader.ts';
import { e820Map } from './boot/e820.ts';
import { writeZeroPage } from './boot/zero_page.ts';
import { writePvhStartInfo } from './boot/pvh.ts';
import { encodeCmdline } from './boot/cmdline.ts';
import { GDT_LINUX64, GDT_PVH32, writeGdt } from './boot/gdt.ts';
import { writeBootPageTables } from './boot/page_tables.ts';
import { Bus } from './devices/bus.ts';
import { Serial, type ByteSink } from './devices/serial.ts';
import { I8042, I8042_PORT_BASE, I8042_PORT_LEN } from './devices/i8042.ts';
import { DebugExit, DEBUG_EXIT_PORT_LEN } from './devices/debug_exit.ts';
import { BootTimer, BOOT_TIMER_LEN, formatBootTime, type BootTime } from './devices/boot_timer.ts';
import { Rtc, RTC_PORT_BASE, RTC_PORT_LEN } from './devices/rtc.ts';
import { VIRTIO_MMIO_SLOT_SIZE } from '@kiln/common/virtio/constants.ts';
import { VirtioMmio } from './devices/virtio/mmio.ts';
import type { VirtioDevice } from './devices/virtio/device.ts';
import { VirtioRng } from './devices/virtio/rng.ts';
import { VirtioBlock } from './devices/virtio/block.ts';
import { VirtioConsole } from './devices/virtio/console.ts';
import { VirtioVsock } from './devices/virtio/vsock.ts';
import { VirtioFs } from './devices/virtio/fs/device.ts';
import { VirtioNet, defaultMac, type NetBackend } from './devices/virtio/net.ts';
import { PasstBackend, TapBackend, type HostFwd } from './devices/virtio/net_backend.ts';
import { VIRTIO_MAX_SLOTS, insertKernelParams, slotAddr, slotCmdlineToken, slotIrq } from './devices/virtio/slots.ts';
import { EXIT_CODE_GUEST_DIED, EXIT_CODE_TIMEOUT, died, exitCodeFor, type ExitHandler, type Machine, type Outcome, type VmExitReason } from './machine.ts';
import { KvmMachine } from './kvm_machine.ts';
import { ProcessMachine } from './process/machine.ts';
import { ProfileCollector } from './profile/collector.ts';
import { faultJsStack } from './profile/fault_stack.ts';
import { DEFAULT_RING_DATA, ProfileRing } from './profile/ring.ts';
import type { Profile } from './profile/profile.ts';
import { PROFILE_HZ_MAX } from './process/abi.ts';
import { PF_X } from '@kiln/common/elf/constants.ts';

export { EXIT_CODE_GUEST_DIED, EXIT_CODE_TIMEOUT, type VmExitReason };

export const MIB = 1024 * 1024;
export const DEFAULT_MEM_MIB = 128;
export const MAX_VCPUS = 255;
/** Serial IRQ line (IOAPIC pin / PIC IRQ 4). */
export const SERIAL_IRQ = 4;

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
  /**
   * Where the guest runs: 'kvm', a microVM (default); 'process', the process platform (a
   * seccomp-confined tender process, one vCPU, the linux boot protocol's zero page).
   */
  platform?: 'kvm' | 'process';
  /** Process platform only: run the tender without namespaces and seccomp (never by default). */
  unconfined?: boolean;
  /** Process platform only: the tender binary (default arch/build/kiln-tender; tests use others). */
  tenderPath?: string;
  /** KVM: the hypervisor to use (default: opens /dev/kvm; a given one is not closed). */
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
  shares?: { hostDir: string; tag: string; readOnly?: boolean; allowSetid?: boolean }[];
  /**
   * Sample the guest while it runs (`kiln profile`): `hz` samples a second of vCPU 0 (1 to
   * 10000), for `durationMs` or until the guest stops; `onProfile` gets the profile once, while
   * the guest's RAM is still mapped, with what the user should know (a missing symbol table).
   */
  profile?: { hz: number; durationMs?: number; onProfile(p: Profile, warnings: string[]): void };
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

function validate(o: RunVmOptions): { memBytes: number; cpus: number; boot: 'linux' | 'pvh'; platform: 'kvm' | 'process' } {
  const memMiB = o.memMiB ?? DEFAULT_MEM_MIB;
  if (!Number.isInteger(memMiB) || memMiB < MEM_MIB_MIN || memMiB > MEM_MIB_MAX) {
    throw new VmmError('EBADCONFIG', `memory must be a whole number of MiB between ${MEM_MIB_MIN} and ${MEM_MIB_MAX}, got ${memMiB}`);
  }
  const cpus = o.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_VCPUS) {
    throw new VmmError('EBADCONFIG', `vCPU count must be between 1 and ${MAX_VCPUS}, got ${cpus}`);
  }
  const boot = o.boot ?? 'linux';
  if (boot !== 'linux' && boot !== 'pvh') throw new VmmError('EBADCONFIG', `boot mode must be 'linux' or 'pvh', got '${String(boot)}'`);
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) throw new VmmError('EBADCONFIG', `timeout must be positive, got ${o.timeoutMs}`);
  if (!(o.image instanceof Uint8Array)) throw new VmmError('EBADCONFIG', 'image must be a Uint8Array');
  const platform = o.platform ?? 'kvm';
  if (platform !== 'kvm' && platform !== 'process') throw new VmmError('EBADCONFIG', `platform must be 'kvm' or 'process', got '${String(platform)}'`);
  if (platform === 'process' && cpus !== 1) throw new VmmError('EBADCONFIG', `the process platform runs one vCPU, got ${cpus} (use KVM for more)`);
  if (platform === 'process' && boot !== 'linux') throw new VmmError('EBADCONFIG', 'the process platform enters through the image\'s process entry: boot mode pvh needs KVM');
  if (o.unconfined && platform !== 'process') throw new VmmError('EBADCONFIG', 'unconfined applies to the process platform only');
  if (o.profile) {
    const { hz, durationMs } = o.profile;
    if (!Number.isInteger(hz) || hz < 1 || hz > PROFILE_HZ_MAX) throw new VmmError('EBADCONFIG', `the sampling rate must be a whole number of Hz from 1 to ${PROFILE_HZ_MAX}, got ${hz}`);
    if (durationMs !== undefined && !(durationMs > 0)) throw new VmmError('EBADCONFIG', `the profile's duration must be positive, got ${durationMs}`);
  }
  return { memBytes: memMiB * MIB, cpus, boot, platform };
}

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

/** Writes the boot structures of protocol `boot` into guest RAM: command line, GDT, page tables
 * and the zero page (linux; the process platform reads the zero page too) or the PVH start info. */
function writeBootStructures(ram: GuestRam, boot: 'linux' | 'pvh', cmdline: string, memBytes: number): void {
  const e820 = e820Map(memBytes);
  const bytes = encodeCmdline(cmdline);
  ram.write(CMDLINE_ADDR, bytes);
  if (boot === 'linux') {
    writeGdt(ram, GDT_LINUX64);
    writeBootPageTables(ram);
    writeZeroPage(ram, { cmdlineAddr: CMDLINE_ADDR, cmdlineSize: bytes.length, e820 });
  } else {
    writeGdt(ram, GDT_PVH32);
    writePvhStartInfo(ram, { cmdlineAddr: CMDLINE_ADDR, e820 });
  }
}

/** The host side of the devices: opened before any machine exists, so a bad path fails fast. */
interface OpenDevices {
  virtio: VirtioDevice[];
  blocks: VirtioBlock[];
  shares: VirtioFs[];
  vsock: VirtioVsock | undefined;
  net: NetBackend | undefined;
  close(): Promise<void>;
}

/** Virtio devices, in slot order: rng, disks, NIC, vsock, shares (the console is added later). */
async function openDevices(options: RunVmOptions): Promise<OpenDevices> {
  const virtio: VirtioDevice[] = [];
  const blocks: VirtioBlock[] = [];
  const shares: VirtioFs[] = [];
  const disks = options.disks ?? [];
  if (!Array.isArray(disks)) throw new VmmError('EBADCONFIG', 'disks must be an array');
  const shareSpecs = options.shares ?? [];
  if (!Array.isArray(shareSpecs)) throw new VmmError('EBADCONFIG', 'shares must be an array');
  const vsock = options.vsock === undefined ? undefined : new VirtioVsock(options.vsock);
  const slotCount = (options.rng ?? true ? 1 : 0) + disks.length + (options.net ? 1 : 0) + (vsock ? 1 : 0) + shareSpecs.length + (options.virtioConsole ? 1 : 0);
  if (slotCount > VIRTIO_MAX_SLOTS) throw new VmmError('EBADCONFIG', `at most ${VIRTIO_MAX_SLOTS} virtio devices fit, got ${slotCount}`);
  let net: NetBackend | undefined;
  const devs: OpenDevices = {
    virtio, blocks, shares, vsock,
    get net() {
      return net;
    },
    async close() {
      await Promise.all(blocks.map((b) => b.close().catch(() => {})));
      await Promise.resolve(net?.close()).catch(() => {});
      await vsock?.close().catch(() => {});
      for (const f of shares) f.close();
    },
  };
  try {
    if (options.rng ?? true) virtio.push(new VirtioRng());
    for (const [i, d] of disks.entries()) {
      const b = VirtioBlock.open({ path: d.path, readOnly: d.readOnly ?? false }, `virtio-blk${i}`);
      blocks.push(b);
      virtio.push(b);
    }
    for (const sh of shareSpecs) {
      if (shares.some((f) => f.tag === sh.tag)) throw new VmmError('ESHARE', `share tag ${JSON.stringify(sh.tag)} is used twice`);
      shares.push(VirtioFs.open({ hostDir: sh.hostDir, tag: sh.tag, readOnly: sh.readOnly ?? false, allowSetid: sh.allowSetid ?? false }));
    }
    if (options.net) {
      const mac = defaultMac();
      net = 'tap' in options.net ? new TapBackend(options.net.tap) : await PasstBackend.start(options.net.user.hostfwd, { guestMac: mac });
      virtio.push(new VirtioNet(net, { mac }));
    }
    if (vsock) virtio.push(vsock);
    virtio.push(...shares);
  } catch (e) {
    await devs.close();
    throw e;
  }
  return devs;
}

/** How a run ended, for the profile's "stopped" line. */
function outcomeText(o: Outcome): string {
  switch (o.reason) {
    case 'exit':
      return `the guest exited with code ${o.exitCode}`;
    case 'reset':
      return 'the guest reset';
    case 'timeout':
      return 'the guest was stopped at its timeout';
    default:
      return `the guest died: ${o.message ?? o.reason}`;
  }
}

/** Sets up the sampler of `options.profile` on `m`: start() when the vCPUs start; finish() once
 * (at the duration's end or when the guest stops) delivers the profile. */
function startProfiling(p: NonNullable<RunVmOptions['profile']>, m: Machine, kernel: KernelImage, image: Uint8Array): { start(): void; finish(stopped: string): void } {
  const text = kernel.segments.filter((s) => s.flags & PF_X);
  const textLo = Math.min(...text.map((s) => s.paddr));
  const textHi = Math.max(...text.map((s) => s.paddr + s.memsz));
  const collector = new ProfileCollector({ platform: m.platform, hz: p.hz, image, ram: m.ram, textLo, textHi });
  const ring = m.startProfiling({ hz: p.hz, descAddr: collector.descAddr ?? 0, textLo, textHi });
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (stopped: string): void => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    p.onProfile(collector.finish(stopped), collector.warnings);
  };
  return {
    start() {
      collector.start(ring);
      if (p.durationMs !== undefined) timer = setTimeout(() => finish(`--duration ${p.durationMs! / 1000} s`), p.durationMs);
    },
    finish,
  };
}

/** Builds the guest, runs it to an outcome and releases everything. */
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

  // Everything that can be checked without a machine comes first, so bad input fails fast.
  const { memBytes, cpus, boot, platform } = validate(options);
  const regions = ramRegions(memBytes);
  const inRam = { contains: (gpa: number, len: number) => regions.some((r) => gpa >= r.guestPhysAddr && gpa + len <= r.guestPhysAddr + r.size) };
  const kernel: KernelImage = parseKernelImage(options.image, inRam);
  if (boot === 'pvh' && kernel.pvhEntry === undefined) {
    throw new ImageError('EBADIMAGE', 'image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); boot it with the linux protocol');
  }
  const devs = await openDevices(options);
  const virtioDevs = devs.virtio;
  let cmdline: string;
  try {
    cmdline = insertKernelParams(options.cmdline ?? '', virtioDevs.map((_, i) => slotCmdlineToken(i)).concat(options.virtioConsole ? [slotCmdlineToken(virtioDevs.length), options.virtioConsole === 'auto' ? 'kiln.console=auto' : 'kiln.console=virtio'] : []));
    encodeCmdline(cmdline);
  } catch (e) {
    await devs.close();
    throw e;
  }
  step('validate');

  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const consoleFd = options.stdoutFd;
  let machine: Machine | undefined;
  let serial: Serial | undefined;
  const transports: VirtioMmio[] = [];
  try {
    machine =
      platform === 'kvm'
        ? new KvmMachine({ ...(options.hypervisor ? { hypervisor: options.hypervisor } : {}), memBytes, regions, cpus, step, ...(options.profile ? { profileRingBytes: ProfileRing.bytesFor(DEFAULT_RING_DATA) } : {}) })
        : new ProcessMachine({ memBytes, regions, step, stdout, stderr, ...(options.profile ? { profileRingBytes: ProfileRing.bytesFor(DEFAULT_RING_DATA) } : {}), ...(consoleFd !== undefined ? { consoleFd } : {}), ...(options.unconfined ? { unconfined: true } : {}), ...(options.tenderPath ? { tenderPath: options.tenderPath } : {}), debug });
    const m = machine;
    if (devs.vsock) await devs.vsock.listen();

    loadKernelImage(options.image, m.ram, { kernel, ramIsZero: true }); // RAM is a new mapping
    step('load_image');
    writeBootStructures(m.ram, boot, cmdline, memBytes);
    step('write_boot_structures');
    m.configureCpus(kernel, boot, warnings, step);
    step('configure_vcpus');
    const profiling = options.profile && startProfiling(options.profile, m, kernel, options.image);

    // Devices
    let outcome: Outcome | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (o: Outcome): void => {
      if (outcome) return;
      outcome = o;
      if (o.message) debug(`vm ends: ${o.reason}: ${o.message}`);
      if (timer) clearTimeout(timer);
      m.stop();
    };
    let exitTimeNs = t0;
    const pio = new Bus('pio');
    const mmio = new Bus('mmio');
    serial = new Serial(consoleFd === undefined ? stdout : fdSink(consoleFd), () => {
      try {
        m.raiseIrq(SERIAL_IRQ);
      } catch (e) {
        warnings.push(`serial IRQ: ${(e as Error).message}`);
      }
    });
    pio.add(SERIAL_PORT, 8, 'serial', serial);
    if (consoleFd !== undefined) {
      // The console fast path: plain serial output goes straight to the fd.
      const route = (plain: boolean): void => m.setConsoleFd(plain ? consoleFd : null);
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

    // Virtio: registers through the machine's ordinary exits; QueueNotify, interrupts and
    // InterruptStatus/ACK through the machine's fast paths.
    if (options.virtioConsole) virtioDevs.push(new VirtioConsole(consoleFd === undefined ? stdout : fdSink(consoleFd)));
    for (const [i, dev] of virtioDevs.entries()) {
      const base = slotAddr(i);
      const word = m.statusWord(i);
      const t = new VirtioMmio(dev, {
        mem: m.ram,
        interrupt: m.interruptFor(i, slotIrq(i)),
        onFailure: (msg) => {
          warnings.push(`virtio ${msg}`);
          debug(`virtio ${msg}`);
        },
        log: debug,
        ...(word ? { interruptStatusWord: word } : {}),
      });
      transports.push(t);
      mmio.add(base, VIRTIO_MMIO_SLOT_SIZE, dev.name, t);
      m.attachVirtio(i, base, t);
    }
    step('virtio');

    const stats: VmResult['stats'] = { exits: 0, vcpuExits: 0, pioExits: 0, mmioExits: 0, unknownPioReads: 0, unknownPioWrites: 0, unknownMmioReads: 0, unknownMmioWrites: 0, virtio: [] };
    const handler: ExitHandler = (exit: VcpuExit): Uint8Array | undefined => {
      stats.exits++;
      exitTimeNs = exit.timeNs;
      if (exit.kind === 'io') {
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
      if (exit.kind === 'mmio') {
        stats.mmioExits++;
        if (exit.isWrite) {
          mmio.write(exit.physAddr, exit.data ?? new Uint8Array(exit.len));
          return undefined;
        }
        const out = new Uint8Array(exit.len);
        mmio.read(exit.physAddr, out);
        return out;
      }
      return undefined;
    };

    const net = devs.net;
    if (net instanceof PasstBackend) {
      await net.ready();
      step('passt_ready');
      net.onUnexpectedExit((why) => finish(died(`user-mode networking: ${why}`)));
    }
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => finish({ reason: 'timeout', exitCode: exitCodeFor('timeout'), message: `no exit after ${options.timeoutMs} ms` }), options.timeoutMs);
    }
    step('start_vcpus');
    profiling?.start();
    let ran;
    try {
      ran = await m.run(handler, finish);
    } finally {
      if (timer) clearTimeout(timer);
      profiling?.finish(outcome ? outcomeText(outcome) : 'the VMM failed'); // before guest RAM goes
    }
    stats.vcpuExits = ran.vcpuExits;
    serial.flush();
    step('run');

    const o = outcome ?? died('vCPUs stopped without an outcome');
    if (o.reason === 'exit' && o.exitCode === GUEST_EXIT_CPU_FAULT) {
      // the guest printed its CPU fault report; its JavaScript stack is read from its RAM, still mapped
      const sink = consoleFd === undefined ? stdout : fdSink(consoleFd);
      for (const line of faultJsStack(options.image, m.ram)) sink.write(Buffer.from(line));
    }
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
    // Quiesce the devices before guest memory goes: no more notifications, no file I/O in flight.
    machine?.quiesce();
    for (const t of transports) t.reset();
    await devs.close();
    machine?.close();
    step('teardown');
  }
}
