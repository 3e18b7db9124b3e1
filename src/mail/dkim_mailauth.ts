/**
 * The pieces of mailauth's DKIM signer that src/mail/dkim_signing.ts puts together itself (to
 * oversign, which `dkimSign` cannot), typed as far as they are used. They are modules of the
 * pinned mailauth (deno.json, deno.lock) outside its documented API: an upgrade must re-run
 * src/mail/dkim_signing_test.ts, which verifies the result with mailauth's own `dkimVerify`.
 * Loaded lazily, as mailauth is elsewhere (`deno bundle` cannot inline it).
 */
import type { Buffer } from "node:buffer";

/** A parsed header field as mailauth keeps it. */
export interface ParsedHeader {
  /** The lowercased name. */
  key: string;
  casedKey: string;
  line: Buffer;
}

/** The fields a signature covers: their names as h= lists them and the fields themselves. */
export interface SigningHeaderLines {
  keys: string;
  headers: ParsedHeader[];
}

/** The signature's tags before and after signing (b= is set by the caller). */
export type SignatureTags = Record<string, string | number | null | undefined>;

/** What the signer uses of mailauth. */
export interface MailauthParts {
  parseHeaders(header: Buffer): { parsed: ParsedHeader[] };
  /** Every occurrence of the listed fields, bottom up (the order a verifier reads them in). */
  getSigningHeaderLines(parsed: ParsedHeader[], fieldNames: string): SigningHeaderLines;
  relaxedHeaders(
    type: "DKIM",
    lines: SigningHeaderLines,
    options: Record<string, unknown>,
  ): { canonicalizedHeader: Buffer; dkimHeaderOpts: SignatureTags };
  formatSignatureHeaderLine(type: "DKIM", tags: SignatureTags, folded: boolean): string;
  RelaxedHash: new (algorithm: string) => { update(chunk: Buffer): void; digest(encoding: "base64"): string };
}

let parts: Promise<MailauthParts> | undefined;

/** mailauth's signing pieces, imported once. */
export function loadMailauthParts(): Promise<MailauthParts> {
  return parts ??= Promise.all([
    import("mailauth/lib/tools.js"),
    import("mailauth/lib/dkim/header/relaxed.js"),
    import("mailauth/lib/dkim/body/relaxed.js"),
  ]).then(([tools, header, body]) => {
    const t = (tools.default ?? tools) as Record<string, unknown>;
    const h = (header.default ?? header) as Record<string, unknown>;
    const b = (body.default ?? body) as Record<string, unknown>;
    return {
      parseHeaders: t.parseHeaders,
      getSigningHeaderLines: t.getSigningHeaderLines,
      formatSignatureHeaderLine: t.formatSignatureHeaderLine,
      relaxedHeaders: h.relaxedHeaders,
      RelaxedHash: b.RelaxedHash,
    } as MailauthParts;
  });
}
