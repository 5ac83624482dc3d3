// The AbortSignal shape the kernel takes from apps (kiln:http's serve, pipeTo, fetch): a
// structural type, so the modules that accept a signal do not import web/abort.ts (apps that
// never abort do not carry AbortSignal) and any AbortSignal, Kiln's or a package's, fits.

export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
