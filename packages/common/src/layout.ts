// Guest physical layout shared by the VMM, the CLI, the guest kernel and tests (Firecracker's
// conventions). The single source of these numbers in TypeScript; arch/layout.h holds the C side
// of those the core and the tender use, under the same names (tests/core/layout.test.ts).
// Spec: docs/ARCHITECTURE.md "Guest physical layout".

/** Image PT_LOAD segments load at p_paddr at or above this address. */
export const IMAGE_LOAD_ADDR = 0x100000;
/** Low RAM ends here (EBDA and legacy holes above). */
export const LOW_RAM_END = 0x9fc00;
/** RAM above 1 MiB stops at min(mem, 3 GiB); the rest continues at 4 GiB. */
export const MMIO_GAP_START = 0xc000_0000;
export const MMIO_GAP_END = 0x1_0000_0000;
/** The boot timer is the gap's first page; the guest writes BOOT_TIMER_MAGIC there once booted. */
export const BOOT_TIMER_ADDR = MMIO_GAP_START;
export const BOOT_TIMER_MAGIC = 123;
export const VIRTIO_MMIO_BASE = 0xc000_1000;
export const CMDLINE_ADDR = 0x20000;
export const CMDLINE_MAX = 4096;
export const DEBUG_EXIT_PORT = 0xf4;
export const SERIAL_PORT = 0x3f8;
/** The heap Kiln's core needs after its page-aligned image (arch/main.c kmain: more than this, else exit 97). */
export const HEAP_MIN_BYTES = 0x10_0000;

/** Minimum and maximum guest RAM in MiB: `kiln run --mem`, runVm and the tender accept these. */
export const MEM_MIB_MIN = 2;
export const MEM_MIB_MAX = 65536;
