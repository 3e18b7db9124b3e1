/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1) up to the handshake traffic secrets, for
 * TLS_AES_128_GCM_SHA256 only: HKDF-Expand-Label, Derive-Secret, the handshake keys and the
 * Finished MAC. HKDF, HMAC and SHA-256 come from @noble/hashes (audited, synchronous); the key
 * exchange and AEAD from WebCrypto. Checked against RFC 8448's traces in key_schedule_test.ts.
 */
import { expand, extract } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

const encoder = new TextEncoder();
const ZEROS = new Uint8Array(32);

/** The transcript hash of the handshake messages so far (RFC 8446 §4.4.1). */
export function transcriptHash(...messages: Uint8Array[]): Uint8Array {
  const hash = sha256.create();
  for (const message of messages) hash.update(message);
  return hash.digest();
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1). */
export function expandLabel(
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const fullLabel = encoder.encode(`tls13 ${label}`);
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  info.set([length >> 8, length & 0xff, fullLabel.length]);
  info.set(fullLabel, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
  return expand(sha256, secret, info, length);
}

/** Derive-Secret(Secret, Label, Messages), given the messages' transcript hash. */
export function deriveSecret(secret: Uint8Array, label: string, hash: Uint8Array): Uint8Array {
  return expandLabel(secret, label, hash, 32);
}

/** The early secret with no PSK: HKDF-Extract(0, 0). */
export function earlySecret(): Uint8Array {
  return extract(sha256, ZEROS, ZEROS);
}

/** The handshake secret from the (EC)DHE shared secret. */
export function handshakeSecret(shared: Uint8Array): Uint8Array {
  const derived = deriveSecret(earlySecret(), "derived", sha256(new Uint8Array()));
  return extract(sha256, shared, derived);
}

/** A direction's record protection: AES-128-GCM key and IV (RFC 8446 §7.3). */
export interface TrafficKeys {
  secret: Uint8Array;
  key: Uint8Array;
  iv: Uint8Array;
}

/** The traffic keys of one direction from its traffic secret. */
export function trafficKeys(secret: Uint8Array): TrafficKeys {
  return {
    secret,
    key: expandLabel(secret, "key", new Uint8Array(), 16),
    iv: expandLabel(secret, "iv", new Uint8Array(), 12),
  };
}

/** Both directions' handshake traffic keys, from the shared secret and the hash of ClientHello..ServerHello. */
export function handshakeKeys(
  shared: Uint8Array,
  helloHash: Uint8Array,
): { client: TrafficKeys; server: TrafficKeys } {
  const secret = handshakeSecret(shared);
  return {
    client: trafficKeys(deriveSecret(secret, "c hs traffic", helloHash)),
    server: trafficKeys(deriveSecret(secret, "s hs traffic", helloHash)),
  };
}

/** The verify_data of a Finished message (RFC 8446 §4.4.4). */
export function finishedData(trafficSecret: Uint8Array, hash: Uint8Array): Uint8Array {
  return hmac(sha256, expandLabel(trafficSecret, "finished", new Uint8Array(), 32), hash);
}
