// App passwords, API keys and OAuth client secrets are random and long, so a slow password hash adds
// nothing but latency; a keyed hash still means a leaked database alone cannot be used to check guesses.
// HMAC-SHA256 (RFC 4231 test vectors) through one reused hash-wasm instance: about half the time of
// node:crypto's createHmac per 44-character secret (scripts/bench/crypto_primitives.ts), and under
// server load createHmac had been the largest cost of a refresh_token grant.

import { createHMAC, createSHA256 } from "hash-wasm";

const KEY_BYTES = 32;

/** A function hashing high-entropy secrets under a 32-byte server key; returns hex. */
export async function keyedHasher(key: Uint8Array): Promise<(secret: string) => string> {
  if (key.length !== KEY_BYTES) {
    throw new RangeError(`Cannot hash with a ${key.length}-byte key: keyedHash needs ${KEY_BYTES} bytes`);
  }
  const hmac = await createHMAC(createSHA256(), key);
  // hash-wasm hashes a string as its UTF-8 bytes, encoding it without an intermediate array.
  return (secret) => hmac.init().update(secret).digest("hex");
}
