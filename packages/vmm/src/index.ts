// Public API of @kiln/vmm for `kiln run`, benchmarks and tests: runVm() and its option/result
// types, the typed errors, and the boot and device building blocks (for tests and tools).

export { runVm, DEFAULT_MEM_MIB, MAX_VCPUS, EXIT_CODE_GUEST_DIED, EXIT_CODE_TIMEOUT } from './vm.ts';
export type { RunVmOptions, VmResult, VmExitReason, StepTiming } from './vm.ts';
export { VmmError, type VmmErrorCode } from './errors.ts';
export { ImageError, type ImageErrorCode } from '@kiln/common/elf/errors.ts';
export { KvmError, type KvmErrorCode, probeKvm } from '@kiln/kvm';
export { parseKernelImage, loadKernelImage, type KernelImage } from './boot/elf_loader.ts';
export { formatBootTime, type BootTime } from './devices/boot_timer.ts';
export type { ByteSink } from './devices/serial.ts';
