/**
 * The public listener of `postern serve`: an accept loop in JS in front of Deno.serve.
 *
 * Deno.serve (2.9.6) has no connection hooks — no header or idle timeout, no count per client — and
 * its accept loop ends at the first EMFILE. Serving each accepted connection with Deno's internal
 * per-connection server loses every WebSocket after its 101, and node:http is slower and cannot
 * upgrade WebSockets (compared in the commits adding http/server_loop.ts and this file). So
 * Postern accepts TCP itself and:
 *
 * - refuses a connection over the overall or per-address cap with a complete 503 (problem+json,
 *   `Retry-After`, `Connection: close`) — trusted proxies are exempt from the per-address cap;
 * - closes a connection that has not sent a complete request head within the header timeout of
 *   opening, or of the first byte of a later request on it (slowloris), and one with no byte either
 *   way for the idle timeout — except event streams and WebSockets, which are idle by nature;
 * - survives accept errors (EMFILE, ENFILE): logs once per burst, sheds idle connections, backs off
 *   from 100 ms doubling to 5 s, and keeps serving;
 * - lets an optional intercept read a new connection first (HTTPS: ACME TLS-ALPN-01 answers, which
 *   Deno's TLS cannot give) and forward what it read, or answer and close;
 * - copies the bytes of each admitted connection to Deno.serve listening on 127.0.0.1, port 0.
 *
 * The handler still sees the real client: the front notes the local port of each of its loopback
 * connections, and {@link ConnectionFront.handler} replaces `info.remoteAddr` by the client's address.
 * A request that reaches the internal port from elsewhere comes from a local process and keeps its
 * own (loopback) address. Knowing which connection a request came on also tells the front when the
 * first request head was complete (the handler is called) and which connections carry an event
 * stream or a WebSocket (the handler's response), without parsing HTTP in the copy loop.
 */
import type { Logger } from "@logtape/logtape";
import { addressKey, type ConnectionLimits, ConnectionStats, refuser } from "./connection_limits.ts";
import { type ServerLoop, serveWithRecovery } from "./server_loop.ts";

type Handler = (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

/** Where the front listens and what it enforces. */
export interface FrontOptions extends ConnectionLimits {
  hostname: string;
  port: number;
  log: Logger;
  /** Addresses exempt from the per-address cap (trusted reverse proxies). */
  exempt?: string[];
  /** The public listener, bound already (the server checks its address before its first start). */
  listener?: Deno.TcpListener;
  /** Called once, when the public listener is bound. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Longest back-off after accept errors (default 5 s). */
  maxBackoffMs?: number;
  /** Counters for /metrics (a new set when absent). */
  stats?: ConnectionStats;
  /**
   * HTTPS: the certificate to start with and where to look for a newer one before each connection
   * (a renewed certificate is served by a new internal server; the old one finishes its requests).
   */
  tls?: { files: TlsFiles; source: { current(): Promise<{ files: TlsFiles; changed: boolean }> } };
  /**
   * Reads a new connection first (under the header timeout): null when it answered the connection
   * itself (then it is closed), else the bytes it read, forwarded ahead of the rest (ACME
   * TLS-ALPN-01, see tls/alpn/).
   */
  intercept?: (client: Deno.TcpConn) => Promise<Uint8Array | null>;
}

/** A PEM certificate chain and its key. */
interface TlsFiles {
  cert: string;
  key: string;
}

/** Bytes read from a socket at once (per direction; a pending read holds its buffer). */
const CHUNK_BYTES = 16 * 1024;
/** At shutdown, how long answers already produced may take to reach their clients. */
const SHUTDOWN_DRAIN_MS = 2_000;
/** A burst of accept errors is over after this long without one (then a summary is logged). */
const ACCEPT_BURST_QUIET_MS = 10_000;

/** The handler's view of a request that came through the front: the client's own address. */
class ClientInfo implements Deno.ServeHandlerInfo<Deno.NetAddr> {
  constructor(readonly remoteAddr: Deno.NetAddr, private readonly hop: Deno.ServeHandlerInfo) {}

  get completed(): Promise<void> {
    return this.hop.completed;
  }
}

/** One admitted client connection and its loopback hop. */
class Connection {
  /** A byte moved since the last sweep. */
  active = true;
  lastActive: number;
  /**
   * Since when the connection has been waiting for a request head (0: not waiting): from its opening,
   * and again from the first byte the client sends while no request is in the handler. The handler's
   * call for the request ends the wait; a wait longer than the header timeout closes the connection.
   */
  waitingSince: number;
  /** Requests in the handler (head received, response not yet returned). */
  inFlight = 0;
  /** Upgraded to a WebSocket: exempt from the idle timeout to its end. */
  upgraded = false;
  /** Event streams being sent on it: exempt from the idle timeout while one is. */
  eventStreams = 0;
  closed = false;
  upstream?: Deno.TcpConn;
  /** Settles when both directions have been copied to their end. */
  copied?: Promise<unknown>;
  readonly remoteAddr: Deno.NetAddr;

  constructor(readonly client: Deno.TcpConn, readonly key: string, readonly opened: number) {
    this.lastActive = opened;
    this.waitingSince = opened;
    this.remoteAddr = client.remoteAddr;
  }

  /** Idle by nature (events come when they come): not subject to the idle or header timeout. */
  get streaming(): boolean {
    return this.upgraded || this.eventStreams > 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.client.close();
    } catch { /* already closed */ }
    try {
      this.upstream?.close();
    } catch { /* already closed */ }
  }
}

/** The running front: the public address, the internal server, and shutdown. */
export interface ConnectionFront extends ServerLoop {
  /** Connections held now (for tests and metrics). */
  readonly connections: number;
  /** The internal server, which a process on this machine reaches directly (no connection limits). */
  readonly internalUrl: string;
}

/** Starts the internal server with `handler` and the public listener in front of it. */
export function serveBehindFront(options: FrontOptions, handler: Handler): ConnectionFront {
  const log = options.log;
  const exempt = new Set(options.exempt ?? []);
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const open = new Set<Connection>();
  const stats = options.stats ?? new ConnectionStats();
  const perKey = new Map<string, number>();
  /** Local port of a loopback hop → its connection. */
  const byPort = new Map<number, Connection>();
  const refuse = refuser();
  let stopping = false;

  const wrapped: Handler = (request, info) => {
    const remote = info.remoteAddr as Deno.NetAddr;
    const conn = byPort.get(remote.port);
    if (conn === undefined || remote.hostname !== "127.0.0.1") return handler(request, info);
    conn.waitingSince = 0;
    conn.inFlight++;
    const seen = (response: Response) => {
      conn.inFlight--;
      if (response.status === 101) {
        conn.upgraded = true;
      } else if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
        // Until the stream ends; then the connection is an ordinary keep-alive one again.
        conn.eventStreams++;
        const ended = () => void conn.eventStreams--;
        info.completed.then(ended, ended);
      }
      return response;
    };
    const done = () => void conn.inFlight--;
    const result = handler(request, new ClientInfo(conn.remoteAddr, info));
    if (result instanceof Response) return seen(result);
    return result.then(seen, (error) => {
      done();
      throw error;
    });
  };

  const internalServer = (tls: TlsFiles | undefined) =>
    serveWithRecovery({ hostname: "127.0.0.1", port: 0, log, tls }, wrapped);
  let internal = internalServer(options.tls?.files);
  let internalPort = internal.addr.port;
  const retired = new Set<Promise<void>>();
  let tlsWarned = 0;
  // A new certificate: new connections go to a new internal server; the old one stops accepting,
  // finishes the requests it has and closes its idle connections (their clients reconnect).
  const refreshTls = async () => {
    if (!options.tls) return;
    try {
      const { files, changed } = await options.tls.source.current();
      if (!changed || stopping) return;
      const old = internal;
      internal = internalServer(files);
      internalPort = internal.addr.port;
      const done = old.shutdown().catch(() => undefined).finally(() => retired.delete(done));
      retired.add(done);
    } catch (error) {
      // The certificate in use stays; said once a minute at most (each connection asks).
      if (Date.now() - tlsWarned < 60_000) return;
      tlsWarned = Date.now();
      log.warn("Cannot load the new TLS certificate, the current one stays in use: {error}", {
        error: String(error),
      });
    }
  };
  const listener = options.listener ??
    Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  options.onListen?.(addr);

  const release = (conn: Connection) => {
    if (!open.delete(conn)) return;
    stats.open = open.size;
    conn.close();
    const left = (perKey.get(conn.key) ?? 1) - 1;
    if (left > 0) perKey.set(conn.key, left);
    else perKey.delete(conn.key);
    const port = conn.upstream?.localAddr.port;
    if (port !== undefined && byPort.get(port) === conn) byPort.delete(port);
  };

  // Timeouts are checked by one sweep rather than a timer per connection (and per byte); `now` is
  // the time of the last sweep.
  let now = Date.now();

  const pump = async (from: Deno.TcpConn, to: Deno.TcpConn, conn: Connection, fromClient: boolean) => {
    // A read/write loop: faster here than readable.pipeTo(writable), with no stream machinery per chunk.
    const buffer = new Uint8Array(CHUNK_BYTES);
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      conn.active = true;
      // A client's bytes with no request in the handler begin a request head (or a WebSocket frame).
      if (fromClient && conn.inFlight === 0 && conn.waitingSince === 0 && !conn.streaming) {
        conn.waitingSince = Date.now();
      }
      let written = 0;
      while (written < n) written += await to.write(buffer.subarray(written, n));
    }
    await to.closeWrite();
  };

  const admit = async (client: Deno.TcpConn) => {
    const remote = client.remoteAddr;
    const key = addressKey(remote.hostname);
    if (open.size >= options.maxConnections) {
      stats.refusedOverall++;
      return void refuse(client, "The server holds too many connections; retry shortly");
    }
    const count = perKey.get(key) ?? 0;
    if (count >= options.maxConnectionsPerAddress && !exempt.has(remote.hostname)) {
      stats.refusedPerAddress++;
      return void refuse(client, "Too many connections from your address; close some and retry");
    }
    const conn = new Connection(client, key, Date.now());
    open.add(conn);
    stats.open = open.size;
    perKey.set(key, count + 1);
    let first: Uint8Array | null = null;
    try {
      client.setNoDelay(true);
      if (options.intercept) {
        first = await options.intercept(client);
        if (first === null) return release(conn);
      }
      await refreshTls();
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: internalPort, transport: "tcp" });
      if (conn.closed) {
        // Released while connecting (a timeout, or shed after an accept error).
        upstream.close();
        return;
      }
      conn.upstream = upstream;
      upstream.setNoDelay(true);
      byPort.set(upstream.localAddr.port, conn);
      for (let at = 0; first && at < first.length;) at += await upstream.write(first.subarray(at));
    } catch (error) {
      // Out of descriptors for the hop (the accept loop's back-off handles the burst), or the
      // client left while intercepted.
      log.debug("Connecting to the internal server failed: {error}", { error: String(error) });
      return release(conn);
    }
    const upstream = conn.upstream;
    let ended = 0;
    const end = () => {
      if (++ended === 2) release(conn);
    };
    conn.copied = Promise.all([
      pump(client, upstream, conn, true).then(end, () => release(conn)),
      pump(upstream, client, conn, false).then(end, () => release(conn)),
    ]);
  };

  const sweepMs = Math.min(
    1_000,
    Math.max(100, Math.min(options.headerTimeoutMs, options.idleTimeoutMs) / 4),
  );
  const sweeper = setInterval(() => {
    now = Date.now();
    for (const conn of open) {
      if (conn.active) {
        conn.active = false;
        conn.lastActive = now;
      } else if (!conn.streaming && now - conn.lastActive >= options.idleTimeoutMs) {
        stats.idleTimeouts++;
        release(conn);
        continue;
      }
      if (conn.waitingSince !== 0 && now - conn.waitingSince >= options.headerTimeoutMs) {
        stats.headerTimeouts++;
        release(conn);
      }
    }
    burstOver();
  }, sweepMs);

  /** Closes connections with nothing in progress, to free descriptors after an accept error. */
  const shed = (): number => {
    let shed = 0;
    for (const conn of open) {
      if (!conn.streaming && conn.inFlight === 0 && (!conn.active || conn.waitingSince !== 0)) {
        release(conn);
        shed++;
        stats.shed++;
      }
    }
    return shed;
  };

  // Accept errors come in bursts (a flood refills the backlog as fast as connections are shed): the
  // first of a burst is logged, the rest counted and summed up once the burst is over.
  let burst = 0;
  let lastFailure = 0;
  const burstOver = () => {
    if (burst > 0 && Date.now() - lastFailure >= ACCEPT_BURST_QUIET_MS) {
      log.warn("Accepting connections normally again after {failures} failed accepts", { failures: burst });
      burst = 0;
    }
  };

  const accepting = (async () => {
    // Consecutive failures (no accept in between) double the wait.
    let consecutive = 0;
    while (!stopping) {
      let client: Deno.TcpConn;
      try {
        client = await listener.accept() as Deno.TcpConn;
      } catch (error) {
        if (stopping || error instanceof Deno.errors.BadResource) break;
        stats.acceptErrors++;
        const closed = shed();
        if (burst++ === 0) {
          log.error(
            "Accepting connections failed ({error}); {closed} idle connections closed, retrying with back-off",
            { error: (error as Error)?.message ?? String(error), closed },
          );
        }
        lastFailure = Date.now();
        const wait = Math.min(maxBackoff, 100 * 2 ** Math.min(consecutive++, 16));
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      consecutive = 0;
      void admit(client);
    }
  })();

  const { promise: finished, resolve: done } = Promise.withResolvers<void>();
  return {
    addr,
    finished,
    get connections() {
      return open.size;
    },
    get internalUrl() {
      return `${options.tls ? "https" : "http"}://127.0.0.1:${internalPort}`;
    },
    async shutdown() {
      if (stopping) return finished;
      stopping = true;
      try {
        listener.close();
      } catch { /* closed */ }
      await accepting;
      // Requests in progress finish; idle connections close (and their clients with them).
      await Promise.all([internal.shutdown(), ...retired]);
      // The last answers may still be on their way to the clients: let them through, briefly.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all([...open].map((conn) => conn.copied)),
        new Promise((resolve) => timer = setTimeout(resolve, SHUTDOWN_DRAIN_MS)),
      ]);
      clearTimeout(timer);
      clearInterval(sweeper);
      for (const conn of [...open]) release(conn);
      done();
    },
  };
}
