// Virtio definitions shared by Kiln's guest drivers and VMM devices (virtio 1.2 names):
// constants and the MMIO register map, split-queue layout, device configs and headers.
// Spec: virtio 1.2 §2 (basic facilities), §4.2 (MMIO transport), §5 (device types).

export * from './constants.ts';
export * from './ring.ts';
export * from './devices.ts';
