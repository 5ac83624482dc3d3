// The process platform's ABI as the VMM sees it: the control page's words, the register
// channel's frames, the fds handed to the tender and the tender's own exit codes. The C side is
// arch/process.h and arch/tender/tender.h; abi.test.ts checks that both say the same.
// Contract: docs/ARCHITECTURE.md "The process platform".

export const KILN_PROCESS_ABI = 1;
/** ELF note (name "Kiln") whose desc is u64 entry, u32 ABI version, u32 0. */
export const KILN_NOTE_PROCESS_ENTRY = 1;

/** The control page: the page after guest RAM in the RAM memfd. Offsets in bytes. */
export const CONTROL_IRQ_PENDING = 0;
export const CONTROL_NOTIFY = 64;
export const CONTROL_STATUS = 192;
export const CONTROL_SLOTS = 32;
export const CONTROL_SIZE = 4096;
/** The profiler's ring (arch/profile.h) sits this far after RAM in the memfd, when asked for. */
export const PROFILE_RING_OFFSET = CONTROL_SIZE;
export const PROFILE_HZ_MAX = 10000;
export const PROFILE_RING_MIN = 65536;
export const PROFILE_RING_MAX = 64 << 20;

export const REG_HELLO = 0;
export const REG_PIO_READ = 1;
export const REG_PIO_WRITE = 2;
export const REG_MMIO_READ = 3;
export const REG_MMIO_WRITE = 4;
export const REG_REQUEST_SIZE = 16;
export const REG_REPLY_SIZE = 4;

/** The fds the tender is handed (its stdio array): console, diagnostics, channel, RAM, wake, notify. */
export const FD_CONSOLE = 1;
export const FD_DIAG = 2;
export const FD_CHANNEL = 3;
export const FD_RAM = 4;
export const FD_WAKE = 5;
export const FD_NOTIFY = 6;

/** Exit codes of a tender that stopped before the guest ran. */
export const TENDER_EXIT_USAGE = 2;
export const TENDER_EXIT_ABI = 3;
export const TENDER_EXIT_SETUP = 4;
export const TENDER_EXIT_CONFINE = 5;
export const TENDER_EXIT_CHANNEL = 6;

/** One register request, decoded; undefined fields never reach the device models. */
export type RegRequest =
  | { op: typeof REG_HELLO; abi: number }
  | { op: typeof REG_PIO_READ | typeof REG_PIO_WRITE | typeof REG_MMIO_READ | typeof REG_MMIO_WRITE; width: 1 | 2 | 4; value: number; addr: number };

/**
 * Decodes the 16-byte frame at `off`: op u8, width u8, reserved u16 (0), value u32, addr u64
 * (little-endian). A string says why the frame is malformed (the guest wrote it: hostile input).
 */
export function decodeRegRequest(b: Uint8Array, off: number): RegRequest | string {
  const v = new DataView(b.buffer, b.byteOffset + off, REG_REQUEST_SIZE);
  const op = v.getUint8(0);
  const width = v.getUint8(1);
  if (v.getUint16(2, true) !== 0) return `reserved field is ${v.getUint16(2, true)}`;
  const value = v.getUint32(4, true);
  const addr = v.getBigUint64(8, true);
  if (op === REG_HELLO) return { op, abi: value };
  if (op < REG_PIO_READ || op > REG_MMIO_WRITE) return `unknown op ${op}`;
  if (width !== 1 && width !== 2 && width !== 4) return `width ${width}`;
  const isPio = op === REG_PIO_READ || op === REG_PIO_WRITE;
  if (addr > (isPio ? 0xffffn : 0xffff_ffff_ffffn)) return `${isPio ? 'port' : 'address'} 0x${addr.toString(16)} out of range`;
  return { op: op as 1 | 2 | 3 | 4, width, value, addr: Number(addr) };
}

export function encodeRegRequest(r: { op: number; width?: number; value?: number; addr?: number | bigint; reserved?: number }): Uint8Array {
  const b = new Uint8Array(REG_REQUEST_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, r.op);
  v.setUint8(1, r.width ?? 0);
  v.setUint16(2, r.reserved ?? 0, true);
  v.setUint32(4, (r.value ?? 0) >>> 0, true);
  v.setBigUint64(8, BigInt(r.addr ?? 0), true);
  return b;
}
