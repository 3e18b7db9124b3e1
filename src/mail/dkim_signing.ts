/**
 * DKIM signing of outgoing mail (RFC 6376 §5): a message whose From is an address of a local domain
 * is signed with each active key of that domain (Ed25519 and RSA, RFC 8463 §3 recommends both while
 * verifiers learn Ed25519), by mailauth, loaded lazily as in authentication.ts (`deno bundle` cannot
 * inline it). Relaxed/relaxed canonicalization (survives the whitespace changes of relays); the
 * header fields signed are RFC 6376 §5.4.1's recommended set, each as many times as it occurs.
 * A message from a foreign domain, or one that cannot be signed (no From, a key that does not
 * open), leaves unchanged and the problem is logged: a missing signature is a softer failure than
 * mail that never leaves. mailauth signs each occurrence of a listed field but cannot oversign
 * (list a field once more than it occurs, RFC 6376 §8.15), so From is not oversigned.
 */
import { Buffer } from "node:buffer";
import type { DkimKeyService } from "./dkim_keys.ts";
import { asAddresses, lastHeader, messageHeaders } from "./mime/mod.ts";

let mailauth: Promise<typeof import("mailauth")> | undefined;

/** The header fields signed (RFC 6376 §5.4.1, the fields the message's meaning depends on). */
export const SIGNED_FIELDS = [
  "From",
  "Reply-To",
  "Subject",
  "Date",
  "To",
  "Cc",
  "Resent-Date",
  "Resent-From",
  "Resent-To",
  "Resent-Cc",
  "In-Reply-To",
  "References",
  "List-Id",
  "List-Help",
  "List-Unsubscribe",
  "List-Subscribe",
  "List-Post",
  "List-Owner",
  "List-Archive",
  "Message-ID",
  "Sender",
  "MIME-Version",
  "Content-Type",
  "Content-Transfer-Encoding",
] as const;

/** What went wrong with a signature, for the log. */
export type SigningProblem = (message: string) => void;

/** Signs messages with the keys of their From domain. */
export class DkimSigner {
  constructor(
    private readonly keys: DkimKeyService,
    private readonly problem: SigningProblem = () => {},
  ) {}

  /** The message with a DKIM-Signature per active key of its From domain prepended, or as it was. */
  async sign(message: Uint8Array, options: { now?: Date } = {}): Promise<Uint8Array> {
    try {
      return await this.#sign(message, options.now ?? new Date());
    } catch (error) {
      // A key that cannot be opened (the encryption key changed) must not keep the mail from leaving.
      this.problem(`DKIM signing failed: ${error instanceof Error ? error.message : error}`);
      return message;
    }
  }

  async #sign(message: Uint8Array, now: Date): Promise<Uint8Array> {
    const from = asAddresses(lastHeader(messageHeaders(message), "from") ?? "")[0]?.email ?? "";
    const domain = from.slice(from.lastIndexOf("@") + 1);
    if (!from.includes("@") || !domain) return message;
    const keys = await this.keys.signingKeys(domain);
    if (!keys.length) return message;
    const { dkimSign } = await (mailauth ??= import("mailauth"));
    const result = await dkimSign(
      Buffer.from(message.buffer, message.byteOffset, message.length),
      {
        canonicalization: "relaxed/relaxed",
        signTime: now,
        headerList: SIGNED_FIELDS.join(":"),
        signatureData: keys.map((k) => ({
          signingDomain: k.domain,
          selector: k.selector,
          privateKey: k.privateKey,
          algorithm: k.algorithm === "rsa" ? "rsa-sha256" : "ed25519-sha256",
          canonicalization: "relaxed/relaxed",
        })),
      } as Parameters<typeof dkimSign>[1],
    );
    for (const e of result.errors ?? []) {
      const err = (e as { err?: Error; selector?: string }).err;
      this.problem(`DKIM signing of mail from ${domain} failed: ${err?.message ?? String(e)}`);
    }
    if (!result.signatures) return message;
    const head = new TextEncoder().encode(result.signatures);
    const out = new Uint8Array(head.length + message.length);
    out.set(head);
    out.set(message, head.length);
    return out;
  }
}
