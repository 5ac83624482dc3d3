// Random bytes for key generation, ECDSA's hedged nonces and AES-GCM users: the `crypto` global's
// getRandomValues (the guest's ChaCha20 DRBG, units/crypto.ts; Node's in unit tests).

export function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  (globalThis as unknown as { crypto: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto.getRandomValues(b);
  return b;
}
