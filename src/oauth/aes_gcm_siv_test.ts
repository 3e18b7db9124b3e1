import assert from "node:assert/strict";
import { gcmsiv } from "@noble/ciphers/aes.js";
import { Random } from "../../scripts/fuzz/random.ts";
import vectors from "../../test/vectors/aes_gcm_siv_256_test.json" with { type: "json" };
import { openSiv, sealSiv, SivKey } from "./aes_gcm_siv.ts";

const gcmSiv = (key: Uint8Array, nonce: Uint8Array, aad = new Uint8Array()) => ({
  encrypt: (message: Uint8Array) => sealSiv(key, nonce, aad, message),
  decrypt: (sealed: Uint8Array) => openSiv(key, nonce, aad, sealed),
});

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

Deno.test("AES-256-GCM-SIV reproduces RFC 8452's test vectors", () => {
  // Appendix C.2, AEAD_AES_256_GCM_SIV.
  const key = hex("0100000000000000000000000000000000000000000000000000000000000000");
  const nonce = hex("030000000000000000000000");
  assert.deepEqual(gcmSiv(key, nonce).encrypt(new Uint8Array()), hex("07f5f4169bbf55a8400cd47ea6fd400f"));
  assert.deepEqual(
    gcmSiv(key, nonce).encrypt(hex("0100000000000000")),
    hex("c2ef328e5c71c83b843122130f7364b761e0b97427e3df28"),
  );
  assert.deepEqual(
    gcmSiv(key, nonce, hex("01")).encrypt(hex("0200000000000000")),
    hex("1de22967237a813291213f267e3b452f02d01ae33e4ec854"),
  );
});

Deno.test("AES-256-GCM-SIV gives the same bytes as @noble/ciphers for every length of message and data", () => {
  for (let length = 0; length <= 70; length++) {
    for (const aadLength of [0, 1, 14, 16, 17, 40]) {
      const key = random(32);
      const nonce = random(12);
      const aad = random(aadLength);
      const message = random(length);
      const sealed = gcmSiv(key, nonce, aad).encrypt(message);
      assert.deepEqual(sealed, gcmsiv(key, nonce, aad).encrypt(message), `${length}/${aadLength}`);
      assert.deepEqual(gcmSiv(key, nonce, aad).decrypt(sealed), message);
    }
  }
});

Deno.test("AES-256-GCM-SIV refuses any changed byte of ciphertext, tag or data", () => {
  const key = random(32);
  const nonce = random(12);
  const aad = random(12);
  const good = gcmSiv(key, nonce, aad).encrypt(random(20));
  for (let index = 0; index < good.length; index++) {
    const bad = good.slice();
    bad[index] ^= 1;
    assert.throws(() => gcmSiv(key, nonce, aad).decrypt(bad), /invalid tag/);
  }
  assert.throws(() => gcmSiv(key, nonce, random(12)).decrypt(good), /invalid tag/);
  assert.throws(() => gcmSiv(key, nonce, aad).decrypt(good.subarray(0, 10)), /shorter than its tag/);
});

Deno.test("AES-256-GCM-SIV passes Wycheproof's 256-bit-key vectors (test/vectors/aes_gcm_siv_256_test.json)", () => {
  let count = 0;
  for (const group of vectors.testGroups) {
    for (const test of group.tests) {
      const [key, nonce, aad, msg] = [test.key, test.iv, test.aad, test.msg].map(hex);
      const sealed = hex(test.ct + test.tag);
      const label = `tcId ${test.tcId} (${test.comment})`;
      if (test.result === "valid") {
        assert.deepEqual(gcmSiv(key, nonce, aad).encrypt(msg), sealed, label);
        assert.deepEqual(gcmSiv(key, nonce, aad).decrypt(sealed), msg, label);
      } else {
        assert.throws(() => gcmSiv(key, nonce, aad).decrypt(sealed), label);
      }
      count++;
    }
  }
  assert.equal(count, vectors.numberOfTests);
});

Deno.test("AES-256-GCM-SIV gives @noble/ciphers' bytes on seeded random keys, nonces, data and messages", () => {
  const seed = crypto.getRandomValues(new Uint32Array(1))[0];
  console.log(`AES-256-GCM-SIV comparison seed: ${seed}`);
  const rng = new Random(seed);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 255));
  for (let i = 0; i < 300; i++) {
    const [key, nonce, aad, message] = [bytes(32), bytes(12), bytes(rng.size(300)), bytes(rng.size(600))];
    const sealed = gcmSiv(key, nonce, aad).encrypt(message);
    const label = `seed ${seed}, case ${i}`;
    assert.deepEqual(sealed, gcmsiv(key, nonce, aad).encrypt(message), label);
    assert.deepEqual(gcmSiv(key, nonce, aad).decrypt(sealed), message, label);
  }
});

Deno.test("AES-256-GCM-SIV under a SivKey (round keys expanded once) gives the raw key's bytes", () => {
  const random = new Random(8452);
  for (let i = 0; i < 50; i++) {
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => random.int(0, 255));
    const key = bytes(32);
    const kept = new SivKey(key);
    const nonce = bytes(12);
    const aad = bytes(i % 20);
    const message = bytes(i % 40);
    const sealed = sealSiv(key, nonce, aad, message);
    assert.deepEqual(sealSiv(kept, nonce, aad, message), sealed);
    assert.deepEqual(openSiv(kept, nonce, aad, sealed), message);
  }
  assert.throws(() => new SivKey(new Uint8Array(16)), RangeError);
});
