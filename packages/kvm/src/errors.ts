// Typed errors of the KVM layer. Every failure that crosses the addon boundary becomes a
// KvmError with a stable `code` that callers (the VMM, `kiln run`) switch on; the message says
// what failed and, where there is one, what the user can do about it.

export type KvmErrorCode =
  /** /dev/kvm is missing or not accessible. */
  | 'ENOKVM'
  /** KVM_GET_API_VERSION is not 12, or a required capability is missing. */
  | 'EKVMAPI'
  /** An ioctl (or mmap, eventfd, ...) failed; `ioctl` and `errno` say which and why. */
  | 'EIOCTL'
  /** Bad argument from the caller (out of range, unknown memory, closed object). */
  | 'EINVAL'
  /** The native addon is not built or cannot be loaded. */
  | 'ENOADDON';

export class KvmError extends Error {
  override readonly name = 'KvmError';
  readonly code: KvmErrorCode;
  /** The failing ioctl's kernel name (KVM_CREATE_VM), for EIOCTL. */
  readonly ioctl?: string;
  /** errno value and its name (EEXIST), for ENOKVM and EIOCTL. */
  readonly errno?: number;
  readonly errnoName?: string;

  constructor(code: KvmErrorCode, message: string, extra: { ioctl?: string; errno?: number; errnoName?: string; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    if (extra.ioctl !== undefined) this.ioctl = extra.ioctl;
    if (extra.errno !== undefined) this.errno = extra.errno;
    if (extra.errnoName !== undefined) this.errnoName = extra.errnoName;
  }
}

const CODES = new Set<string>(['ENOKVM', 'EKVMAPI', 'EIOCTL', 'EINVAL', 'ENOADDON']);

/** Turns an error thrown by the addon (plain Error with `code`) into a KvmError. */
export function toKvmError(e: unknown): unknown {
  if (e instanceof KvmError) return e;
  if (e instanceof Error) {
    const x = e as Error & { code?: unknown; ioctl?: string; errno?: number; errnoName?: string };
    if (typeof x.code === 'string' && CODES.has(x.code)) {
      return new KvmError(x.code as KvmErrorCode, x.message, { ioctl: x.ioctl, errno: x.errno, errnoName: x.errnoName });
    }
  }
  return e;
}

/** Runs `fn`, rethrowing addon errors as KvmError. */
export function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toKvmError(e);
  }
}
