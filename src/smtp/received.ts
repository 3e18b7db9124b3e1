/**
 * The `Received:` trace header field (RFC 5321 §4.4) the MX and submission add, built so that nothing the client
 * chose (its HELO name, its address) can end the line or add a field: every value is reduced to
 * printable ASCII without spaces or parentheses before it is placed.
 */
import type { SMTPServerSession } from "smtp-server";

/** What the trace of one message says. */
export interface TraceInput {
  /** The HELO/EHLO argument as the client gave it. */
  helo: string;
  remoteAddress: string;
  /** This server's name. */
  hostname: string;
  /** RFC 3848 "with" keyword: SMTP, ESMTP, ESMTPS, UTF8SMTP… */
  protocol: string;
  /** TLS version and cipher when the session was encrypted. */
  tls?: { version: string; cipher: string };
  id: string;
  /**
   * The one envelope recipient, as the MX writes it. Submission leaves it out: its one message goes
   * to every recipient, and naming one would show a Bcc recipient to the others.
   */
  recipient?: string;
  date: Date;
}

/** The complete `Received:` field with its CRLF. */
export function receivedHeader(input: TraceInput): string {
  const tls = input.tls
    ? `\r\n\t(using ${token(input.tls.version)} with cipher ${token(input.tls.cipher)})`
    : "";
  return `Received: from ${token(input.helo) || "unknown"} ([${token(input.remoteAddress)}])\r\n` +
    `\tby ${token(input.hostname)} (Postern) with ${token(input.protocol)}${tls}\r\n` +
    `\tid ${token(input.id)}${input.recipient === undefined ? "" : `\r\n\tfor <${token(input.recipient)}>`}` +
    `; ${rfc5322Date(input.date)}\r\n`;
}

/** A value as one atom: printable ASCII only, no space, parenthesis, angle bracket or semicolon. */
function token(value: string): string {
  return value.replace(/[^\x21-\x7e]|[()<>;\\]/g, "?").slice(0, 255);
}

/** RFC 5322 §3.3 date-time in UTC. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

/** What the `with` keyword of a session depends on. */
export interface SessionKind {
  /** Whether the client opened with EHLO (not HELO). */
  ehlo: boolean;
  tls: boolean;
  authenticated: boolean;
  /** Whether the transaction asked for SMTPUTF8 (RFC 6531). */
  utf8: boolean;
}

/** The `with` keyword of RFC 3848 (ESMTPSA…) or, for an SMTPUTF8 transaction, RFC 6531 §3.7.3. */
export function protocolKeyword(kind: SessionKind): string {
  const base = kind.utf8 ? "UTF8SMTP" : kind.ehlo ? "ESMTP" : "SMTP";
  return base + (kind.tls ? "S" : "") + (kind.authenticated ? "A" : "");
}

/**
 * The `Received:` field of a message received in `session` (MX or submission): the client's HELO name
 * and address, the session's `with` keyword and TLS, never the account it authenticated as.
 */
export function sessionReceivedHeader(
  session: SMTPServerSession,
  trace: Pick<TraceInput, "hostname" | "id" | "recipient" | "date"> & { authenticated: boolean },
): string {
  return receivedHeader({
    helo: session.hostNameAppearsAs ?? "",
    remoteAddress: session.remoteAddress,
    hostname: trace.hostname,
    // smtp-server's own keyword says ESMTPS for an SMTPUTF8 transaction too.
    protocol: protocolKeyword({
      ehlo: session.openingCommand === "EHLO",
      tls: Boolean(session.secure),
      authenticated: trace.authenticated,
      utf8: Boolean(session.envelope.smtpUtf8),
    }),
    tls: session.tlsOptions
      ? { version: session.tlsOptions.version, cipher: session.tlsOptions.name }
      : undefined,
    id: trace.id,
    recipient: trace.recipient,
    date: trace.date,
  });
}
