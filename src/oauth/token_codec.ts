/**
 * The sealed token format (README, OAuth; after Stalwart's): a clear part
 * that carries only what is needed to re-derive the key, and a sealed part, AES-256-GCM-SIV under a
 * key derived with BLAKE3 from the server key, the client, the account and the account's credential
 * secret (its password hash). Change any of them and the token no longer opens.
 *
 *   token = base64url( clear ‖ ciphertext )
 *   clear = version ‖ kind ‖ varint accountId ‖ varint clientRowId ‖ varint issuedAt ‖ varint expiresAt
 *   plaintext = varint grantId ‖ varint generation ‖ varint scopeBits
 *
 * The clear part is the AEAD's associated data, so it is authenticated too.
 *
 * Version 2 (what sealToken writes): one key per server key, client, account and credential secret,
 * derived once and kept with its AES round keys (see v2Key), and a nonce made of the token's kind and
 * times. Version 1 (still opened, so tokens issued before the upgrade keep working) also derived the
 * key from the kind and expiry, and the nonce with a BLAKE3 hash: a key derivation and a hash per
 * token, two per refresh grant (the one it opens, the one it issues), about a twentieth of the
 * grant's server CPU. Both are equally bound: a token opens only under the same server key, client,
 * account name and credential secret, and its clear part is authenticated either way. AES-GCM-SIV
 * needs its nonce unique, not secret (RFC 8452 §9); two version 2 tokens share one only when they share
 * kind, account, client and both times — when version 1 gave them the same key and nonce too.
 */
import { openSiv, sealSiv, SivKey } from "./aes_gcm_siv.ts";
import { blake3Hash, deriveKey as deriveKeyFor } from "./blake3.ts";
import { SCOPES } from "../model/objects/mod.ts";

const V1 = 1;
const V2 = 2;
const KINDS = { access: 1, refresh: 2 } as const;
const KEY_CONTEXT = "postern 2026-11 oauth token key";
const deriveKey = deriveKeyFor(KEY_CONTEXT);
const deriveKeyV2 = deriveKeyFor("postern 2026-12 oauth token key, version 2");
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

/**
 * Seals `claims` into a token string (version 2). The arrays of `material` are never changed in place
 * (a new password or server key comes as a new array): version 2 keys are kept by them (v2Key).
 */
export function sealToken(claims: TokenClaims, material: KeyMaterial): string {
  const clear = encodeClear(claims);
  const plain = PLAIN.reset();
  plain.varint(claims.grantId);
  plain.varint(claims.generation);
  plain.varint(scopeBits(claims.scopes));
  const sealed = sealSiv(v2Key(claims, material), v2Nonce(claims), clear, plain.bytes());
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
    if (parsed.version === V2) {
      plain = openSiv(v2Key(parsed.claims, material), v2Nonce(parsed.claims), parsed.clear, parsed.sealed);
    } else {
      const { key, nonce } = keyAndNonce(parsed.claims, material);
      plain = openSiv(key, nonce, parsed.clear, parsed.sealed);
    }
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

/**
 * Version 2 keys by the credential secret's array (the provider keeps one per account until the
 * secret changes, and a new secret is a new array), then by the rest of what they are derived from.
 * The server key is compared as the array it is: a new key is a new array (OAuthProvider.serverKey).
 */
const v2Keys = new WeakMap<Uint8Array, Map<string, { serverKey: Uint8Array; key: SivKey }>>();
/** Clients an account's keys are kept for; past it they start over. */
const V2_KEYS_PER_SECRET = 64;

/** The version 2 key of a token: BLAKE3 derive_key of the server key, client, account and secret. */
function v2Key(claims: ClearClaims, material: KeyMaterial): SivKey {
  let keys = v2Keys.get(material.credentialSecret);
  if (!keys) v2Keys.set(material.credentialSecret, keys = new Map());
  const name = `${claims.accountId} ${material.clientId.length} ${material.clientId} ${material.accountName}`;
  const known = keys.get(name);
  if (known && known.serverKey === material.serverKey) return known.key;
  const input = KEY_INPUT.reset();
  input.chunk(material.serverKey);
  input.text(material.clientId);
  input.varint(claims.accountId);
  input.text(material.accountName);
  input.chunk(material.credentialSecret);
  const key = new SivKey(deriveKeyV2(input.bytes()));
  if (keys.size >= V2_KEYS_PER_SECRET) keys.clear();
  keys.set(name, { serverKey: material.serverKey, key });
  return key;
}

/** The version 2 nonce: the kind, then issuedAt (40 bits) and expiresAt (48 bits), little-endian. */
function v2Nonce(claims: ClearClaims): Uint8Array {
  const nonce = NONCE_V2;
  nonce[0] = KINDS[claims.kind];
  let issued = claims.issuedAt;
  let expires = claims.expiresAt;
  for (let i = 0; i < 5; i++, issued = Math.floor(issued / 256)) nonce[1 + i] = issued % 256;
  for (let i = 0; i < 6; i++, expires = Math.floor(expires / 256)) nonce[6 + i] = expires % 256;
  return nonce;
}

/** The AES key and nonce of a version 1 token: BLAKE3 derive_key and hash of what the material names. */
function keyAndNonce(claims: ClearClaims, material: KeyMaterial): { key: Uint8Array; nonce: Uint8Array } {
  const details = DETAILS.reset();
  details.varint(claims.accountId);
  details.text(material.accountName);
  details.varint(KINDS[claims.kind]);
  details.varint(claims.expiresAt);
  const keyInput = KEY_INPUT.reset();
  keyInput.chunk(material.serverKey);
  keyInput.text(material.clientId);
  keyInput.varint(claims.expiresAt);
  keyInput.chunk(details.bytes());
  keyInput.chunk(material.credentialSecret);
  const key = deriveKey(keyInput.bytes());
  // The nonce: a plain BLAKE3 hash of a domain label and the details, its first 12 bytes.
  const nonceInput = NONCE_INPUT.reset();
  nonceInput.raw(NONCE_DOMAIN);
  nonceInput.raw(details.bytes());
  const nonce = blake3Hash(nonceInput.bytes(), 12);
  return { key, nonce };
}

function encodeClear(claims: ClearClaims): Uint8Array {
  const w = CLEAR.reset();
  w.byte(V2);
  w.byte(KINDS[claims.kind]);
  w.varint(claims.accountId);
  w.varint(claims.clientRowId);
  w.varint(claims.issuedAt);
  w.varint(claims.expiresAt);
  return w.bytes();
}

// The last token parsed and what it gave: a token's clear claims are read before it is opened (with
// the key material they name), so each grant parsed its token twice.
let lastToken: string | undefined;
let lastParsed: ReturnType<typeof parseToken>;

function parse(token: string) {
  if (token !== lastToken) {
    lastParsed = parseToken(token);
    lastToken = token;
  }
  return lastParsed;
}

function parseToken(token: string) {
  if (token.length < 24 || token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(token);
  } catch {
    return undefined;
  }
  const r = new Reader(bytes);
  const version = r.byte();
  if (version !== V1 && version !== V2) return undefined;
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
    version,
    claims: Object.freeze({ kind, accountId, clientRowId, issuedAt, expiresAt }),
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
    this.raw(bytes);
  }
  raw(bytes: Uint8Array) {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }
  text(s: string) {
    // Short ASCII text (client ids, most account names) is copied as it is, which is what its UTF-8
    // is; anything else goes through TextEncoder.
    if (s.length < 0x80) {
      this.#reserve(s.length + 1);
      const start = this.#length;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.#buffer[start + 1 + i] = c;
      }
      if (i === s.length) {
        this.#buffer[start] = s.length;
        this.#length = start + 1 + s.length;
        return;
      }
    }
    this.chunk(utf8.encode(s));
  }
  /** The bytes written so far: a view, valid until the next reset. */
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
  /** Empties the writer (its buffer is kept) and returns it. */
  reset(): this {
    this.#length = 0;
    return this;
  }
}

// Scratch writers, reset per use: sealing and opening run to completion synchronously, and nothing
// they return is a view into these buffers.
const CLEAR = new Writer();
const PLAIN = new Writer();
const DETAILS = new Writer();
const KEY_INPUT = new Writer();
const NONCE_INPUT = new Writer();
const NONCE_V2 = new Uint8Array(12);

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
