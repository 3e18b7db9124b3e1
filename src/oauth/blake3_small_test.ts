import assert from "node:assert/strict";
import { blake3 } from "@noble/hashes/blake3.js";
import { blake3Small, deriveKeySmall, MAX_INPUT } from "./blake3_small.ts";

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

Deno.test("one-chunk BLAKE3 gives @noble/hashes' bytes for every input length up to a chunk", () => {
  const context = "postern test context";
  const derive = deriveKeySmall(context);
  const reference = blake3.create({ context: new TextEncoder().encode(context), dkLen: 32 });
  for (let length = 0; length <= MAX_INPUT; length++) {
    const input = random(length);
    assert.deepEqual(blake3Small(input), blake3(input), `hash of ${length} bytes`);
    assert.deepEqual(blake3Small(input, 12), blake3(input, { dkLen: 12 }), `12-byte hash of ${length} bytes`);
    assert.deepEqual(
      derive(input),
      reference.clone().update(input).digest(),
      `derive_key of ${length} bytes`,
    );
  }
});

Deno.test("one-chunk BLAKE3 reproduces the reference test vector and refuses longer input", () => {
  // BLAKE3 reference test_vectors.json: input of length 0, hash.
  assert.equal(
    blake3Small(new Uint8Array()).toHex(),
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
  );
  assert.throws(() => blake3Small(random(MAX_INPUT + 1)), RangeError);
});
