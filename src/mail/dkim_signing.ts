/**
 * DKIM signing of outgoing mail (RFC 6376 §5): a message whose From is an address of a local domain
 * is signed with each active key of that domain (Ed25519 and RSA, RFC 8463 §3 recommends both while
 * verifiers learn Ed25519). Relaxed/relaxed canonicalization (survives the whitespace changes of
 * relays); the header fields signed are RFC 6376 §5.4.1's recommended set, each as many times as it
 * occurs, and the fields a message has at most once (From, Subject, To…) are oversigned: h= lists
 * each once more than it occurs, so a field added on the way (a second From shown instead of ours)
 * breaks the signature (RFC 6376 §8.15; a listed field that is absent hashes as nothing, §5.4.2).
 * Date, Message-ID and the MIME fields are oversigned only when present (see OVERSIGNED_IF_PRESENT).
 *
 * mailauth's `dkimSign` cannot oversign (it lists only the fields present), so the signature is put
 * together from mailauth's own pieces (src/mail/dkim_mailauth.ts): its header parser, field
 * selection, relaxed canonicalization, body hash and header formatting; only the h= list and the
 * final signature are ours, as mailauth does it. The RSA signature, at 1.5 ms a message the costliest
 * step of sending, is made by the signer's `rsa` function: in the server a worker thread
 * (rsa_sign_pool.ts), since Deno makes it on the calling thread; by default WebCrypto here, the same
 * PKCS#1 v1.5 signature as `crypto.sign` (src/mail/dkim_signing_test.ts compares them). A message
 * from a foreign domain, or one that
 * cannot be signed (no From, a key that does not open), leaves unchanged and the problem is
 * logged: a missing signature is a softer failure than mail that never leaves.
 */
import { Buffer } from "node:buffer";
import { createHash, createPrivateKey, type KeyObject, sign } from "node:crypto";
import type { DkimKeyService, SigningKey } from "./dkim_keys.ts";
import { loadMailauthParts, type MailauthParts } from "./dkim_mailauth.ts";
import { asAddresses, lastHeader, messageHeaders } from "./mime/mod.ts";

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

/**
 * The fields oversigned whether or not the message has them: those RFC 5322 §3.6 allows at most
 * once and a reader sees (From, Subject, the recipients), so adding one breaks the signature.
 * List-* and Resent-* are added by lists and resenders: signed, never oversigned.
 */
export const OVERSIGNED_FIELDS = ["From", "Reply-To", "Subject", "To", "Cc"] as const;

/**
 * The fields oversigned only when present: a relay may add a missing Date or Message-ID (RFC 5321
 * §6.4 lets a submission server do so), which must not break the signature; a second one must.
 * The two lists are rspamd's defaults.
 */
export const OVERSIGNED_IF_PRESENT = [
  "Sender",
  "Date",
  "Message-ID",
  "In-Reply-To",
  "References",
  "MIME-Version",
  "Content-Type",
  "Content-Transfer-Encoding",
] as const;

/** RSASSA-PKCS1-v1_5 with SHA-256 of `data` by the PEM private key. */
export type RsaSign = (pem: string, data: Uint8Array) => Promise<Uint8Array>;

/** {@link RsaSign} on the calling thread (WebCrypto, its key imported once). */
export const inlineRsaSign: RsaSign = (pem, data) => rsaSign(pem, parsedKey(pem), data);

/** What went wrong with a signature, for the log. */
export type SigningProblem = (message: string) => void;

/** Signs messages with the keys of their From domain. */
export class DkimSigner {
  readonly #rsa: RsaSign;

  constructor(
    private readonly keys: DkimKeyService,
    private readonly problem: SigningProblem = () => {},
    /** Makes the RSA signatures (rsa_sign_pool.ts); by default on this thread, by {@link inlineRsaSign}. */
    options: { rsa?: RsaSign } = {},
  ) {
    this.#rsa = options.rsa ?? inlineRsaSign;
  }

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
    const parts = await loadMailauthParts();
    const signatures: string[] = [];
    for (const key of keys) {
      try {
        signatures.push(await signatureOf(parts, message, key, { now, rsa: this.#rsa }));
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        this.problem(`DKIM signing of mail from ${domain} with "${key.selector}" failed: ${why}`);
      }
    }
    if (!signatures.length) return message;
    const head = new TextEncoder().encode(signatures.map((s) => `${s}\r\n`).join(""));
    const out = new Uint8Array(head.length + message.length);
    out.set(head);
    out.set(message, head.length);
    return out;
  }
}

/** One DKIM-Signature header line (folded, without the final CRLF) of `message` by `key`. */
async function signatureOf(
  parts: MailauthParts,
  message: Uint8Array,
  key: SigningKey,
  { now, rsa }: { now: Date; rsa: RsaSign },
): Promise<string> {
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.length);
  const bodyStart = headerEnd(bytes);
  const signed = parts.getSigningHeaderLines(
    parts.parseHeaders(bytes.subarray(0, bodyStart)).parsed,
    SIGNED_FIELDS.join(":"),
  );
  if (!signed.headers.some((h) => h.key === "from")) throw new Error("the message has no From");
  const body = new parts.RelaxedHash("sha256");
  body.update(bytes.subarray(bodyStart));
  const algorithm = key.algorithm === "rsa" ? "rsa-sha256" : "ed25519-sha256";
  const { canonicalizedHeader, dkimHeaderOpts } = parts.relaxedHeaders(
    "DKIM",
    { keys: [signed.keys, ...oversigned(signed.headers)].join(": "), headers: signed.headers },
    {
      signingDomain: key.domain,
      selector: key.selector,
      algorithm,
      canonicalization: "relaxed/relaxed",
      bodyHash: body.digest("base64"),
      timestamp: Math.floor(now.getTime() / 1000),
    },
  );
  // RFC 8463 §3: Ed25519 signs the SHA-256 hash of the canonicalized header; RSA hashes it itself.
  const signature = key.algorithm === "rsa"
    ? await rsa(key.privateKey, Buffer.from(canonicalizedHeader))
    : sign(null, createHash("sha256").update(canonicalizedHeader).digest(), parsedKey(key.privateKey));
  dkimHeaderOpts.b = Buffer.from(signature).toString("base64");
  return parts.formatSignatureHeaderLine("DKIM", dkimHeaderOpts, true);
}

/** Parsed private keys by PEM: parsing costs about a third of an RSA signature; a domain has two keys. */
const parsed = new Map<string, KeyObject>();

function parsedKey(pem: string): KeyObject {
  let key = parsed.get(pem);
  if (!key) {
    if (parsed.size >= 256) parsed.clear();
    parsed.set(pem, key = createPrivateKey(pem));
  }
  return key;
}

/** WebCrypto keys of RSA PEMs, imported once (as parsed keys are). */
const webKeys = new Map<string, Promise<CryptoKey>>();

/** RSASSA-PKCS1-v1_5 with SHA-256 of `data`, computed off the event loop. */
export async function rsaSign(pem: string, parsedKey: KeyObject, data: Uint8Array): Promise<Uint8Array> {
  let key = webKeys.get(pem);
  if (!key) {
    if (webKeys.size >= 256) webKeys.clear();
    const der = new Uint8Array(parsedKey.export({ format: "der", type: "pkcs8" }));
    key = crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
      "sign",
    ]);
    webKeys.set(pem, key);
  }
  return new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", await key, new Uint8Array(data)));
}

/** The names h= lists once more than they occur (RFC 6376 §8.15). */
function oversigned(present: readonly { key: string }[]): string[] {
  const has = (name: string) => present.some((h) => h.key === name.toLowerCase());
  return [...OVERSIGNED_FIELDS, ...OVERSIGNED_IF_PRESENT.filter(has)];
}

/** Where the body starts: after the first empty line (CRLF or bare LF), or the end of a header-only message. */
function headerEnd(bytes: Uint8Array): number {
  if (bytes[0] === 0x0a) return 1;
  if (bytes[0] === 0x0d && bytes[1] === 0x0a) return 2;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return i + 2;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 3;
  }
  return bytes.length;
}
