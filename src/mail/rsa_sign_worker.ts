// Makes RSA signatures for DKIM off the main thread (see rsa_sign_pool.ts): an RSA-2048 signature
// costs about 1.5 ms here, and both WebCrypto and node:crypto make it on the calling thread in Deno.

import { createPrivateKey, type KeyObject, sign } from "node:crypto";

/** A signature to make: RSASSA-PKCS1-v1_5 with SHA-256 of `data`, by the PEM private key. */
export interface RsaSignRequest {
  id: number;
  pem: string;
  data: Uint8Array;
}

/** The signature, or why there is none; with the request's id. */
export type RsaSignAnswer = { id: number; signature: Uint8Array } | { id: number; error: string };

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<RsaSignRequest>) => void) | null;
  postMessage(message: RsaSignAnswer, transfer?: Transferable[]): void;
};

/** Parsed keys by PEM (parsing costs about a third of a signature; a domain has one RSA key). */
const keys = new Map<string, KeyObject>();

scope.onmessage = ({ data: { id, pem, data } }) => {
  try {
    let key = keys.get(pem);
    if (!key) {
      if (keys.size >= 256) keys.clear();
      keys.set(pem, key = createPrivateKey(pem));
    }
    const signature = new Uint8Array(sign("sha256", data, key));
    scope.postMessage({ id, signature }, [signature.buffer]);
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
