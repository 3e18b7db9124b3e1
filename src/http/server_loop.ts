/**
 * Deno.serve, kept serving when the process runs out of file descriptors.
 *
 * Deno's accept loop (in Rust, hyper underneath) ends on the first accept error: with EMFILE or ENFILE
 * (idle sockets held open by a client, no credentials needed) `server.finished` rejects and, unhandled,
 * ended `postern serve`. Here the failure is logged, the failed instance is shut down gracefully —
 * which closes its idle connections (keep-alive and never-used sockets, where such a flood sits) and
 * lets requests in progress finish — and after a back-off a new instance listens on the same address.
 *
 * `postern serve` runs it on 127.0.0.1 behind http/connection_front.ts, which holds the public
 * listener and adds what Deno.serve (2.9.6) lacks: header and idle timeouts and connection caps.
 */
import type { Logger } from "@logtape/logtape";

/** What runs the server: where it listens and what it calls. */
export interface ServerLoopOptions {
  hostname: string;
  port: number;
  log: Logger;
  /** Called once, when the first instance listens. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Longest wait before listening again after a failure (the wait doubles from 100 ms). */
  maxBackoffMs?: number;
  /** Serve HTTPS with this PEM certificate chain and key (HTTP when absent). */
  tls?: { cert: string; key: string };
}

/** A server that outlives its accept loop's failures; `finished` settles after `shutdown()`. */
export interface ServerLoop {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** Serves `handler` on the address, starting a new accept loop whenever one fails. */
export function serveWithRecovery(
  options: ServerLoopOptions,
  handler: (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
): ServerLoop {
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const { promise: finished, resolve: done } = Promise.withResolvers<void>();
  let current: Deno.HttpServer | undefined;
  let stopping = false;
  let failures = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let addr: Deno.NetAddr;

  const listen = (port: number, onListen: (addr: Deno.NetAddr) => void): Deno.HttpServer =>
    Deno.serve({ hostname: options.hostname, port, onListen, ...options.tls }, handler);

  const start = (port: number, started: number) => {
    retry = undefined;
    if (stopping) return;
    let server: Deno.HttpServer;
    try {
      server = listen(port, () => {
        options.log.debug("Accepting connections again on port {port}", { port });
      });
    } catch (error) {
      // Out of descriptors for the listening socket itself: wait longer and try again.
      failed(port, error);
      return;
    }
    current = server;
    watch(server, port, started);
  };

  const failed = (port: number, error: unknown) => {
    const wait = Math.min(maxBackoff, 100 * 2 ** Math.min(failures, 16));
    // The first failure of a series is an error; its repetitions (a flood lasts) are details.
    const level = failures++ === 0 ? "error" : "debug";
    options.log[level](
      "Accepting connections failed ({error}); idle connections closed, listening again in {wait} ms",
      { error: (error as Error)?.message ?? String(error), wait },
    );
    retry = setTimeout(() => start(port, Date.now()), wait);
  };

  const watch = (server: Deno.HttpServer, port: number, started: number) => {
    server.finished.then(
      () => {
        if (server === current && stopping) done();
      },
      (error) => {
        if (stopping) return done();
        // A loop that served a while before failing starts the back-off afresh.
        if (Date.now() - started > 60_000) failures = 0;
        // Graceful: idle connections close now (freeing descriptors); requests in progress, event
        // streams included, finish on their own.
        server.shutdown().catch(() => undefined);
        failed(port, error);
      },
    );
  };

  const first = listen(options.port, (bound) => {
    addr = bound;
    options.onListen?.(bound);
  });
  addr ??= first.addr as Deno.NetAddr;
  current = first;
  watch(first, addr.port, Date.now());

  return {
    get addr() {
      return addr;
    },
    finished,
    async shutdown() {
      stopping = true;
      if (retry !== undefined) {
        clearTimeout(retry);
        done();
      }
      await current?.shutdown();
      done();
    },
  };
}
