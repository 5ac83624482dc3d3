// The CLI's typed error: a stable code, the process exit code it maps to, and a one-line
// message that names the flag or file and the fix. main.ts prints `kiln: <message>`.
// Exit codes: docs/ARCHITECTURE.md "Exit codes" (2 usage, 123 guest died, 124 timeout,
// 125 KVM/VMM failure, 126 bad image); build failures exit 1.

export type CliErrorCode =
  | 'EUSAGE' // bad flag or argument → 2
  | 'ENOSETUP' // arch/build outputs missing → 1
  | 'EBUILD' // bundling or bytecode compilation failed → 1
  | 'EBADIMAGE' // image refused → 126
  | 'EVMM' // KVM or VMM failure → 125
  | 'EGUEST' // guest died (triple fault, internal error) → 123
  | 'ETIMEOUT'; // --timeout reached → 124

export const EXIT_CODES: Record<CliErrorCode, number> = {
  EUSAGE: 2, ENOSETUP: 1, EBUILD: 1, EBADIMAGE: 126, EVMM: 125, EGUEST: 123, ETIMEOUT: 124,
};

export class CliError extends Error {
  readonly code: CliErrorCode;
  /** Extra lines printed after the `kiln:` line (e.g. esbuild diagnostics). */
  readonly details: string;
  constructor(code: CliErrorCode, message: string, details = '') {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.details = details;
  }
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}
