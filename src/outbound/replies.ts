/**
 * SMTP replies as the transport records them: a remote server's reply flattened to one line with its
 * enhanced status code (RFC 3463; one is inferred from the class when the server gave none), and the
 * kind of result a reply code means (RFC 5321 §4.2.1: 2xx done, 4xx try again, 5xx give up), and the
 * replies this server writes when there was none to quote (no connection, TLS failed, stopped).
 */
import type { RecipientResult } from "./types.ts";

/**
 * One line from a server's reply: "550-5.1.1 No\r\n550 5.1.1 such user" → "550 5.1.1 No such user".
 * A reply without an enhanced code gets the class's generic one ("451 Busy" → "451 4.0.0 Busy"),
 * so every recorded reply can fill a DSN's Status field. CR, LF and other controls never survive.
 */
export function flattenReply(raw: string): string {
  const lines = raw.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  const code = /^([2-5]\d\d)/.exec(lines[0] ?? "")?.[1];
  if (!code) return sanitize(raw) || "(empty reply)";
  let enhanced: string | undefined;
  const texts = lines.map((line) => {
    let text = line.replace(/^\d{3}[ -]?/, "");
    const match = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)/.exec(text);
    if (match) {
      enhanced ??= match[1];
      text = text.slice(match[0].length);
    }
    return text;
  });
  enhanced ??= `${code[0]}.0.0`;
  return sanitize(`${code} ${enhanced} ${texts.filter((t) => t !== "").join(" ")}`.trimEnd());
}

/** No control characters, no runs of blanks. */
function sanitize(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/\s+/g, " ").trim();
}

/** delivered for 2xx, temporary for 4xx, permanent for 5xx (and anything else unexpected: temporary). */
export function kindOf(reply: string): RecipientResult["kind"] {
  const first = reply.trimStart()[0];
  if (first === "2") return "delivered";
  if (first === "5") return "permanent";
  return "temporary";
}

/** A result from a server's reply. */
export function fromReply(raw: string, remoteMta: string | undefined): RecipientResult {
  const reply = flattenReply(raw);
  return remoteMta ? { reply, kind: kindOf(reply), remoteMta } : { reply, kind: kindOf(reply) };
}

/** "mx.example.net [192.0.2.1]": the form of a DSN's Remote-MTA and Postfix's logs. */
export function remoteMtaName(host: string, address: string): string {
  return host === address ? `[${address}]` : `${host} [${address}]`;
}

/** The reply recorded when the session could not be set up. */
export function setupReply(error: unknown, remoteMta: string): string {
  const e = error as { response?: string; command?: string };
  const failure = tlsFailureOf(error);
  const said = e.response ? `answered ${flattenReply(e.response)}` : describe(error);
  if (failure) return `451 4.7.5 TLS with ${remoteMta} failed (${failure}): ${said}`;
  if (e.response) return `451 4.4.0 ${remoteMta} ${said} to ${e.command ?? "the connection"}`;
  return `451 4.4.2 No usable answer from ${remoteMta}: ${said}`;
}

/**
 * The RFC 8460 §4.3 result type of a TLS failure, or undefined when the failure was not TLS's.
 * nodemailer wraps the TLS error's message, so the kind is read from it.
 */
export function tlsFailureOf(error: unknown): string | undefined {
  const e = error as { code?: string; originalCode?: string; command?: string; message?: string };
  const code = e.originalCode ?? e.code ?? "";
  const message = e.message ?? "";
  const certificate = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_)/.test(code);
  if (e.code !== "ETLS" && !certificate && !/\bTLS\b/.test(message)) return undefined;
  if (e.command === "STARTTLS" && /upgrading connection with STARTTLS/i.test(message)) {
    return "starttls-not-supported";
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || /altname|does not match/i.test(message)) {
    return "certificate-host-mismatch";
  }
  if (code === "CERT_HAS_EXPIRED" || /expired/i.test(message)) return "certificate-expired";
  if (
    /SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code) ||
    /self[- ]signed|unable to (get|verify)|issuer/i.test(message)
  ) {
    return "certificate-not-trusted";
  }
  return "validation-failure";
}

/** A network or library error in a few words. */
export function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e?.code === "ECONNREFUSED") return "connection refused";
  return (e?.message ?? String(error)).replace(/\s+/g, " ").slice(0, 300);
}

/** The reply of recipients whose attempt an AbortSignal stopped. */
export function abortedReply(signal: AbortSignal): string {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
  return `451 4.3.0 Delivery attempt stopped: ${reason}`;
}
