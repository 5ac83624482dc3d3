// Where Kiln's VMM puts virtio-mmio devices and how the guest learns about them: slot i at
// 0xC0001000 + 0x1000*i on IRQ/GSI 5 + i, announced as `virtio_mmio.device=4K@0xADDR:IRQ`
// (Linux's format) inserted before the guest's ` -- ` argument separator.
// Spec: docs/ARCHITECTURE.md "Virtio"; Linux drivers/virtio/virtio_mmio.c (device= parameter).

import { VIRTIO_MMIO_BASE } from '@kiln/common/layout.ts';
import { VIRTIO_MMIO_SLOT_SIZE } from '@kiln/common/virtio/constants.ts';

export const VIRTIO_FIRST_IRQ = 5;
/** IOAPIC pins 5..23 (24 pins; the slots stop before the MMIO gap's other devices). */
export const VIRTIO_MAX_SLOTS = 19;

export function slotAddr(i: number): number {
  return VIRTIO_MMIO_BASE + VIRTIO_MMIO_SLOT_SIZE * i;
}

export function slotIrq(i: number): number {
  return VIRTIO_FIRST_IRQ + i;
}

/** `virtio_mmio.device=4K@0xc0001000:5` for slot i (lower-case hex, as Linux prints it). */
export function slotCmdlineToken(i: number): string {
  return `virtio_mmio.device=4K@0x${slotAddr(i).toString(16)}:${slotIrq(i)}`;
}

/**
 * Inserts `tokens` after the user's kernel parameters and env, before the first `--` token
 * (the guest's argument separator), or at the end when there is none.
 */
export function insertKernelParams(cmdline: string, tokens: string[]): string {
  if (tokens.length === 0) return cmdline;
  const add = tokens.join(' ');
  const m = /(^|\s)--(\s|$)/.exec(cmdline);
  if (!m) return cmdline.trim() === '' ? add : `${cmdline.replace(/\s+$/, '')} ${add}`;
  const at = m.index + m[1]!.length;
  const before = cmdline.slice(0, at).replace(/\s+$/, '');
  return `${before ? before + ' ' : ''}${add} ${cmdline.slice(at)}`;
}
