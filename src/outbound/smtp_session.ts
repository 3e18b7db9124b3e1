/**
 * One SMTP session with one address of one host: connect, greeting, EHLO, STARTTLS, AUTH, one
 * transaction for every recipient, QUIT. Read in order: the options, `smtpSession` (the steps),
 * then the helpers that turn nodemailer's callbacks and errors into results.
 *
 * The client is nodemailer's SMTPConnection (npm:nodemailer, already used for the smarthost): it is
 * maintained, speaks PIPELINING, STARTTLS, AUTH PLAIN/LOGIN/CRAM-MD5, SIZE, 8BITMIME, SMTPUTF8 and
 * DSN, and — unlike nodemailer's transports — reports each RCPT's own reply, which is what a queue
 * needs to retry one recipient and bounce another. What it lacks is done here: the TCP connection is
 * opened by this code (so "connect" and "greeting" get their own RFC 5321 §4.5.3.2 timeouts, and an
 * AbortSignal can stop it), the wait for each later reply is bounded per command (see
 * `boundReplies`), and the SIZE/SMTPUTF8/8BITMIME decisions are taken before anything is sent.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import tls from "node:tls";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { RecipientResult } from "./types.ts";
import {
  abortedReply,
  describe,
  flattenReply,
  fromReply,
  remoteMtaName,
  setupReply,
  tlsFailureOf,
} from "./replies.ts";
import { hasEightBit, unsupported } from "./smtp_extensions.ts";

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
 * How TLS is used. opportunistic: STARTTLS when offered, certificate not checked, plain text if the
 * server refuses it; plain: no TLS (the retry after a failed opportunistic handshake); starttls:
 * STARTTLS required; implicit: TLS from the first byte (port 465).
 */
export type SessionTls = "opportunistic" | "plain" | "starttls" | "implicit";

/** One session's parameters. */
export interface SessionOptions {
  /** The host's name: SNI, the certificate check and the Remote-MTA. */
  host: string;
  address: string;
  port: number;
  tls: SessionTls;
  /** Check the certificate against `host` (starttls/implicit only). */
  verify: boolean;
  /** Extra trusted CA certificates (PEM), besides the system's. */
  ca?: string[];
  ehloName: string;
  auth?: { user: string; pass: string };
  timeouts: SmtpTimeouts;
  signal?: AbortSignal;
}

/** What the transaction should carry. */
export interface SessionMessage {
  mailFrom: string;
  recipients: string[];
  message: Uint8Array;
  envelopeId?: string;
  dsnReturn?: "FULL" | "HDRS";
}

/**
 * unusable: no transaction was possible with this address (no connection, no or a bad greeting, TLS
 * failed); the next address or host is tried. answered: each recipient's result from this server.
 */
export type SessionOutcome =
  | { kind: "unusable"; reply: string; remoteMta: string; tlsFailure?: string; aborted?: boolean }
  | { kind: "answered"; results: Record<string, RecipientResult>; remoteMta: string; tls: boolean };

/** Runs one session; never throws. */
export async function smtpSession(options: SessionOptions, mail: SessionMessage): Promise<SessionOutcome> {
  const remoteMta = remoteMtaName(options.host, options.address);
  const unusable = (
    reply: string,
    extra: { tlsFailure?: string; aborted?: boolean } = {},
  ): SessionOutcome => ({
    kind: "unusable",
    reply,
    remoteMta,
    ...extra,
  });
  if (options.signal?.aborted) return unusable(abortedReply(options.signal), { aborted: true });
  // 1. The TCP connection, bounded by connectMs.
  let socket: net.Socket;
  try {
    socket = await openSocket(options);
  } catch (error) {
    if (options.signal?.aborted) return unusable(abortedReply(options.signal), { aborted: true });
    return unusable(`451 4.4.1 No answer from ${remoteMta}: ${describe(error)}`);
  }
  // 2. Greeting, EHLO, STARTTLS: nodemailer bounds the whole setup by connectionTimeout.
  const verifying = options.verify && options.tls !== "opportunistic" && options.tls !== "plain";
  // SNI and the certificate check use the host name; an address literal (a relay) has no SNI (RFC 6066 §3).
  const sni = net.isIP(options.host) ? undefined : options.host;
  const conn = new SMTPConnection({
    connection: socket,
    host: options.address,
    port: options.port,
    ...(sni ? { servername: sni } : {}),
    secure: options.tls === "implicit",
    requireTLS: options.tls === "starttls",
    ignoreTLS: options.tls === "plain",
    opportunisticTLS: options.tls === "opportunistic",
    name: options.ehloName,
    connectionTimeout: options.timeouts.greetingMs + options.timeouts.mailMs,
    greetingTimeout: options.timeouts.greetingMs,
    socketTimeout: options.timeouts.mailMs,
    socketCloseTimeout: 1000,
    tls: {
      rejectUnauthorized: verifying,
      ...(sni ? { servername: sni } : {}),
      // node's `ca` replaces the default roots: extra CAs are added to them, not put in their place.
      ...(options.ca ? { ca: [...tls.rootCertificates, ...options.ca] } : {}),
    },
    logger: false,
  });
  conn.on("error", () => {/* every error also reaches the pending callback */});
  // Destroying the socket with an error (not conn.close(), which drops the pending callbacks) makes
  // nodemailer fail whatever waits, so the session ends at once.
  const abort = () => {
    if (conn._socket) conn._socket.destroy(new Error("aborted"));
    else conn.close();
  };
  options.signal?.addEventListener("abort", abort, { once: true });
  try {
    try {
      await connect(conn);
    } catch (error) {
      if (options.signal?.aborted) return unusable(abortedReply(options.signal), { aborted: true });
      return unusable(setupReply(error, remoteMta), { tlsFailure: tlsFailureOf(error) });
    }
    const secured = conn.secure;
    boundReplies(conn, options.timeouts);
    const ehlo = String(conn.lastServerResponse || "");
    // 3. AUTH (relays).
    if (options.auth) {
      try {
        await login(conn, options.auth);
      } catch (error) {
        const e = error as { response?: string };
        const why = e.response ? flattenReply(e.response) : describe(error);
        return answeredAll(
          mail,
          `454 4.7.0 Authentication with ${remoteMta} failed: ${why}`,
          remoteMta,
          secured,
        );
      }
    }
    // 4. What the message needs that the server may lack: refused before anything is sent.
    const refusal = unsupported(ehlo, mail, remoteMta);
    if (refusal) return answeredAll(mail, refusal, remoteMta, secured);
    // 5. One transaction for every recipient.
    return { kind: "answered", results: await transaction(conn, mail, remoteMta), remoteMta, tls: secured };
  } finally {
    options.signal?.removeEventListener("abort", abort);
    await quit(conn, Math.min(options.timeouts.mailMs, QUIT_WAIT_MS));
  }
}

/** The longest wait for the reply to QUIT before the connection is closed anyway. */
const QUIT_WAIT_MS = 5000;

/** Sends QUIT and waits (at most `waitMs`) for the server to answer and close (RFC 5321 §4.1.1.10). */
async function quit(conn: SMTPConnection, waitMs: number): Promise<void> {
  if (conn.destroyed) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = new Promise<void>((resolve) => {
    conn.once("end", resolve);
    timer = setTimeout(resolve, waitMs);
  });
  try {
    conn.quit();
  } catch { /* the socket is gone already */ }
  await ended;
  clearTimeout(timer);
  conn.close();
}

/** Connects to the address, within connectMs; an abort ends the attempt. */
function openSocket(options: SessionOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.address, port: options.port });
    const fail = (error: unknown) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(new Error("aborted"));
    const timer = setTimeout(
      () => fail(new Error(`connection timed out after ${options.timeouts.connectMs} ms`)),
      options.timeouts.connectMs,
    );
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", fail);
    socket.once("connect", () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.removeListener("error", fail);
      resolve(socket);
    });
  });
}

/** Greeting, EHLO and STARTTLS; rejects with nodemailer's error. */
function connect(conn: SMTPConnection): Promise<void> {
  let onError: (error: unknown) => void = () => {};
  let onEnd = () => {};
  return new Promise<void>((resolve, reject) => {
    onError = reject;
    onEnd = () => reject(new Error("the server closed the connection"));
    conn.once("error", onError);
    conn.once("end", onEnd);
    conn.connect((error) => error ? reject(error) : resolve());
  }).finally(() => {
    conn.removeListener("error", onError);
    conn.removeListener("end", onEnd);
  });
}

function login(conn: SMTPConnection, auth: { user: string; pass: string }): Promise<void> {
  return new Promise((resolve, reject) => conn.login(auth, (error) => error ? reject(error) : resolve()));
}

/**
 * Bounds each wait by the command waited for: the socket's idle timeout (which nodemailer turns into
 * an ETIMEDOUT) is set from what is written. Commands written together (PIPELINING) wait for the
 * longest of theirs; a reply starts a new batch.
 */
function boundReplies(conn: SMTPConnection, timeouts: SmtpTimeouts): void {
  const socket = conn._socket;
  if (!socket) return;
  let batch = 0;
  socket.on("data", () => batch = 0);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("latin1");
    batch = Math.max(batch, waitAfter(text, timeouts));
    socket.setTimeout(batch);
    return write(chunk, ...rest);
  }) as typeof socket.write;
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

/** The fields of nodemailer's envelope read after a failed send (who was accepted, who refused). */
interface EnvelopeState {
  accepted?: string[];
  rejectedErrors?: { recipient?: string; response?: string }[];
}

/** MAIL, RCPT ×n, DATA, the message: each recipient's result. */
async function transaction(
  conn: SMTPConnection,
  mail: SessionMessage,
  remoteMta: string,
): Promise<Record<string, RecipientResult>> {
  const message = Buffer.from(mail.message.buffer, mail.message.byteOffset, mail.message.length);
  const dsn = mail.envelopeId || mail.dsnReturn ? { envid: mail.envelopeId, ret: mail.dsnReturn } : undefined;
  const refused = new Map<string, string>();
  try {
    const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
      conn.send(
        {
          from: mail.mailFrom,
          to: mail.recipients,
          size: mail.message.length,
          use8BitMime: hasEightBit(mail.message),
          ...(dsn ? { dsn } : {}),
        },
        message,
        (error, info) => error ? reject(error) : resolve(info!),
      )
    );
    for (const e of info.rejectedErrors ?? []) refused.set(e.recipient ?? "", e.response ?? "");
    return Object.fromEntries(mail.recipients.map((r) => [
      r,
      fromReply(refused.has(r) ? refused.get(r)! : info.response, remoteMta),
    ]));
  } catch (error) {
    const e = error as {
      response?: string;
      command?: string;
      rejectedErrors?: EnvelopeState["rejectedErrors"];
    };
    // nodemailer keeps the envelope's progress on the connection (internal, stable across 10.x).
    const state = (conn as unknown as { _envelope?: EnvelopeState })._envelope ?? {};
    for (const r of e.rejectedErrors ?? state.rejectedErrors ?? []) {
      refused.set(r.recipient ?? "", r.response ?? "");
    }
    const fallback = e.response
      ? e.response
      : `451 4.4.2 Connection with ${remoteMta} lost${
        e.command && e.command !== "CONN" ? ` after ${e.command}` : ""
      }: ${describe(error)}`;
    return Object.fromEntries(mail.recipients.map((r) => [
      r,
      fromReply(e.command !== "MAIL FROM" && refused.has(r) ? refused.get(r)! : fallback, remoteMta),
    ]));
  }
}

/** Every recipient gets `reply` from this server. */
function answeredAll(mail: SessionMessage, reply: string, remoteMta: string, tls: boolean): SessionOutcome {
  const results = Object.fromEntries(mail.recipients.map((r) => [r, fromReply(reply, remoteMta)]));
  return { kind: "answered", results, remoteMta, tls };
}
