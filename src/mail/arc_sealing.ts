/**
 * ARC sealing (RFC 8617) of mail this server forwards: an ARC set (ARC-Authentication-Results with
 * what the MX found, ARC-Message-Signature, ARC-Seal) signed with the forwarding domain's RSA DKIM
 * key, so a receiver can trust the original authentication results although SPF no longer aligns.
 * The chain validation status (cv=) follows the MX's own ARC result: none for a message without
 * ARC sets, pass when the MX validated them, fail otherwise (RFC 8617 §5.1.1). mailauth signs.
 */
import { Buffer } from "node:buffer";
import type { DkimKeyService } from "./dkim_keys.ts";

/** What to seal: the message as it will be forwarded, and the MX's authentication results. */
export interface SealInput {
  message: Uint8Array;
  /** The forwarding domain, whose key signs. */
  domain: string;
  /** The Authentication-Results payload (`authserv-id; spf=…`), without the field name. */
  authResults: string;
}

let arcModule:
  | Promise<{ sealMessage(input: Buffer, seal: Record<string, unknown>): Promise<Buffer> }>
  | undefined;

/** Seals forwarded mail with the keys of local domains. */
export class ArcSealer {
  constructor(
    private readonly keys: DkimKeyService,
    private readonly problem: (message: string) => void = () => {},
  ) {}

  /** The message with an ARC set prepended, or as it was when the domain has no RSA key. */
  async seal(input: SealInput, now = new Date()): Promise<Uint8Array> {
    // RFC 8617 names rsa-sha256 only; Ed25519 ARC is not widely validated yet.
    const key = (await this.keys.signingKeys(input.domain)).find((k) => k.algorithm === "rsa");
    if (!key) return input.message;
    arcModule ??= import("mailauth/lib/arc/index.js").then((m) =>
      (m.default ?? m) as unknown as {
        sealMessage(input: Buffer, seal: Record<string, unknown>): Promise<Buffer>;
      }
    );
    const { sealMessage } = await arcModule;
    const bytes = Buffer.from(input.message.buffer, input.message.byteOffset, input.message.length);
    const arcResult = /\barc=([a-z]+)/i.exec(input.authResults)?.[1]?.toLowerCase();
    const chained = /^arc-seal:/im.test(headerBlock(bytes));
    try {
      const headers = await sealMessage(bytes, {
        signingDomain: key.domain,
        selector: key.selector,
        privateKey: key.privateKey,
        algorithm: "rsa-sha256",
        authResults: input.authResults,
        signTime: now,
        ...(chained ? { cv: arcResult === "pass" ? "pass" : "fail" } : {}),
      });
      if (!headers.length) {
        this.problem(`ARC sealing of mail forwarded by ${input.domain} made no set`);
        return input.message;
      }
      const out = new Uint8Array(headers.length + input.message.length);
      out.set(headers);
      out.set(input.message, headers.length);
      return out;
    } catch (error) {
      // Forwarded unsealed rather than not at all: the original DKIM signature still speaks for it.
      this.problem(`ARC sealing of mail forwarded by ${input.domain} failed: ${String(error)}`);
      return input.message;
    }
  }
}

/** The header block (as text) of a message. */
function headerBlock(bytes: Buffer): string {
  const end = bytes.indexOf("\r\n\r\n");
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString("latin1");
}
