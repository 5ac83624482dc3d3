// Split virtqueue layout (descriptor table, available ring, used ring), sizes and alignments,
// and the event-index notification rule. Drivers and devices compute the same offsets here.
// Spec: virtio 1.2 §2.7 (Split Virtqueues): §2.7.5 descriptor table, §2.7.6 available ring,
// §2.7.8 used ring, §2.7.7.2 / §2.7.10 event index (vring_need_event); all little-endian.

// §2.7.5 struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; }
export const VIRTQ_DESC_SIZE = 16;
export const VIRTQ_DESC_ADDR = 0;
export const VIRTQ_DESC_LEN = 8;
export const VIRTQ_DESC_FLAGS = 12;
export const VIRTQ_DESC_NEXT = 14;
/** This marks a buffer as continuing via the next field. */
export const VIRTQ_DESC_F_NEXT = 1;
/** This marks a buffer as device write-only (otherwise device read-only). */
export const VIRTQ_DESC_F_WRITE = 2;
/** This means the buffer contains a list of buffer descriptors (§2.7.5.3). */
export const VIRTQ_DESC_F_INDIRECT = 4;

// §2.7.6 struct virtq_avail { le16 flags; le16 idx; le16 ring[N]; le16 used_event; }
export const VIRTQ_AVAIL_FLAGS = 0;
export const VIRTQ_AVAIL_IDX = 2;
export const VIRTQ_AVAIL_RING = 4;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

// §2.7.8 struct virtq_used { le16 flags; le16 idx; struct virtq_used_elem ring[N]; le16 avail_event; }
// struct virtq_used_elem { le32 id; le32 len; }
export const VIRTQ_USED_FLAGS = 0;
export const VIRTQ_USED_IDX = 2;
export const VIRTQ_USED_RING = 4;
export const VIRTQ_USED_ELEM_SIZE = 8;
export const VIRTQ_USED_F_NO_NOTIFY = 1;

// §2.7 Table "Virtqueue Part Alignment"
export const VIRTQ_DESC_ALIGN = 16;
export const VIRTQ_AVAIL_ALIGN = 2;
export const VIRTQ_USED_ALIGN = 4;
/** §2.7: Queue Size is a power of 2 no greater than 32768. */
export const VIRTQ_MAX_SIZE = 32768;

export function isValidQueueSize(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= VIRTQ_MAX_SIZE && (n & (n - 1)) === 0;
}

/** Bytes of the descriptor table for `n` entries (16 * n). */
export function descTableSize(n: number): number {
  return VIRTQ_DESC_SIZE * n;
}

/** Bytes of the available ring for `n` entries, with used_event (6 + 2 * n). */
export function availRingSize(n: number): number {
  return 6 + 2 * n;
}

/** Bytes of the used ring for `n` entries, with avail_event (6 + 8 * n). */
export function usedRingSize(n: number): number {
  return 6 + VIRTQ_USED_ELEM_SIZE * n;
}

/** Offset of used_event (the driver's "interrupt me after this used idx") in the avail ring. */
export function availUsedEventOffset(n: number): number {
  return VIRTQ_AVAIL_RING + 2 * n;
}

/** Offset of avail_event (the device's "notify me after this avail idx") in the used ring. */
export function usedAvailEventOffset(n: number): number {
  return VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * n;
}

export interface SplitQueueLayout {
  /** Offsets from the start of one contiguous area (legacy-style packing, handy for drivers). */
  desc: number;
  avail: number;
  used: number;
  /** Bytes of the whole area. */
  size: number;
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

/**
 * A packing of the three parts of a queue of size `n` into one allocation, each part at its
 * required alignment (§2.7). The used ring is put on its own 4 KiB page when `pageAlignUsed`
 * (as the legacy layout did), which keeps device writes off the driver's cache lines.
 */
export function splitQueueLayout(n: number, pageAlignUsed = false): SplitQueueLayout {
  const desc = 0;
  const avail = alignUp(desc + descTableSize(n), VIRTQ_AVAIL_ALIGN);
  const used = alignUp(avail + availRingSize(n), pageAlignUsed ? 4096 : VIRTQ_USED_ALIGN);
  return { desc, avail, used, size: used + usedRingSize(n) };
}

/**
 * §2.7.7.2 / Linux vring_need_event: with event index, the other side wants a notification
 * when the index moved from `oldIdx` to `newIdx` past `eventIdx` (all 16-bit, wrapping).
 */
export function vring_need_event(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
