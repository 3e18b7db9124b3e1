/**
 * The token crypto's primitives, each implementation on the same inputs: BLAKE3 (the hand-written
 * src/oauth/blake3.ts, @noble/hashes, hash-wasm) on a token's key input (230 bytes),
 * its nonce input (60 bytes), an Authorization header (60 bytes) and a 1 MiB blob; AES-256-GCM-SIV
 * (the hand-written src/oauth/aes_gcm_siv.ts against @noble/ciphers) sealing and opening a token's
 * 6-byte plaintext under a new key each time, as every token has its own key; HMAC-SHA256 of a
 * 44-character secret (src/auth/keyed_hash.ts against node:crypto's createHmac). Prints µs per call,
 * the median of interleaved rounds, and each implementation's ratio to the fastest.
 *
 *   deno run -A scripts/bench/crypto_primitives.ts [--rounds 7] [--calls 20000]
 */
import { gcmsiv } from "@noble/ciphers/aes.js";
import { blake3 } from "@noble/hashes/blake3.js";
import { createBLAKE3 } from "hash-wasm";
import { createHmac } from "node:crypto";
import { parseArgs } from "node:util";
import { keyedHasher } from "../../src/auth/keyed_hash.ts";
import { openSiv, sealSiv } from "../../src/oauth/aes_gcm_siv.ts";
import { blake3Hash, deriveKey } from "../../src/oauth/blake3.ts";
import { median, printTable } from "./report.ts";

const args = parseArgs({ options: { rounds: { type: "string" }, calls: { type: "string" } } });
const rounds = Number(args.values.rounds ?? 7);
const calls = Number(args.values.calls ?? 20_000);
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const context = "postern 2026-11 oauth token key";
const keyInput = random(230);
const nonceInput = random(60);
const header = random(60);
const blob = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
const wasm = await createBLAKE3();
const derive = deriveKey(context);
const nobleDerive = blake3.create({ context: new TextEncoder().encode(context), dkLen: 32 });
const keys = Array.from({ length: 64 }, () => random(32));
const nonce = random(12);
const aad = random(12);
const plain = random(6);
const sealed = keys.map((key) => sealSiv(key, nonce, aad, plain));
const hmacKey = random(32);
const keyedHash = await keyedHasher(hmacKey);
const secret = "pst_" + random(30).toBase64().slice(0, 40);

type Case = { name: string; variants: Record<string, (i: number) => unknown>; calls?: number };
const cases: Case[] = [
  {
    name: "BLAKE3 derive_key, 230 B",
    variants: {
      "blake3": () => derive(keyInput),
      "@noble/hashes": () => nobleDerive.clone().update(keyInput).digest(),
    },
  },
  {
    name: "BLAKE3 hash → 12 B, 60 B",
    variants: {
      "blake3": () => blake3Hash(nonceInput, 12),
      "@noble/hashes": () => blake3(nonceInput, { dkLen: 12 }),
      "hash-wasm": () => wasm.init().update(nonceInput).digest("binary").subarray(0, 12),
    },
  },
  {
    name: "BLAKE3 hash hex, 60 B header",
    variants: {
      "blake3": () => blake3Hash(header).toHex(),
      "@noble/hashes": () => blake3(header).toHex(),
      "hash-wasm": () => wasm.init().update(header).digest("hex"),
    },
  },
  {
    name: "BLAKE3 hash, 1 MiB blob",
    calls: 20,
    variants: {
      "blake3": () => blake3Hash(blob),
      "@noble/hashes": () => blake3(blob),
      "hash-wasm": () => wasm.init().update(blob).digest("binary"),
    },
  },
  {
    name: "HMAC-SHA256 hex, 44-char secret",
    variants: {
      "keyed_hash (hash-wasm)": () => keyedHash(secret),
      "node:crypto createHmac": () => createHmac("sha256", hmacKey).update(secret).digest("hex"),
    },
  },
  {
    name: "AES-256-GCM-SIV seal, new key",
    variants: {
      "aes_gcm_siv": (i) => sealSiv(keys[i & 63], nonce, aad, plain),
      "@noble/ciphers": (i) => gcmsiv(keys[i & 63], nonce, aad).encrypt(plain),
    },
  },
  {
    name: "AES-256-GCM-SIV open, new key",
    variants: {
      "aes_gcm_siv": (i) => openSiv(keys[i & 63], nonce, aad, sealed[i & 63]),
      "@noble/ciphers": (i) => gcmsiv(keys[i & 63], nonce, aad).decrypt(sealed[i & 63]),
    },
  },
];

const rows: string[][] = [];
for (const { name, variants, calls: n = calls } of cases) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
  const order = Object.keys(variants);
  for (let round = -1; round < rounds; round++) {
    for (const variant of round % 2 ? order : order.toReversed()) {
      const run = variants[variant];
      const start = performance.now();
      for (let i = 0; i < n; i++) run(i);
      // Round -1 warms every variant up and is not counted.
      if (round >= 0) times[variant].push((performance.now() - start) * 1000 / n);
    }
  }
  const medians = Object.fromEntries(order.map((v) => [v, median(times[v])]));
  const best = Math.min(...Object.values(medians));
  for (const variant of order) {
    rows.push([name, variant, medians[variant].toFixed(2), `${(medians[variant] / best).toFixed(2)}×`]);
  }
}
printTable(["primitive", "implementation", "µs/call", "vs fastest"], rows);
