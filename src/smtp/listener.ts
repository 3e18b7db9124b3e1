/**
 * What every SMTP listener of Postern (the MX, submission on 587 and 465) does around its sessions:
 * the total and per-address session caps, the certificate files re-read for each new session, the
 * bind, and the shutdown that ends idle sessions at once (421 4.3.2) and lets a message being
 * received finish within the grace.
 */
import type { Logger } from "@logtape/logtape";
import type { Socket } from "node:net";
import type { SMTPServer, SMTPServerSession } from "smtp-server";
import { addressKey } from "../http/mod.ts";
import type { ListenerCounters } from "./metrics.ts";
import type { RefusalReason } from "./replies.ts";
import type { TlsSource } from "./tls_files.ts";

/** The sessions of one listener, with their per-address count (an IPv6 client counted with its /64). */
export class SmtpSessions<State> {
  readonly #sessions = new Map<string, State>();
  readonly #perAddress = new Map<string, number>();
  /** Set by close(): new sessions are answered 421 4.3.2. */
  closing = false;

  constructor(
    private readonly metrics: ListenerCounters,
    private readonly maxPerAddress: number,
  ) {}

  /** Counts a new session; the refusal it gets, if any (the caller answers it). */
  open(session: SMTPServerSession, state: State): RefusalReason | "closing" | undefined {
    const group = addressKey(session.remoteAddress);
    const count = (this.#perAddress.get(group) ?? 0) + 1;
    this.#perAddress.set(group, count);
    this.#sessions.set(session.id, state);
    this.metrics.connectionsTotal++;
    this.metrics.connections++;
    if (this.closing) return "closing";
    return count > this.maxPerAddress ? "tooManyConnections" : undefined;
  }

  /** The state of an open session. */
  get(session: SMTPServerSession | string): State | undefined {
    return this.#sessions.get(typeof session === "string" ? session : session.id);
  }

  /** Forgets a closed session. */
  close(session: SMTPServerSession): void {
    if (!this.#sessions.delete(session.id)) return;
    this.metrics.connections--;
    const group = addressKey(session.remoteAddress);
    const count = (this.#perAddress.get(group) ?? 1) - 1;
    if (count > 0) this.#perAddress.set(group, count);
    else this.#perAddress.delete(group);
  }
}

/** Gives the server the certificate files if they changed since the last session. */
export async function refreshTls(server: SMTPServer, tls: TlsSource, log: Logger): Promise<void> {
  try {
    const { files, changed } = await tls.current();
    if (changed) server.updateSecureContext({ key: files.key, cert: files.cert });
  } catch (error) {
    // The files that worked at start stay in use; the operator sees why the new ones did not.
    log.warn("Cannot re-read the TLS certificate files: {error}", { error: String(error) });
  }
}

/**
 * Re-reads the certificate for each connection of an implicit-TLS listener before its handshake
 * starts. smtp-server begins the handshake as the TCP connection is accepted, with the context it
 * holds then, and a client that sends no server name (SNI) gets no callback in which to change it:
 * without this, the first such client after a renewal got the old certificate. The listener must be
 * made with `pauseOnConnect`, so the ClientHello waits in the socket, unread, for the refresh. (This
 * replaces a refresh in the SNICallback, which Node calls only for a client that sends a name.)
 */
export function refreshBeforeHandshake(server: SMTPServer, tls: TlsSource, log: Logger): void {
  const listener = server.server;
  const accept = listener.listeners("connection") as ((socket: Socket) => void)[];
  listener.removeAllListeners("connection");
  listener.on("connection", (socket: Socket) => {
    void refreshTls(server, tls, log).finally(() => {
      for (const handle of accept) handle.call(listener, socket);
    });
  });
}

/** The connection object of a session (to answer outside a command, e.g. at the DATA timeout). */
// deno-lint-ignore no-explicit-any
export function connectionOf(server: SMTPServer, session: SMTPServerSession): any {
  // deno-lint-ignore no-explicit-any
  return [...(server.connections as Set<any>)].find((c) => c.id === session.id);
}

/** Binds the server; the address it listens on. */
export async function listenSmtp(
  server: SMTPServer,
  where: { hostname: string; port: number; reusePort?: boolean },
  log: Logger,
): Promise<{ hostname: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.on("error", reject);
    // smtp-server passes the options on to node:net, which sets SO_REUSEPORT (several processes).
    const options = { port: where.port, host: where.hostname, reusePort: where.reusePort === true };
    server.listen(options as unknown as number, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => log.warn("SMTP server error: {error}", { error: String(error) }));
  const address = server.server.address();
  return typeof address === "object" && address
    ? { hostname: address.address, port: address.port }
    : { hostname: where.hostname, port: where.port };
}

/**
 * Stops accepting, ends idle sessions at once (421 4.3.2) and lets a session that `busy` names
 * finish within `graceMs`; then ends the rest.
 */
export async function closeSmtp(
  server: SMTPServer,
  graceMs: number,
  busy: (sessionId: string) => boolean,
): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.options.closeTimeout = Math.max(1, graceMs);
    server.close(() => resolve());
  });
  // deno-lint-ignore no-explicit-any
  for (const connection of server.connections as Set<any>) {
    if (!busy(connection.id)) connection.send(421, "4.3.2 Shutting down, try again later");
  }
  await closed;
}
