import assert from "node:assert/strict";
import vectors from "../../test/vectors/blake3_test_vectors.json" with { type: "json" };
import { blake3Hash } from "./blake3.ts";
import { blobHasher, WASM_FROM_BYTES } from "./blake3_blobs.ts";

Deno.test("the blob hasher gives blake3Hash's bytes at every size around its threshold, and for random sizes", async () => {
  const hash = await blobHasher();
  const edges = [
    0,
    1,
    63,
    64,
    65,
    WASM_FROM_BYTES - 1,
    WASM_FROM_BYTES,
    WASM_FROM_BYTES + 1,
    2048,
    3073,
    10_700,
  ];
  const sizes = [...edges, ...Array.from({ length: 20 }, () => Math.floor(Math.random() * 200_000))];
  for (const size of sizes) {
    const data = new Uint8Array(size);
    for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(data.subarray(at, at + 65_536));
    assert.deepEqual(hash(data), blake3Hash(data), `hash of ${size} bytes`);
  }
});

Deno.test("the blob hasher reproduces the official test vectors (test/vectors/blake3_test_vectors.json)", async () => {
  const hash = await blobHasher();
  const input = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);
  assert.ok(
    vectors.cases.some((c) => c.input_len >= 10 * WASM_FROM_BYTES),
    "the vectors span the WebAssembly path",
  );
  for (const { input_len, hash: expected } of vectors.cases) {
    assert.equal(hash(input(input_len)).toHex(), expected.slice(0, 64), `hash of ${input_len} bytes`);
  }
});
