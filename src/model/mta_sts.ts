/**
 * The MTA-STS policy this server publishes for a local domain (RFC 8461 §3.2), served at
 * `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (src/api/mta_sts.ts) and announced by the
 * `_mta-sts` TXT record (src/model/dns_records.ts). The id is a digest of the policy text, so it
 * changes exactly when the policy does (a new mode or mail host) and senders fetch it again.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { MtaStsMode } from "./types.ts";

/** max_age of the published policy: one week (RFC 8461 §3.2 suggests weeks or more). */
export const PUBLISHED_POLICY_MAX_AGE = 604800;

/** The policy text and its id. */
export interface PublishedMtaStsPolicy {
  /** The policy file, LF-terminated lines. */
  text: string;
  /** 20 hexadecimal digits of SHA-256 of the text (§3.1: 1 to 32 letters and digits). */
  id: string;
}

/** The policy of a domain whose MX is `mxHost`, in `mode`. */
export function publishedMtaStsPolicy(mode: MtaStsMode, mxHost: string): PublishedMtaStsPolicy {
  const text = `version: STSv1\nmode: ${mode}\nmx: ${mxHost.toLowerCase().replace(/\.$/, "")}\n` +
    `max_age: ${PUBLISHED_POLICY_MAX_AGE}\n`;
  const digest = sha256(new TextEncoder().encode(text));
  const id = Array.from(digest.subarray(0, 10), (b) => b.toString(16).padStart(2, "0")).join("");
  return { text, id };
}
