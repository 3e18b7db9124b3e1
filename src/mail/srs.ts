/**
 * The Sender Rewriting Scheme, as postsrsd and Postfix setups use it: a forwarded message leaves with
 * the envelope sender `SRS0=HHHH=TT=orig-domain=orig-local@forwarding-domain`, so the receiver's SPF
 * check is of the forwarding domain, which authorizes this server. A bounce of it comes back to that
 * address; the MX verifies it and relays the bounce to the original sender (reverse SRS).
 *
 * - TT: the day (Unix days mod 1024) in two base32 characters; an address older than `maxAgeDays`
 *   is refused, so a harvested one stops working.
 * - HHHH: the first four base64 characters of HMAC-SHA1 over `TT orig-domain orig-local` (lower-cased,
 *   compared without case: some MTAs fold the local part) under a key derived from the server's
 *   encryption key, so nobody else can make this server relay (no open relay through SRS).
 *
 * A sender that is an SRS address already is wrapped again as an ordinary address (the SRS1 short
 * form is not made); its bounce goes back through the previous forwarder.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const DAY_MS = 86_400_000;
/** postsrsd's default: a bounce may come back for three weeks. */
export const DEFAULT_SRS_MAX_AGE_DAYS = 21;

/** Why an SRS address is not one to relay to. */
export type SrsRefusal = "malformed" | "badHash" | "expired";

/** The outcome of {@link Srs.reverse}. */
export type SrsReverse = { ok: true; address: string } | { ok: false; reason: SrsRefusal };

/** Forward and reverse rewriting under one key. */
export class Srs {
  readonly #key: Buffer;

  constructor(
    encryptionKey: Uint8Array,
    private readonly options: { maxAgeDays?: number } = {},
  ) {
    // A key of its own, so a leaked SRS key says nothing about the encryption key.
    this.#key = createHmac("sha256", encryptionKey).update("postern SRS key v1").digest();
  }

  /** Whether `local` (the part before @) has the form of an SRS address. */
  static isSrsLocalPart(local: string): boolean {
    return /^srs0[=+-]/i.test(local);
  }

  /**
   * The SRS0 address of `sender` at `domain`; the null sender stays null (a bounce is never
   * bounced, so it needs no return path).
   */
  forward(sender: string, domain: string, now = Date.now()): string {
    const at = sender.lastIndexOf("@");
    if (!sender || at <= 0) return sender;
    const local = sender.slice(0, at);
    const senderDomain = sender.slice(at + 1);
    const stamp = timestamp(now);
    return `SRS0=${this.#hash(stamp, senderDomain, local)}=${stamp}=${senderDomain}=${local}@${domain}`;
  }

  /** The original sender of the SRS0 local part `local`, if it is one this server made and not expired. */
  reverse(local: string, now = Date.now()): SrsReverse {
    // SRS0 HHHH TT domain local; the original local part may itself contain "=".
    const match = /^srs0[=+-]([^=]{4})=([^=]{2})=([^=]+)=(.+)$/i.exec(local);
    if (!match) return { ok: false, reason: "malformed" };
    const [, hash, stamp, domain, original] = match;
    const expected = Buffer.from(this.#hash(stamp.toUpperCase(), domain, original).toLowerCase());
    const given = Buffer.from(hash.toLowerCase());
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: "badHash" };
    }
    const age = ageInDays(stamp.toUpperCase(), now);
    if (age === undefined || age > (this.options.maxAgeDays ?? DEFAULT_SRS_MAX_AGE_DAYS)) {
      return { ok: false, reason: "expired" };
    }
    return { ok: true, address: `${original}@${domain}` };
  }

  #hash(stamp: string, domain: string, local: string): string {
    return createHmac("sha1", this.#key).update(`${stamp}${domain}${local}`.toLowerCase()).digest("base64")
      .slice(0, 4);
  }
}

function timestamp(now: number): string {
  const day = Math.floor(now / DAY_MS) % 1024;
  return BASE32[day >> 5] + BASE32[day & 31];
}

/** Days since `stamp` (mod 1024, as the stamp only holds that much); undefined when it is not one. */
function ageInDays(stamp: string, now: number): number | undefined {
  const high = BASE32.indexOf(stamp[0]);
  const low = BASE32.indexOf(stamp[1]);
  if (high < 0 || low < 0) return undefined;
  const then = high * 32 + low;
  const today = Math.floor(now / DAY_MS) % 1024;
  return (today - then + 1024) % 1024;
}
