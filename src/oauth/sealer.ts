/**
 * Secrets kept in the database sealed under the server's encryption key: AES-GCM-SIV with a key
 * derived for one purpose (BLAKE3 derive_key with that purpose's context), a random nonce per seal,
 * stored as base64url text. A database copied without the key gives none of them away.
 */
import { openSiv, sealSiv } from "./aes_gcm_siv.ts";
import { deriveKey } from "./blake3.ts";
import { fromBase64Url, toBase64Url } from "./token_codec.ts";

/** Seals and opens text for one purpose. */
export interface Sealer {
  seal(text: string): string;
  /** The text sealed; throws when it was not sealed by this key and purpose, or was changed. */
  open(sealed: string): string;
}

/** A sealer for the purpose named by `context` (a fixed string; different purposes never share keys). */
export function textSealer(serverKey: Uint8Array, context: string): Sealer {
  const key = deriveKey(context)(serverKey);
  return {
    seal(text) {
      const nonce = crypto.getRandomValues(new Uint8Array(12));
      const sealed = sealSiv(key, nonce, new Uint8Array(), new TextEncoder().encode(text));
      const out = new Uint8Array(12 + sealed.length);
      out.set(nonce);
      out.set(sealed, 12);
      return toBase64Url(out);
    },
    open(sealed) {
      const bytes = fromBase64Url(sealed);
      return new TextDecoder().decode(
        openSiv(key, bytes.subarray(0, 12), new Uint8Array(), bytes.subarray(12)),
      );
    },
  };
}
