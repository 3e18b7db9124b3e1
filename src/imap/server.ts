/**
 * An IMAP listener: 143 with STARTTLS or 993 with implicit TLS (RFC 8314). It caps sessions in all
 * and per client address (an IPv6 client counted with its /64), takes the certificate for each
 * handshake from the listener's source (files re-read when they change, or the ACME store), and at
 * close ends every session with `* BYE`.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, type SecureContext } from "node:tls";
import { addressKey } from "../http/mod.ts";
import { ImapConnection } from "./connection.ts";
import type { ImapListenerName } from "./metrics.ts";
import type { SessionDeps } from "./session.ts";

/** Where the certificate comes from (the same sources as SMTP's: smtp/tls_files.ts, tls/). */
export interface ImapTlsSource {
  current(): Promise<{ files: { cert: string; key: string }; changed: boolean }>;
}

/** What a listener needs. */
export interface ImapServerOptions {
  hostname: string;
  port: number;
  /** Share the address with other processes (SO_REUSEPORT). */
  reusePort?: boolean;
  /** 993: TLS from the first byte; otherwise 143 with STARTTLS. */
  implicitTls: boolean;
  tls: ImapTlsSource;
  limits: {
    maxConnections: number;
    maxConnectionsPerAddress: number;
    loginTimeoutSeconds: number;
    idleTimeoutSeconds: number;
  };
  deps: SessionDeps;
}

/** A listening IMAP server. */
export interface ImapServer {
  addr: { hostname: string; port: number };
  /** Sessions open now. */
  readonly sessions: number;
  /** Stops accepting and ends every session with `* BYE`. */
  close(): Promise<void>;
}

/** Starts an IMAP listener. */
export async function startImapServer(options: ImapServerOptions): Promise<ImapServer> {
  const { limits, deps } = options;
  const listener: ImapListenerName = options.implicitTls ? "imaps" : "imap";
  const connections = new Set<ImapConnection>();
  const perAddress = new Map<string, number>();
  let context: SecureContext | undefined;
  const secureContext = async () => {
    try {
      const { files, changed } = await options.tls.current();
      if (changed || !context) context = createSecureContext({ cert: files.cert, key: files.key });
    } catch (error) {
      if (!context) throw error;
      // The certificate that worked stays in use; the operator sees why the new one did not.
      deps.log.warn("Cannot re-read the TLS certificate: {error}", { error: String(error) });
    }
    return context;
  };
  // Fails the start at once when the certificate cannot be read.
  await secureContext();

  const accept = (socket: Socket) => {
    const group = addressKey((socket.remoteAddress ?? "").replace(/^::ffff:/, ""));
    const count = (perAddress.get(group) ?? 0) + 1;
    const refusal = connections.size >= limits.maxConnections
      ? "tooManyConnections"
      : count > limits.maxConnectionsPerAddress
      ? "tooManyFromAddress"
      : undefined;
    if (refusal) {
      deps.metrics.refused(refusal);
      // On 143 the client can read why; on 993 nothing is readable before the handshake.
      if (!options.implicitTls) socket.end("* BYE Too many connections; try again later\r\n");
      else socket.destroy();
      setTimeout(() => socket.destroy(), 1000).unref?.();
      return;
    }
    perAddress.set(group, count);
    const connection = new ImapConnection(socket, {
      listener,
      secureContext,
      loginTimeoutMs: limits.loginTimeoutSeconds * 1000,
      idleTimeoutMs: limits.idleTimeoutSeconds * 1000,
      deps,
    });
    connections.add(connection);
    deps.metrics.opened(listener);
    void connection.done.then(() => {
      connections.delete(connection);
      deps.metrics.closed(listener);
      const left = (perAddress.get(group) ?? 1) - 1;
      if (left > 0) perAddress.set(group, left);
      else perAddress.delete(group);
      logSession(deps, connection, listener);
    });
    void connection.start().catch((error) => {
      deps.log.error("IMAP connection failed: {error}", { error });
      connection.close();
    });
  };

  const server: Server = createServer({ noDelay: true }, accept);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // node:net sets SO_REUSEPORT when asked (several processes share the address).
    server.listen(
      { port: options.port, host: options.hostname, reusePort: options.reusePort === true },
      () => {
        server.removeListener("error", reject);
        resolve();
      },
    );
  });
  server.on("error", (error) => deps.log.warn("IMAP server error: {error}", { error: String(error) }));
  const address = server.address();
  const addr = typeof address === "object" && address
    ? { hostname: address.address, port: address.port }
    : { hostname: options.hostname, port: options.port };
  return {
    addr,
    get sessions() {
      return connections.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.session.bye("Server shutting down");
      await Promise.all([...connections].map((c) => c.done));
      await closed;
    },
  };
}

/** One JSON log line per session, without secrets. */
function logSession(deps: SessionDeps, connection: ImapConnection, listener: ImapListenerName): void {
  const { session } = connection;
  deps.log.info("IMAP session from {client} ended", {
    event: "imap.session",
    listener,
    client: connection.client,
    tls: connection.secure,
    account: session.principal?.name,
    mechanism: session.mechanism,
    compressed: session.compressed,
    commands: session.commands,
    errors: session.errors,
    clientId: session.clientId?.name ?? undefined,
    seconds: Math.round((Date.now() - session.started) / 1000),
  });
}
