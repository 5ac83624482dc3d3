// Guest command line parser: `[kernel params] [NAME=value ...] [-- arg ...]`.
// Tokens split on blanks; double quotes group blanks into a token and are removed (no
// escapes, as Linux). Before `--`: keys containing a dot (`kiln.bootchart`, `virtio_mmio.device`),
// Linux's `ip=` and bare words are kernel parameters, other NAME=value pairs form the environment; after
// `--` every token is an argument. Spec: docs/ARCHITECTURE.md "Guest command line".

export interface Cmdline {
  /** kernel parameters: `key=value` → value, bare `key` → '' */
  readonly kernel: Record<string, string>;
  readonly env: Record<string, string>;
  readonly args: string[];
}

/** Splits a command line into tokens; `quoted` tells whether a token had quotes (so `"--"` is an argument). */
export function tokenize(line: string): { text: string; quoted: boolean }[] {
  const out: { text: string; quoted: boolean }[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isBlank(line.charCodeAt(i))) i++;
    if (i >= line.length) break;
    let text = '';
    let quoted = false;
    let inQuote = false;
    while (i < line.length && (inQuote || !isBlank(line.charCodeAt(i)))) {
      const ch = line[i]!;
      if (ch === '"') {
        inQuote = !inQuote;
        quoted = true;
      } else {
        text += ch;
      }
      i++;
    }
    out.push({ text, quoted });
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0;
}

/** A token a VMM appends to the command line itself, possibly after the app's `--` (QEMU microvm
 * adds `virtio_mmio.device=…` at the end): a kernel parameter wherever it stands, never an
 * argument. An app argument of that form must be quoted. */
export function isVmmToken(text: string, quoted: boolean): boolean {
  return !quoted && text.startsWith('virtio_mmio.device=');
}

/** kiln:net's DNS servers (`kiln run --dns ADDR[,ADDR]`): dotted IPv4 addresses, comma-separated. */
export const DNS_PARAM = 'kiln.dns';

/** Linux parameters without a dot that Kiln reads (`ip=`, kiln:net's address): kernel parameters, never environment. */
const DOTLESS_KERNEL_PARAMS = ['ip'];

export function parseCmdline(line: string): Cmdline {
  const kernel: Record<string, string> = Object.create(null);
  const env: Record<string, string> = Object.create(null);
  const args: string[] = [];
  let afterDashes = false;
  for (const { text, quoted } of tokenize(line)) {
    if (afterDashes && !isVmmToken(text, quoted)) {
      args.push(text);
      continue;
    }
    if (text === '--' && !quoted) {
      afterDashes = true;
      continue;
    }
    const eq = text.indexOf('=');
    const key = eq === -1 ? text : text.slice(0, eq);
    const value = eq === -1 ? '' : text.slice(eq + 1);
    if (eq <= 0 || key.includes('.') || DOTLESS_KERNEL_PARAMS.includes(key)) kernel[key] = value;
    else env[key] = value;
  }
  return { kernel, env, args };
}

/** Quotes one argument for a guest command line (the inverse of tokenize); undefined if impossible. */
export function quoteArg(arg: string): string | undefined {
  if (arg.includes('"')) return undefined;
  return arg === '' || /[\s]/.test(arg) || arg === '--' ? `"${arg}"` : arg;
}
