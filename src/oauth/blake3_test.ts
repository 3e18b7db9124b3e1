import assert from "node:assert/strict";
import { blake3 } from "@noble/hashes/blake3.js";
import { Random } from "../../scripts/fuzz/random.ts";
import vectors from "../../test/vectors/blake3_test_vectors.json" with { type: "json" };
import { blake3Hash, deriveKey } from "./blake3.ts";

const CHUNK = 1024;

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

Deno.test("BLAKE3 gives @noble/hashes' bytes for every input length up to a chunk", () => {
  const context = "postern test context";
  const derive = deriveKey(context);
  const reference = blake3.create({ context: new TextEncoder().encode(context), dkLen: 32 });
  for (let length = 0; length <= CHUNK; length++) {
    const input = random(length);
    assert.deepEqual(blake3Hash(input), blake3(input), `hash of ${length} bytes`);
    assert.deepEqual(blake3Hash(input, 12), blake3(input, { dkLen: 12 }), `12-byte hash of ${length} bytes`);
    assert.deepEqual(
      derive(input),
      reference.clone().update(input).digest(),
      `derive_key of ${length} bytes`,
    );
  }
});

Deno.test("BLAKE3 reproduces the official test vectors, one chunk to a hundred (test/vectors/blake3_test_vectors.json)", () => {
  const derive = deriveKey(vectors.context_string);
  // The official input: the bytes 0, 1, …, 250 repeated.
  const input = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);
  assert.ok(vectors.cases.some((c) => c.input_len > 64 * CHUNK), "the vectors span a tree of chunks");
  for (const { input_len, hash, derive_key } of vectors.cases) {
    assert.equal(blake3Hash(input(input_len)).toHex(), hash.slice(0, 64), `hash of ${input_len} bytes`);
    assert.equal(blake3Hash(input(input_len), 12).toHex(), hash.slice(0, 24), `12 bytes of ${input_len}`);
    assert.equal(
      derive(input(input_len)).toHex(),
      derive_key.slice(0, 64),
      `derive_key of ${input_len} bytes`,
    );
  }
});

Deno.test("BLAKE3 gives @noble/hashes' bytes on seeded random contexts and inputs of up to 40 chunks", () => {
  const seed = crypto.getRandomValues(new Uint32Array(1))[0];
  console.log(`BLAKE3 comparison seed: ${seed}`);
  const rng = new Random(seed);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 255));
  for (let i = 0; i < 200; i++) {
    const context = String.fromCharCode(...bytes(rng.size(80)).map((b) => 32 + (b % 95)));
    const input = bytes(rng.chance(0.8) ? rng.int(0, CHUNK) : rng.int(CHUNK, 40 * CHUNK));
    const length = rng.int(1, 32);
    const label = `seed ${seed}, case ${i}`;
    assert.deepEqual(blake3Hash(input, length), blake3(input, { dkLen: length }), label);
    assert.deepEqual(
      deriveKey(context)(input),
      blake3(input, { context: new TextEncoder().encode(context), dkLen: 32 }),
      label,
    );
  }
});
