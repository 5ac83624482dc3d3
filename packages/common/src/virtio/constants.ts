// Virtio 1.2 constants shared by the guest drivers and the VMM devices: device status bits,
// feature bits, device ids and the virtio-mmio version 2 register map. Names are the spec's.
// Spec: Virtual I/O Device (VIRTIO) Version 1.2, §2.1 (status), §6 (reserved features),
// §5 (device ids), §4.2.2 (MMIO device register layout).

// §2.1 Device Status Field
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

// §6 Reserved Feature Bits (bit numbers, not masks; features are 64-bit → use bigint masks)
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_RING_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_IN_ORDER = 35;
export const VIRTIO_F_ORDER_PLATFORM = 36;
export const VIRTIO_F_SR_IOV = 37;
export const VIRTIO_F_NOTIFICATION_DATA = 38;

/** Feature mask of bit `bit` (0..63) as a bigint. */
export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/** Whether `features` (64-bit mask) has bit `bit`. */
export function hasFeature(features: bigint, bit: number): boolean {
  return (features & featureBit(bit)) !== 0n;
}

// §5 Device Types
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;
export const VIRTIO_ID_VSOCK = 19;
export const VIRTIO_ID_FS = 26;

// §4.2.2 MMIO Device Register Layout (version 2, "non-legacy"); offsets from the slot base.
export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
export const VIRTIO_MMIO_VERSION = 0x004;
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
export const VIRTIO_MMIO_QUEUE_SEL = 0x030;
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
export const VIRTIO_MMIO_QUEUE_NUM = 0x038;
export const VIRTIO_MMIO_QUEUE_READY = 0x044;
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
export const VIRTIO_MMIO_STATUS = 0x070;
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
export const VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090;
export const VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094;
export const VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0;
export const VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4;
export const VIRTIO_MMIO_SHM_SEL = 0x0ac;
export const VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0;
export const VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4;
export const VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8;
export const VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc;
export const VIRTIO_MMIO_QUEUE_RESET = 0x0c0;
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
/** Device-specific configuration space starts here. */
export const VIRTIO_MMIO_CONFIG = 0x100;

/** "virt" little-endian. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** Only version 2 (virtio 1.x) is implemented; version 1 is the legacy interface. */
export const VIRTIO_MMIO_VERSION_2 = 2;
/** Size of one Kiln VMM slot (QEMU microvm uses 512-byte slots). */
export const VIRTIO_MMIO_SLOT_SIZE = 0x1000;

// §4.2.2 InterruptStatus bits
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

/** Kiln's vendor id in VIRTIO_MMIO_VENDOR_ID: "KILN" read as a little-endian u32 is 0x4e4c494b. */
export const KILN_VIRTIO_VENDOR_ID = 0x4e4c494b;
