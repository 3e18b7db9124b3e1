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
import net from "node:net";
import tls from "node:tls";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { abortedReply, describe, flattenReply, remoteMtaName, setupReply, tlsFailureOf } from "./replies.ts";
import { unsupported } from "./smtp_extensions.ts";
import { answeredAll, type SessionMessage, type SessionOutcome, transaction } from "./smtp_transaction.ts";
import type { ConnectionCache, ParkedConnection } from "./connection_cache.ts";
import { boundReplies, type SmtpTimeouts } from "./smtp_timeouts.ts";

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
  /** Where a session that ended well parks its connection, and where an earlier one is taken from. */
  cache?: ConnectionCache;
}

export type { SessionMessage, SessionOutcome } from "./smtp_transaction.ts";

/** Runs one session, on a cached connection when there is a live one; never throws. */
export async function smtpSession(options: SessionOptions, mail: SessionMessage): Promise<SessionOutcome> {
  if (options.cache && !options.signal?.aborted) {
    const reused = await onCachedConnection(options.cache, options, mail);
    if (reused) return reused;
  }
  return await freshSession(options, mail);
}

/**
 * The transaction on a parked connection of the same setup: RSET proves it alive (a server may have
 * closed it meanwhile; then the next parked one, or none); undefined when none was usable. With
 * PIPELINING the RSET goes in the envelope's write (RFC 2920 §3.1 lets it stand anywhere in a group;
 * Postfix's client and KumoMTA pipeline it too), which saves a round trip and a write per message:
 * a transaction that failed before the RSET's 2xx had nothing accepted, so it is tried again on the
 * next connection as a failed RSET was.
 */
async function onCachedConnection(
  cache: ConnectionCache,
  options: SessionOptions,
  mail: SessionMessage,
): Promise<SessionOutcome | undefined> {
  const key = cacheKey(options);
  const remoteMta = remoteMtaName(options.host, options.address);
  for (let parked = cache.take(key); parked; parked = cache.take(key)) {
    const refusal = unsupported(parked.ehlo, mail, remoteMta);
    if (refusal) {
      await cache.park(key, parked);
      return answeredAll(mail, refusal, remoteMta, parked.secure);
    }
    const pipelined = /[ -]PIPELINING\b/im.test(parked.ehlo);
    if (!pipelined && !await reset(parked.conn)) {
      parked.conn.close();
      continue;
    }
    const conn = parked.conn;
    const abort = () => conn._socket ? conn._socket.destroy(new Error("aborted")) : conn.close();
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      let rset: string | undefined;
      const { results, completed } = await transaction(
        conn,
        mail,
        remoteMta,
        pipelined ? () => pipelineReset(conn, (reply) => rset = reply) : undefined,
      );
      if (pipelined && !completed && !rset?.startsWith("2") && !options.signal?.aborted) {
        parked.conn.close();
        continue;
      }
      await settleConnection(
        cache,
        key,
        { ...parked, uses: parked.uses + 1 },
        completed && !options.signal?.aborted,
      );
      return { kind: "answered", results, remoteMta, tls: parked.secure };
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
  }
  return undefined;
}

/** Parks a connection whose transaction completed, else ends it. */
async function settleConnection(
  cache: ConnectionCache | undefined,
  key: string,
  parked: ParkedConnection,
  completed: boolean,
): Promise<void> {
  if (cache && completed) await cache.park(key, parked);
  else await quit(parked.conn, QUIT_WAIT_MS);
}

/** Connections are shared only between sessions of the same address, port, TLS, check, name and login. */
function cacheKey(o: SessionOptions): string {
  return JSON.stringify([
    o.address,
    o.port,
    o.tls,
    o.verify,
    o.host,
    o.ehloName,
    o.auth?.user ?? null,
    o.ca ?? null,
  ]);
}

/** RSET on a parked connection; whether the server answered 250. */
function reset(conn: SMTPConnection): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      conn.reset((error) => resolve(!error));
    } catch {
      resolve(false);
    }
  });
}

/**
 * Writes RSET with its reply handler queued ahead of the envelope's (nodemailer answers replies in
 * order); unlike nodemailer's reset(), its reply leaves the envelope that follows alone.
 */
function pipelineReset(conn: SMTPConnection, replied: (reply: string) => void): void {
  const internals = conn as unknown as {
    _responseActions: ((reply: string) => void)[];
    _sendCommand(command: string): void;
  };
  internals._responseActions.push(replied);
  internals._sendCommand("RSET");
}

/** Runs one session on a new connection; never throws. */
async function freshSession(options: SessionOptions, mail: SessionMessage): Promise<SessionOutcome> {
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
  let parked: ParkedConnection | undefined;
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
    // 5. One transaction for every recipient; a connection whose transaction completed may carry the next.
    const { results, completed } = await transaction(conn, mail, remoteMta);
    if (options.cache && completed && !options.signal?.aborted) {
      parked = { conn, ehlo, secure: secured, uses: 1, openedAt: Date.now() };
    }
    return { kind: "answered", results, remoteMta, tls: secured };
  } finally {
    options.signal?.removeEventListener("abort", abort);
    if (parked) await options.cache!.park(cacheKey(options), parked);
    else await quit(conn, Math.min(options.timeouts.mailMs, QUIT_WAIT_MS));
  }
}

/** The longest wait for the reply to QUIT before the connection is closed anyway. */
const QUIT_WAIT_MS = 5000;

/** Ends a connection: QUIT, a wait of at most 5 s for the server to close, then close. */
export function quitConnection(conn: SMTPConnection): Promise<void> {
  return quit(conn, QUIT_WAIT_MS);
}

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
