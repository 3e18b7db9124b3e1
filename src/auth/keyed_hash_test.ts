import assert from "node:assert/strict";
import { keyedHash } from "./keyed_hash.ts";

const key = new Uint8Array(32).fill(7);

Deno.test("keyed hash is a stable 64-character hex digest of the secret", () => {
  const digest = keyedHash(key, "pst_app_password");
  assert.match(digest, /^[0-9a-f]{64}$/);
  assert.equal(keyedHash(key, "pst_app_password"), digest);
});

Deno.test("keyed hash is HMAC-SHA256, reproducing RFC 4231 test case 2", () => {
  // HMAC pads short keys with zeros, so "Jefe" padded to 32 bytes is the RFC's 4-byte key "Jefe".
  const expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const jefe = new TextEncoder().encode("Jefe".padEnd(32, "\0"));
  assert.equal(keyedHash(jefe, "what do ya want for nothing?"), expected);
});

Deno.test("keyed hash changes with the key and with the secret", () => {
  const other = new Uint8Array(32).fill(8);
  assert.notEqual(keyedHash(key, "secret"), keyedHash(other, "secret"));
  assert.notEqual(keyedHash(key, "secret"), keyedHash(key, "secreT"));
});

Deno.test("keyed hash refuses a key that is not 32 bytes", () => {
  assert.throws(() => keyedHash(new Uint8Array(16), "secret"), /16-byte key/);
});
