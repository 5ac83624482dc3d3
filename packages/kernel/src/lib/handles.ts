// Keep-alive accounting, like libuv's ref'd handles: anything that can complete without a
// timer — an outstanding device request, a listener — holds a ref while it is pending. The
// tick (units/runtime.ts) returns Infinity ("halt until an interrupt") while refs are held and no
// timer is armed, and -1 (the program is done) only when nothing is left.
// Spec: docs/ARCHITECTURE.md "Guest event loop".

let refs = 0;

/** Keeps the program alive until the matching unref(). */
export function ref(): void {
  refs++;
}

export function unref(): void {
  if (refs <= 0) throw new Error('kiln: handle unref without a ref');
  refs--;
}

/** Number of refs held (pending requests and listeners). */
export function activeRefs(): number {
  return refs;
}
