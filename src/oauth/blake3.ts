/**
 * BLAKE3 (hash and derive_key, up to 32 bytes of output), Postern's one implementation: token keys and
 * nonces, sealed settings, Authorization-header cache keys and blob ids. Written here because a token's
 * inputs are one chunk, where general libraries spend much of their time outside the compression:
 * @noble/hashes took 1.6–20× this one's time per call there, hash-wasm (which has no derive_key)
 * 0.6–2× on short inputs; on a 1 MiB blob hash-wasm is 1.6–1.9× faster, a cost taken for having one
 * implementation. Ranges over runs on a loaded 2-core machine (scripts/bench/crypto_primitives.ts).
 * Same bytes as the official test vectors and @noble/hashes (src/oauth/blake3_test.ts).
 */

const IV = Uint32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);
const CHUNK_START = 1;
const CHUNK_END = 2;
const ROOT = 8;
const DERIVE_KEY_CONTEXT = 32;
const DERIVE_KEY_MATERIAL = 64;
const PARENT = 4;
const CHUNK = 1024;

// Scratch state, reused: every function here runs to completion synchronously.
const cv = new Uint32Array(8);
const block = new Uint8Array(64);
const view = new DataView(block.buffer);

/**
 * One compression of the 64-byte `block` into the chaining value `cv` (`counter`: the chunk's index),
 * the state and message in local variables (no array access in the rounds).
 */
function compress(blockLength: number, flags: number, counter: number): void {
  const w = (i: number) => view.getUint32(i * 4, true);
  let m0 = w(0), m1 = w(1), m2 = w(2), m3 = w(3), m4 = w(4), m5 = w(5), m6 = w(6), m7 = w(7);
  let m8 = w(8), m9 = w(9), m10 = w(10), m11 = w(11), m12 = w(12), m13 = w(13), m14 = w(14), m15 = w(15);
  let v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7];
  let v8 = IV[0],
    v9 = IV[1],
    v10 = IV[2],
    v11 = IV[3],
    v12 = counter >>> 0,
    v13 = Math.floor(counter / 2 ** 32);
  let v14 = blockLength, v15 = flags;
  for (let round = 0; round < 7; round++) {
    // G(0, 4, 8, 12)
    v0 = (v0 + v4 + m0) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 16) | (v12 << 16);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 12) | (v4 << 20);
    v0 = (v0 + v4 + m1) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 8) | (v12 << 24);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 7) | (v4 << 25);
    // G(1, 5, 9, 13)
    v1 = (v1 + v5 + m2) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 16) | (v13 << 16);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 12) | (v5 << 20);
    v1 = (v1 + v5 + m3) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 8) | (v13 << 24);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 7) | (v5 << 25);
    // G(2, 6, 10, 14)
    v2 = (v2 + v6 + m4) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 16) | (v14 << 16);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 12) | (v6 << 20);
    v2 = (v2 + v6 + m5) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 8) | (v14 << 24);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 7) | (v6 << 25);
    // G(3, 7, 11, 15)
    v3 = (v3 + v7 + m6) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 16) | (v15 << 16);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 12) | (v7 << 20);
    v3 = (v3 + v7 + m7) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 8) | (v15 << 24);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 7) | (v7 << 25);
    // G(0, 5, 10, 15)
    v0 = (v0 + v5 + m8) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 16) | (v15 << 16);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 12) | (v5 << 20);
    v0 = (v0 + v5 + m9) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 8) | (v15 << 24);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 7) | (v5 << 25);
    // G(1, 6, 11, 12)
    v1 = (v1 + v6 + m10) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 16) | (v12 << 16);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 12) | (v6 << 20);
    v1 = (v1 + v6 + m11) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 8) | (v12 << 24);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 7) | (v6 << 25);
    // G(2, 7, 8, 13)
    v2 = (v2 + v7 + m12) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 16) | (v13 << 16);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 12) | (v7 << 20);
    v2 = (v2 + v7 + m13) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 8) | (v13 << 24);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 7) | (v7 << 25);
    // G(3, 4, 9, 14)
    v3 = (v3 + v4 + m14) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 16) | (v14 << 16);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 12) | (v4 << 20);
    v3 = (v3 + v4 + m15) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 8) | (v14 << 24);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 7) | (v4 << 25);
    // The message words of the next round (the BLAKE3 permutation).
    const t0 = m0, t1 = m1, t2 = m2, t3 = m3, t4 = m4, t5 = m5, t6 = m6, t7 = m7;
    const t8 = m8, t9 = m9, t10 = m10, t11 = m11, t12 = m12, t13 = m13, t14 = m14, t15 = m15;
    m0 = t2;
    m1 = t6;
    m2 = t3;
    m3 = t10;
    m4 = t7;
    m5 = t0;
    m6 = t4;
    m7 = t13;
    m8 = t1;
    m9 = t11;
    m10 = t12;
    m11 = t5;
    m12 = t9;
    m13 = t14;
    m14 = t15;
    m15 = t8;
  }
  cv[0] = v0 ^ v8;
  cv[1] = v1 ^ v9;
  cv[2] = v2 ^ v10;
  cv[3] = v3 ^ v11;
  cv[4] = v4 ^ v12;
  cv[5] = v5 ^ v13;
  cv[6] = v6 ^ v14;
  cv[7] = v7 ^ v15;
}

/** Compresses chunk number `counter` (at most 1024 bytes) into `cv`, starting from `key`. */
function chunk(key: Uint32Array, flags: number, input: Uint8Array, counter: number, root: boolean): void {
  cv.set(key);
  const blocks = Math.max(1, Math.ceil(input.length / 64));
  for (let i = 0; i < blocks; i++) {
    const start = i * 64;
    const end = Math.min(start + 64, input.length);
    if (end - start < 64) block.fill(0);
    block.set(input.subarray(start, end));
    let blockFlags = flags;
    if (i === 0) blockFlags |= CHUNK_START;
    if (i === blocks - 1) blockFlags |= CHUNK_END | (root ? ROOT : 0);
    compress(end - start, blockFlags, counter);
  }
}

/** Compresses the parent node of two chaining values into `cv`. */
function parent(key: Uint32Array, flags: number, left: Uint32Array, right: Uint32Array, root: boolean): void {
  for (let i = 0; i < 8; i++) {
    view.setUint32(i * 4, left[i], true);
    view.setUint32(32 + i * 4, right[i], true);
  }
  cv.set(key);
  compress(64, flags | PARENT | (root ? ROOT : 0), 0);
}

/**
 * The root output of `input` under `key` (8 words) with the mode's `flags`, its first `length` bytes
 * (at most 32) written to `out`. Chunks merge into the tree as they complete (the reference
 * implementation's stack: one merge per trailing zero bit of the chunk count).
 */
function chunkRoot(
  key: Uint32Array,
  flags: number,
  input: Uint8Array,
  out: Uint8Array,
  length: number,
): void {
  const chunks = Math.max(1, Math.ceil(input.length / CHUNK));
  const stack: Uint32Array[] = [];
  for (let c = 0; c < chunks - 1; c++) {
    chunk(key, flags, input.subarray(c * CHUNK, (c + 1) * CHUNK), c, false);
    let value = cv.slice();
    for (let total = c + 1; total % 2 === 0; total /= 2) {
      parent(key, flags, stack.pop()!, value, false);
      value = cv.slice();
    }
    stack.push(value);
  }
  chunk(key, flags, input.subarray((chunks - 1) * CHUNK), chunks - 1, chunks === 1);
  for (let i = stack.length - 1; i >= 0; i--) parent(key, flags, stack[i], cv.slice(), i === 0);
  for (let i = 0; i < length; i++) out[i] = cv[i >>> 2] >>> ((i & 3) * 8);
}

/** BLAKE3 of `input`, its first `length` bytes (at most 32). */
export function blake3Hash(input: Uint8Array, length = 32): Uint8Array {
  if (length > 32) throw new RangeError("BLAKE3 here gives at most 32 bytes");
  const out = new Uint8Array(length);
  chunkRoot(IV, 0, input, out, length);
  return out;
}

/** BLAKE3 `derive_key(context, material)`, 32 bytes of output; the context key is computed once, here. */
export function deriveKey(context: string): (material: Uint8Array) => Uint8Array {
  const contextKey = new Uint8Array(32);
  chunkRoot(IV, DERIVE_KEY_CONTEXT, new TextEncoder().encode(context), contextKey, 32);
  const key = new Uint32Array(8);
  for (let i = 0; i < 8; i++) {
    const o = i * 4;
    key[i] = contextKey[o] | contextKey[o + 1] << 8 | contextKey[o + 2] << 16 | contextKey[o + 3] << 24;
  }
  return (material) => {
    const out = new Uint8Array(32);
    chunkRoot(key, DERIVE_KEY_MATERIAL, material, out, 32);
    return out;
  };
}
