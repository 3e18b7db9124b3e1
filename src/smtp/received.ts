/**
 * The `Received:` trace header field (RFC 5321 §4.4) the MX adds, built so that nothing the client
 * chose (its HELO name, its address) can end the line or add a field: every value is reduced to
 * printable ASCII without spaces or parentheses before it is placed.
 */

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
  recipient: string;
  date: Date;
}

/** The complete `Received:` field with its CRLF. */
export function receivedHeader(input: TraceInput): string {
  const tls = input.tls
    ? `\r\n\t(using ${token(input.tls.version)} with cipher ${token(input.tls.cipher)})`
    : "";
  return `Received: from ${token(input.helo) || "unknown"} ([${token(input.remoteAddress)}])\r\n` +
    `\tby ${token(input.hostname)} (Postern) with ${token(input.protocol)}${tls}\r\n` +
    `\tid ${token(input.id)}\r\n\tfor <${token(input.recipient)}>; ${rfc5322Date(input.date)}\r\n`;
}

/** A value as one atom: printable ASCII only, no space, parenthesis, angle bracket or semicolon. */
function token(value: string): string {
  return value.replace(/[^\x21-\x7e]|[()<>;\\]/g, "?").slice(0, 255);
}

/** RFC 5322 §3.3 date-time in UTC. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}
