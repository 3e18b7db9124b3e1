/**
 * The waits of an outbound SMTP session (RFC 5321 §4.5.3.2) and how each reply's wait is bounded by
 * the command it answers (nodemailer's SMTPConnection has one idle timeout for the whole socket).
 */
import { Buffer } from "node:buffer";
import type SMTPConnection from "nodemailer/lib/smtp-connection";

/** Waits of a session (RFC 5321 §4.5.3.2; connect is not in the RFC: 30 s as Postfix's smtp_connect_timeout). */
export interface SmtpTimeouts {
  connectMs: number;
  /** The 220 greeting (5 min); also bounds EHLO and the STARTTLS handshake. */
  greetingMs: number;
  /** The reply to MAIL FROM (5 min), also to EHLO, AUTH, RSET and QUIT. */
  mailMs: number;
  /** The reply to each RCPT TO (5 min). */
  rcptMs: number;
  /** The 354 to DATA (2 min). */
  dataInitMs: number;
  /** Each block of the message being sent (3 min). */
  dataBlockMs: number;
  /** The reply to the final "." (10 min). */
  endOfDataMs: number;
}

/** RFC 5321 §4.5.3.2's minimums. */
export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectMs: 30_000,
  greetingMs: 300_000,
  mailMs: 300_000,
  rcptMs: 300_000,
  dataInitMs: 120_000,
  dataBlockMs: 180_000,
  endOfDataMs: 600_000,
};

/**
 * Bounds each wait by the command waited for: the socket's idle timeout (which nodemailer turns into
 * an ETIMEDOUT) is set from what is written. Commands written together (PIPELINING) wait for the
 * longest of theirs; a reply starts a new batch.
 */
export function boundReplies(conn: SMTPConnection, timeouts: SmtpTimeouts): void {
  const socket = conn._socket;
  if (!socket) return;
  let batch = 0;
  socket.on("data", () => batch = 0);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    const wait = waitAfter(typeof chunk === "string" ? chunk : ends(chunk as Uint8Array), timeouts);
    batch = Math.max(batch, wait);
    socket.setTimeout(batch);
    if (wait === timeouts.dataBlockMs && !corked) {
      // The message and the final "." (written apart by nodemailer, a tick later) leave in one
      // write instead of two: each write to a socket is a system call and a segment.
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write(chunk, ...rest);
  }) as typeof socket.write;
}

/** What waitAfter reads of a chunk: its first 5 and last 4 bytes (all of a short one), not 10 KB of text. */
function ends(chunk: Uint8Array): string {
  const latin1 = (bytes: Uint8Array) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  return chunk.length <= 16 ? latin1(chunk) : latin1(chunk.subarray(0, 5)) + latin1(chunk.subarray(-4));
}

/** The wait after writing `text`. */
function waitAfter(text: string, t: SmtpTimeouts): number {
  const command = text.slice(0, 5).toUpperCase();
  if (command === "RCPT ") return t.rcptMs;
  if (command === "DATA\r") return t.dataInitMs;
  // The end of data: nodemailer writes the final "." alone; a dot-stuffed line never ends "\n.\r\n".
  if (text === ".\r\n" || text.endsWith("\n.\r\n")) return t.endOfDataMs;
  if (/^(MAIL |EHLO |HELO |AUTH |RSET\r|QUIT\r|NOOP\r)/.test(text.slice(0, 5).toUpperCase())) return t.mailMs;
  return t.dataBlockMs;
}
