/**
 * The sealed token format (DESIGN.md "OAuth / OIDC token format", after Stalwart's): a clear part
 * that carries only what is needed to re-derive the key, and a sealed part, AES-256-GCM-SIV under a
 * key derived with BLAKE3 from the server key, the client, the expiry, the account and the account's
 * credential secret (its password hash). Change any of them and the token no longer opens.
 *
 *   token = base64url( clear ‖ ciphertext )
 *   clear = version ‖ kind ‖ varint accountId ‖ varint clientRowId ‖ varint issuedAt ‖ varint expiresAt
 *   plaintext = varint grantId ‖ varint generation ‖ varint scopeBits
 *
 * The clear part is the AEAD's associated data, so it is authenticated too.
 */
import { blake3 } from "@noble/hashes/blake3.js";
import { createBLAKE3 } from "hash-wasm";
import { openSiv, sealSiv } from "./aes_gcm_siv.ts";
import { SCOPES } from "../model/objects/mod.ts";

const VERSION = 1;
const KINDS = { access: 1, refresh: 2 } as const;
// BLAKE3's derive_key mode hashes its context first; a hasher with the context already absorbed is
// cloned per token instead (the same output, half the cost).
const KEY_HASHER = blake3.create({
  context: new TextEncoder().encode("postern 2026-11 oauth token key"),
  dkLen: 32,
});
// The nonce is a plain BLAKE3 hash (its first 12 bytes, after a domain label), computed by one reused
// WebAssembly instance: under a microsecond against four for a derive_key.
const NONCE_HASHER = await createBLAKE3(96);
const SCOPE_NAMES = Object.keys(SCOPES);
const NONCE_DOMAIN = new TextEncoder().encode("postern 2026-11 oauth token nonce\n");
const utf8 = new TextEncoder();

/** What kind of token. */
export type TokenKind = keyof typeof KINDS;

/** The part of a token readable without the key. Times are in seconds. */
export interface ClearClaims {
  kind: TokenKind;
  accountId: number;
  clientRowId: number;
  issuedAt: number;
  expiresAt: number;
}

/** Everything a token says. */
export interface TokenClaims extends ClearClaims {
  grantId: number;
  /** Refresh tokens: the generation in the family (rotation); access tokens: the same at issue. */
  generation: number;
  scopes: string[];
}

/** What the key is derived from, besides the clear claims. */
export interface KeyMaterial {
  /** The server's token encryption key (the OidcProvider `encryptionKey`). */
  serverKey: Uint8Array;
  /** The client's client_id. */
  clientId: string;
  accountName: string;
  /** The account's password hash, or its random credential secret when it has no password. */
  credentialSecret: Uint8Array;
}

/** Seals `claims` into a token string. */
export function sealToken(claims: TokenClaims, material: KeyMaterial): string {
  const clear = encodeClear(claims);
  const plain = new Writer();
  plain.varint(claims.grantId);
  plain.varint(claims.generation);
  plain.varint(scopeBits(claims.scopes));
  const sealed = cipher(claims, material, clear).encrypt(plain.bytes());
  const out = new Uint8Array(clear.length + sealed.length);
  out.set(clear);
  out.set(sealed, clear.length);
  return toBase64Url(out);
}

/** The clear claims of a token, or undefined when it is not one of ours. */
export function readClearClaims(token: string): ClearClaims | undefined {
  return parse(token)?.claims;
}

/** Opens a token whose clear claims were read with the key material they name; undefined if it fails. */
export function openToken(token: string, material: KeyMaterial): TokenClaims | undefined {
  const parsed = parse(token);
  if (!parsed) return undefined;
  let plain: Uint8Array;
  try {
    plain = cipher(parsed.claims, material, parsed.clear).decrypt(parsed.sealed);
  } catch {
    return undefined;
  }
  const reader = new Reader(plain);
  const grantId = reader.varint();
  const generation = reader.varint();
  const bits = reader.varint();
  if (bits === undefined || generation === undefined || grantId === undefined || !reader.done()) {
    return undefined;
  }
  return { ...parsed.claims, grantId, generation, scopes: SCOPE_NAMES.filter((_, i) => bits & (2 ** i)) };
}

function cipher(claims: ClearClaims, material: KeyMaterial, clear: Uint8Array) {
  const details = new Writer();
  details.varint(claims.accountId);
  details.text(material.accountName);
  details.varint(KINDS[claims.kind]);
  details.varint(claims.expiresAt);
  const keyInput = new Writer();
  keyInput.chunk(material.serverKey);
  keyInput.text(material.clientId);
  keyInput.varint(claims.expiresAt);
  keyInput.chunk(details.bytes());
  keyInput.chunk(material.credentialSecret);
  const key = KEY_HASHER.clone().update(keyInput.bytes()).digest();
  const nonce = NONCE_HASHER.init().update(NONCE_DOMAIN).update(details.bytes()).digest("binary");
  return {
    encrypt: (plaintext: Uint8Array) => sealSiv(key, nonce, clear, plaintext),
    decrypt: (sealed: Uint8Array) => openSiv(key, nonce, clear, sealed),
  };
}

function encodeClear(claims: ClearClaims): Uint8Array {
  const w = new Writer();
  w.byte(VERSION);
  w.byte(KINDS[claims.kind]);
  w.varint(claims.accountId);
  w.varint(claims.clientRowId);
  w.varint(claims.issuedAt);
  w.varint(claims.expiresAt);
  return w.bytes();
}

function parse(token: string) {
  if (token.length < 24 || token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(token);
  } catch {
    return undefined;
  }
  const r = new Reader(bytes);
  if (r.byte() !== VERSION) return undefined;
  const kindByte = r.byte();
  const kind = (Object.keys(KINDS) as TokenKind[]).find((k) => KINDS[k] === kindByte);
  const accountId = r.varint();
  const clientRowId = r.varint();
  const issuedAt = r.varint();
  const expiresAt = r.varint();
  if (
    !kind || accountId === undefined || clientRowId === undefined || issuedAt === undefined ||
    expiresAt === undefined || bytes.length - r.offset < 16
  ) return undefined;
  return {
    claims: { kind, accountId, clientRowId, issuedAt, expiresAt },
    clear: bytes.subarray(0, r.offset),
    sealed: bytes.subarray(r.offset),
  };
}

function scopeBits(scopes: readonly string[]): number {
  let bits = 0;
  for (const scope of scopes) {
    const index = SCOPE_NAMES.indexOf(scope);
    if (index < 0) throw new Error(`Unknown scope "${scope}"`);
    bits |= 2 ** index;
  }
  return bits;
}

/** Builds a byte string in a growing buffer (no array of numbers, no copy per field). */
class Writer {
  #buffer = new Uint8Array(256);
  #length = 0;
  #reserve(n: number) {
    if (this.#length + n <= this.#buffer.length) return;
    const next = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + n));
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }
  byte(n: number) {
    this.#reserve(1);
    this.#buffer[this.#length++] = n & 0xff;
  }
  varint(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Cannot encode ${n}`);
    this.#reserve(8);
    while (n >= 0x80) {
      this.#buffer[this.#length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buffer[this.#length++] = n;
  }
  chunk(bytes: Uint8Array) {
    this.varint(bytes.length);
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }
  text(s: string) {
    this.chunk(utf8.encode(s));
  }
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
}

class Reader {
  offset = 0;
  constructor(private readonly data: Uint8Array) {}
  byte(): number | undefined {
    return this.offset < this.data.length ? this.data[this.offset++] : undefined;
  }
  varint(): number | undefined {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      if (b === undefined) return undefined;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    return undefined;
  }
  done(): boolean {
    return this.offset === this.data.length;
  }
}

/** Bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Unpadded base64url as bytes (throws on text that is not base64url). */
export function fromBase64Url(text: string): Uint8Array {
  return Uint8Array.fromBase64(text, { alphabet: "base64url", lastChunkHandling: "loose" });
}
