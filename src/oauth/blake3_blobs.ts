/**
 * BLAKE3-256 for blob contents (content addresses, src/mail/blobs.ts): hash-wasm's WebAssembly BLAKE3
 * from 1 KiB up, src/oauth/blake3.ts below that. The same bytes either way (blake3_blobs_test.ts);
 * what differs is the time. Every delivered message is hashed on the event loop before it is stored,
 * and there the WebAssembly one took 34 µs for 16 KiB against 62–73 µs, 6–14 µs for 4 KiB against
 * 18–25 µs; under 1 KiB the two are alike and the own one needs no instance (a loaded 2-core machine,
 * interleaved runs of each size).
 */
import { createBLAKE3 } from "hash-wasm";
import { blake3Hash } from "./blake3.ts";

/** Inputs from this size up go to hash-wasm. */
export const WASM_FROM_BYTES = 1024;

/** A BLAKE3-256 function for blob contents (one WebAssembly instance, reused; calls run to completion). */
export async function blobHasher(): Promise<(bytes: Uint8Array) => Uint8Array> {
  const wasm = await createBLAKE3();
  return (bytes) => {
    if (bytes.length < WASM_FROM_BYTES) return blake3Hash(bytes);
    wasm.init();
    wasm.update(bytes);
    return wasm.digest("binary");
  };
}
