/* layout.h — the guest-physical layout numbers the core and the tender use, one name each. Each
 * is defined once more, under the same name, in packages/common/src/layout.ts, virtio/constants.ts
 * or vmm's slots.ts: tests/core/layout.test.ts compares every #define here with it.
 * Spec: docs/ARCHITECTURE.md "Guest physical layout"; virtio 1.2 §4.2.2 for the register offsets. */
#pragma once

#define IMAGE_LOAD_ADDR 0x100000ull    /* image segments load at or above 1 MiB */
#define MMIO_GAP_START 0xC0000000ull  /* RAM stops here; device MMIO (boot timer, virtio, IOAPIC, LAPIC) */
#define MMIO_GAP_END 0x100000000ull
#define BOOT_TIMER_ADDR MMIO_GAP_START /* the boot timer is the gap's first page */
#define BOOT_TIMER_MAGIC 123 /* the byte written there once booted */
#define VIRTIO_MMIO_BASE 0xC0001000ull /* slot i at VIRTIO_MMIO_BASE + VIRTIO_MMIO_SLOT_SIZE * i */
#define VIRTIO_MMIO_SLOT_SIZE 0x1000
#define VIRTIO_MAX_SLOTS 19
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define DEBUG_EXIT_PORT 0xf4
#define SERIAL_PORT 0x3f8              /* COM1; THR at offset 0 */
#define CMDLINE_MAX 4096               /* command line bytes kept, with the NUL */
#define MEM_MIB_MIN 2                  /* guest RAM, in MiB, the VMM and the tender accept */
#define MEM_MIB_MAX 65536
#define HEAP_MIN_BYTES 0x100000ull   /* the core needs more heap than this after its image */
