import assert from "node:assert/strict";
import { keyedHasher } from "./keyed_hash.ts";

const keyedHash = async (key: Uint8Array, secret: string) => (await keyedHasher(key))(secret);

const key = new Uint8Array(32).fill(7);

Deno.test("keyed hash is a stable 64-character hex digest of the secret", async () => {
  const digest = await keyedHash(key, "pst_app_password");
  assert.match(digest, /^[0-9a-f]{64}$/);
  assert.equal(await keyedHash(key, "pst_app_password"), digest);
});

Deno.test("keyed hash is HMAC-SHA256, reproducing RFC 4231 test case 2", async () => {
  // HMAC pads short keys with zeros, so "Jefe" padded to 32 bytes is the RFC's 4-byte key "Jefe".
  const expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const jefe = new TextEncoder().encode("Jefe".padEnd(32, "\0"));
  assert.equal(await keyedHash(jefe, "what do ya want for nothing?"), expected);
});

Deno.test("keyed hash changes with the key and with the secret", async () => {
  const other = new Uint8Array(32).fill(8);
  assert.notEqual(await keyedHash(key, "secret"), await keyedHash(other, "secret"));
  assert.notEqual(await keyedHash(key, "secret"), await keyedHash(key, "secreT"));
});

Deno.test("keyed hash refuses a key that is not 32 bytes", async () => {
  await assert.rejects(keyedHash(new Uint8Array(16), "secret"), /16-byte key/);
});

Deno.test("keyed hash of any text is the HMAC-SHA256 of its UTF-8 bytes", async () => {
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  for (const secret of ["plain-ascii_secret", "pässwörd ✓ 日本", "emoji 🔑", "lone \ud800 surrogate"]) {
    const bytes = new TextEncoder().encode(secret);
    const expected = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, bytes)).toHex();
    assert.equal(await keyedHash(key, secret), expected, secret);
  }
});
