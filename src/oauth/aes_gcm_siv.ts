/**
 * AES-256-GCM-SIV (RFC 8452) for the short messages of sealed tokens: a table-driven AES-256 and a
 * branch-free 32-bit POLYVAL, working in module-level scratch arrays (only the result is allocated).
 * @noble/ciphers' general implementation spends most of a token's time in per-key setup and short-lived
 * allocations (its POLYVAL tables, typed-array copies): under a new key per call, as every token has,
 * it took 7–14× this one's time per seal or open (scripts/bench/crypto_primitives.ts). Same bytes:
 * tested against it, RFC 8452's vectors and Wycheproof's (src/oauth/aes_gcm_siv_test.ts).
 */

// --- AES-256 (FIPS 197), encryption only, with the four T-tables. ---
const SBOX = new Uint8Array(256);
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);
{
  // S-box from the multiplicative inverse in GF(2^8) and the affine map, walking generator 3.
  let p = 1;
  let q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const x = q ^ ((q << 1 | q >> 7) & 0xff) ^ ((q << 2 | q >> 6) & 0xff) ^ ((q << 3 | q >> 5) & 0xff) ^
      ((q << 4 | q >> 4) & 0xff);
    SBOX[p] = x ^ 0x63;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i];
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x1b : 0)) & 0xff;
    const s3 = s2 ^ s;
    const t = (s2 << 24) | (s << 16) | (s << 8) | s3;
    T0[i] = t >>> 0;
    T1[i] = ((t >>> 8) | (t << 24)) >>> 0;
    T2[i] = ((t >>> 16) | (t << 16)) >>> 0;
    T3[i] = ((t >>> 24) | (t << 8)) >>> 0;
  }
}

/** Writes the 60 round-key words of an AES-256 key into `w`. */
function expandKey(key: Uint8Array, w: Uint32Array): void {
  for (let i = 0; i < 8; i++) {
    w[i] = (key[4 * i] << 24 | key[4 * i + 1] << 16 | key[4 * i + 2] << 8 | key[4 * i + 3]) >>> 0;
  }
  let rcon = 1;
  for (let i = 8; i < 60; i++) {
    let t = w[i - 1];
    if (i % 8 === 0) {
      t = (SBOX[t >>> 16 & 0xff] << 24 | SBOX[t >>> 8 & 0xff] << 16 | SBOX[t & 0xff] << 8 | SBOX[t >>> 24]) ^
        (rcon << 24);
      rcon = (rcon << 1) ^ (rcon & 0x80 ? 0x1b : 0);
    } else if (i % 8 === 4) {
      t = SBOX[t >>> 24] << 24 | SBOX[t >>> 16 & 0xff] << 16 | SBOX[t >>> 8 & 0xff] << 8 | SBOX[t & 0xff];
    }
    w[i] = (w[i - 8] ^ t) >>> 0;
  }
}

/** Encrypts the 16 bytes at `input[inOff]` into `out[outOff]`. */
function encryptBlock(
  w: Uint32Array,
  input: Uint8Array,
  inOff: number,
  out: Uint8Array,
  outOff: number,
): void {
  let s0 = (input[inOff] << 24 | input[inOff + 1] << 16 | input[inOff + 2] << 8 | input[inOff + 3]) ^ w[0];
  let s1 = (input[inOff + 4] << 24 | input[inOff + 5] << 16 | input[inOff + 6] << 8 | input[inOff + 7]) ^
    w[1];
  let s2 = (input[inOff + 8] << 24 | input[inOff + 9] << 16 | input[inOff + 10] << 8 | input[inOff + 11]) ^
    w[2];
  let s3 = (input[inOff + 12] << 24 | input[inOff + 13] << 16 | input[inOff + 14] << 8 | input[inOff + 15]) ^
    w[3];
  let k = 4;
  for (let round = 1; round < 14; round++) {
    const t0 = T0[s0 >>> 24] ^ T1[s1 >>> 16 & 0xff] ^ T2[s2 >>> 8 & 0xff] ^ T3[s3 & 0xff] ^ w[k];
    const t1 = T0[s1 >>> 24] ^ T1[s2 >>> 16 & 0xff] ^ T2[s3 >>> 8 & 0xff] ^ T3[s0 & 0xff] ^ w[k + 1];
    const t2 = T0[s2 >>> 24] ^ T1[s3 >>> 16 & 0xff] ^ T2[s0 >>> 8 & 0xff] ^ T3[s1 & 0xff] ^ w[k + 2];
    const t3 = T0[s3 >>> 24] ^ T1[s0 >>> 16 & 0xff] ^ T2[s1 >>> 8 & 0xff] ^ T3[s2 & 0xff] ^ w[k + 3];
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
    k += 4;
  }
  writeWord(
    out,
    outOff,
    SBOX[s0 >>> 24] << 24 | SBOX[s1 >>> 16 & 0xff] << 16 | SBOX[s2 >>> 8 & 0xff] << 8 | SBOX[s3 & 0xff],
    w[56],
  );
  writeWord(
    out,
    outOff + 4,
    SBOX[s1 >>> 24] << 24 | SBOX[s2 >>> 16 & 0xff] << 16 | SBOX[s3 >>> 8 & 0xff] << 8 | SBOX[s0 & 0xff],
    w[57],
  );
  writeWord(
    out,
    outOff + 8,
    SBOX[s2 >>> 24] << 24 | SBOX[s3 >>> 16 & 0xff] << 16 | SBOX[s0 >>> 8 & 0xff] << 8 | SBOX[s1 & 0xff],
    w[58],
  );
  writeWord(
    out,
    outOff + 12,
    SBOX[s3 >>> 24] << 24 | SBOX[s0 >>> 16 & 0xff] << 16 | SBOX[s1 >>> 8 & 0xff] << 8 | SBOX[s2 & 0xff],
    w[59],
  );
}

/** Writes `word ^ roundKey` big-endian at `out[offset]`. */
function writeWord(out: Uint8Array, offset: number, word: number, roundKey: number): void {
  const v = word ^ roundKey;
  out[offset] = v >>> 24;
  out[offset + 1] = v >>> 16 & 0xff;
  out[offset + 2] = v >>> 8 & 0xff;
  out[offset + 3] = v & 0xff;
}

// --- POLYVAL (RFC 8452 §3) through GHASH's bit order (Appendix A). ---

/** Word `i` (0–3) of the 16 bytes at `offset` read in reverse (POLYVAL → GHASH order). */
function reversedWord(bytes: Uint8Array, offset: number, i: number): number {
  const o = offset + 12 - 4 * i;
  return (bytes[o + 3] << 24 | bytes[o + 2] << 16 | bytes[o + 1] << 8 | bytes[o]) >>> 0;
}

/**
 * POLYVAL(H, data[0, length)) over whole 16-byte blocks, written to `out`. The multiplication takes
 * no branch on the data or the key (masks instead): no timing difference, and no mispredicted branch
 * on every other bit.
 */
function polyval(h: Uint8Array, data: Uint8Array, length: number, out: Uint8Array): void {
  // H' = mulX_GHASH(ByteReverse(H)): one right shift with GHASH's reduction.
  let h0 = reversedWord(h, 0, 0), h1 = reversedWord(h, 0, 1);
  let h2 = reversedWord(h, 0, 2), h3 = reversedWord(h, 0, 3);
  const carry = -(h3 & 1);
  h3 = (h3 >>> 1 | h2 << 31) >>> 0;
  h2 = (h2 >>> 1 | h1 << 31) >>> 0;
  h1 = (h1 >>> 1 | h0 << 31) >>> 0;
  h0 = (h0 >>> 1 ^ (carry & 0xe1000000)) >>> 0;
  let y0 = 0, y1 = 0, y2 = 0, y3 = 0;
  for (let off = 0; off < length; off += 16) {
    // Z = (Y ^ X) · H' (NIST SP 800-38D, algorithm 1), one word of the left operand at a time.
    let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
    let v0 = h0, v1 = h1, v2 = h2, v3 = h3;
    for (let word = 0; word < 4; word++) {
      const a = word === 0
        ? y0 ^ reversedWord(data, off, 0)
        : word === 1
        ? y1 ^ reversedWord(data, off, 1)
        : word === 2
        ? y2 ^ reversedWord(data, off, 2)
        : y3 ^ reversedWord(data, off, 3);
      for (let bit = 31; bit >= 0; bit--) {
        const take = -((a >>> bit) & 1);
        z0 ^= v0 & take;
        z1 ^= v1 & take;
        z2 ^= v2 & take;
        z3 ^= v3 & take;
        const reduce = -(v3 & 1);
        v3 = (v3 >>> 1 | v2 << 31) >>> 0;
        v2 = (v2 >>> 1 | v1 << 31) >>> 0;
        v1 = (v1 >>> 1 | v0 << 31) >>> 0;
        v0 = (v0 >>> 1 ^ (reduce & 0xe1000000)) >>> 0;
      }
    }
    y0 = z0 >>> 0;
    y1 = z1 >>> 0;
    y2 = z2 >>> 0;
    y3 = z3 >>> 0;
  }
  const words = [y0, y1, y2, y3];
  for (let i = 0; i < 4; i++) {
    out[15 - 4 * i] = words[i] >>> 24;
    out[14 - 4 * i] = words[i] >>> 16 & 0xff;
    out[13 - 4 * i] = words[i] >>> 8 & 0xff;
    out[12 - 4 * i] = words[i] & 0xff;
  }
}

// --- AES-256-GCM-SIV (RFC 8452 §4–5). ---

const padded = (n: number) => (n + 15) & ~15;

// Scratch space, reused by every call (each runs to completion synchronously): a token's seal or open
// allocates its result and nothing else.
const keyGenerating = new Uint32Array(60);
const encKey = new Uint32Array(60);
const authKey = new Uint8Array(16);
const encKeyBytes = new Uint8Array(32);
const block = new Uint8Array(16);
const stream = new Uint8Array(16);
const tag = new Uint8Array(16);
let polyvalInput = new Uint8Array(256);

/**
 * A key-generating key with its AES-256 round keys expanded once: for a caller that seals or opens
 * many messages under one key (token_codec.ts's version 2 keys), which saves the expansion per call.
 */
export class SivKey {
  /** The 60 round-key words. */
  readonly schedule = new Uint32Array(60);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError("AES-256-GCM-SIV needs a 32-byte key");
    expandKey(key, this.schedule);
  }
}

/** The per-nonce keys into `authKey` and `encKey`: the first 8 bytes of AES_K(le32(i) ‖ nonce), i = 0..5 (§4). */
function nonceKeys(key: Uint8Array | SivKey, nonce: Uint8Array): void {
  let schedule = keyGenerating;
  if (key instanceof SivKey) schedule = key.schedule;
  else expandKey(key, keyGenerating);
  block.fill(0);
  block.set(nonce, 4);
  for (let i = 0; i < 6; i++) {
    block[0] = i;
    encryptBlock(schedule, block, 0, stream, 0);
    if (i < 2) authKey.set(stream.subarray(0, 8), i * 8);
    else encKeyBytes.set(stream.subarray(0, 8), (i - 2) * 8);
  }
  expandKey(encKeyBytes, encKey);
}

/** Writes a little-endian 64-bit count of bits for `bytes` bytes at `out[offset]`. */
function bitLength(out: Uint8Array, offset: number, bytes: number): void {
  let bits = bytes * 8;
  for (let i = 0; i < 8; i++) {
    out[offset + i] = bits % 256;
    bits = Math.floor(bits / 256);
  }
}

/** The tag of a plaintext (§4), into `tag`, under the keys `nonceKeys` made. */
function tagOf(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): void {
  const aadEnd = padded(aad.length);
  const length = aadEnd + padded(plaintext.length) + 16;
  if (polyvalInput.length < length) polyvalInput = new Uint8Array(length);
  const input = polyvalInput;
  input.fill(0, 0, length);
  input.set(aad);
  input.set(plaintext, aadEnd);
  bitLength(input, length - 16, aad.length);
  bitLength(input, length - 8, plaintext.length);
  polyval(authKey, input, length, block);
  for (let i = 0; i < 12; i++) block[i] ^= nonce[i];
  block[15] &= 0x7f;
  encryptBlock(encKey, block, 0, tag, 0);
}

/** CTR from `initial` (a tag) with its top bit set; the first 32 bits count, little-endian (§4). */
function ctr(initial: Uint8Array, data: Uint8Array, out: Uint8Array): void {
  const counter = block;
  counter.set(initial);
  counter[15] |= 0x80;
  let count = (counter[0] | counter[1] << 8 | counter[2] << 16 | counter[3] << 24) >>> 0;
  for (let off = 0; off < data.length; off += 16) {
    counter[0] = count & 0xff;
    counter[1] = count >>> 8 & 0xff;
    counter[2] = count >>> 16 & 0xff;
    counter[3] = count >>> 24;
    count = (count + 1) >>> 0;
    encryptBlock(encKey, counter, 0, stream, 0);
    const end = Math.min(16, data.length - off);
    for (let j = 0; j < end; j++) out[off + j] = data[off + j] ^ stream[j];
  }
}

/** Seals `plaintext` under a 32-byte key and a 12-byte nonce, authenticating `aad`: ciphertext ‖ tag. */
export function sealSiv(
  key: Uint8Array | SivKey,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  checkSizes(key, nonce);
  nonceKeys(key, nonce);
  tagOf(nonce, aad, plaintext);
  const out = new Uint8Array(plaintext.length + 16);
  out.set(tag, plaintext.length);
  ctr(tag, plaintext, out);
  return out;
}

/** Opens what `sealSiv` sealed; throws when the tag does not match. */
export function openSiv(
  key: Uint8Array | SivKey,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array {
  checkSizes(key, nonce);
  if (sealed.length < 16) throw new Error("AES-GCM-SIV: the ciphertext is shorter than its tag");
  nonceKeys(key, nonce);
  const given = sealed.subarray(sealed.length - 16);
  const plaintext = new Uint8Array(sealed.length - 16);
  ctr(given, sealed.subarray(0, sealed.length - 16), plaintext);
  tagOf(nonce, aad, plaintext);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= tag[i] ^ given[i];
  if (diff !== 0) throw new Error("AES-GCM-SIV: invalid tag");
  return plaintext;
}

function checkSizes(key: Uint8Array | SivKey, nonce: Uint8Array): void {
  if ((!(key instanceof SivKey) && key.length !== 32) || nonce.length !== 12) {
    throw new RangeError("AES-256-GCM-SIV needs a 32-byte key and a 12-byte nonce");
  }
}
