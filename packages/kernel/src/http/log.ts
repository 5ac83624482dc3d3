// kiln:http's log lines. Much of what the server logs comes from clients (request paths inside
// error messages, reset connections), so every line escapes control characters — an ESC from a
// request path must not reach the host terminal raw, nor a CR/LF forge a line — and the lines a
// client can cause at will (transport failures) are rate-limited.

const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/** `text` with every C0/C1 control and DEL as \xHH (so a line stays one line). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An error as one escaped line ("Name: message"), plus its stack frames, each escaped, on the lines after. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return escapeControls(String(e));
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).map((l) => `    ${escapeControls(l.trim())}`);
  return [escapeControls(`${e.name}: ${e.message}`), ...frames].join('\n');
}

/** Lines of one kind that may be logged per window; the rest are counted and reported once. */
const RATE_LINES = 5;
const RATE_WINDOW_MS = 10_000;

/** Logs at most RATE_LINES lines per RATE_WINDOW_MS; then one line saying how many were left out. */
export class RateLimitedLog {
  private windowStart = -Infinity;
  private count = 0;
  private suppressed = 0;

  constructor(private readonly now: () => number = () => performance.now(), private readonly write: (line: string) => void = (l) => console.error(l)) {}

  log(line: string): void {
    const t = this.now();
    if (t - this.windowStart >= RATE_WINDOW_MS) {
      if (this.suppressed > 0) this.write(`kiln:http: ${this.suppressed} similar lines left out`);
      this.windowStart = t;
      this.count = 0;
      this.suppressed = 0;
    }
    if (++this.count <= RATE_LINES) this.write(escapeControls(line));
    else this.suppressed++;
  }
}
