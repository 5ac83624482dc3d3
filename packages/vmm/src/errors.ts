// Typed errors of the VMM for bad configuration (options `kiln run` passes through). Image
// problems are @kiln/common's ImageError (EBADIMAGE, ETRUNCATED, EUNSUPPORTED, EOVERLAP) and
// KVM problems @kiln/kvm's KvmError (ENOKVM, EIOCTL, ...); `kiln run` maps each to an exit code.

export type VmmErrorCode =
  /** An option is out of range (memory size, vCPU count, boot mode). */
  | 'EBADCONFIG'
  /** The kernel command line is too long or contains a NUL byte. */
  | 'ECMDLINE'
  /** A disk image cannot be used (missing, unreadable, not writable, size not a multiple of 512). */
  | 'EDISK'
  /** The network backend cannot be set up (TAP missing or not permitted, passt missing or failing). */
  | 'ENET'
  /** A virtio-fs share cannot be used (directory missing or not a directory, bad or repeated tag). */
  | 'ESHARE'
  /** The process platform's tender is missing, stale (another ABI) or could not set the guest up. */
  | 'ETENDER'
  /** The host refused to confine the guest (no seccomp) and running unconfined was not asked for. */
  | 'ECONFINE';

export class VmmError extends Error {
  override readonly name = 'VmmError';
  readonly code: VmmErrorCode;
  constructor(code: VmmErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
