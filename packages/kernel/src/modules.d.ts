// Types of the `kiln:*` modules for apps (examples/*/main.ts typecheck against these with the
// kernel tsconfig). Implementations: kiln:process → units/process.ts (kiln build maps it).
// Keep in step with the implementation. Spec: shared/DESIGN.md §4 "App API".

declare module 'kiln:process' {
  /** Arguments after `--` on the guest command line (`kiln run app.elf -- a b`). */
  export const args: string[];
  /** NAME=value pairs given before `--` on the guest command line. */
  export const env: Record<string, string>;
  /** Kernel parameters (keys containing a dot, bare words). */
  export const kernelParams: Record<string, string>;
  export const argv0: string;
  /** Ends the VM now with `code` (0–255; default: exitCode, else 0). */
  export function exit(code?: number): never;
  const process: {
    readonly args: string[];
    readonly env: Record<string, string>;
    readonly kernelParams: Record<string, string>;
    readonly argv0: string;
    exit(code?: number): never;
    /** Exit code used when the event loop drains (default 0). */
    exitCode: number | undefined;
  };
  export default process;
}
