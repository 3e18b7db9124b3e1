/**
 * A server for scripts/bench/front_hop.ts: the connection front of a checkout (its
 * src/http/connection_front.ts) in front of a handler answering every request with the bytes of a
 * token response (about 830 bytes of JSON, `Cache-Control: no-store`), after reading the request body.
 * No routing, auth, logs or database: what is measured is the front and its loopback hop.
 *
 * `--engine serve-http` serves the same handler with no front and no hop: an accept loop and, per
 * connection, Deno's older per-connection HTTP server (`Deno.serveHttp`, deprecated and left out of
 * Deno 2.9.6's type declarations, still there at run time). It enforces nothing (no caps, no
 * timeouts): it shows what a front without the hop could cost at best.
 *
 *   deno run -A scripts/bench/front_server.ts --root DIR --port-file FILE [--engine front|serve-http]
 *
 * Prints `listening <port>` (the public port) once it listens, after writing the internal Deno.serve
 * port to FILE (the public port again for serve-http, which has none).
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string" },
    "port-file": { type: "string" },
    engine: { type: "string", default: "front" },
  },
});
if (!values.root || !values["port-file"]) throw new Error("front_server.ts needs --root and --port-file");

const body = JSON.stringify({
  access_token: "a".repeat(420),
  token_type: "Bearer",
  expires_in: 3600,
  scope: "offline_access urn:ietf:params:jmap:mail",
  refresh_token: "r".repeat(300),
});
const handler = async (request: Request) => {
  await request.arrayBuffer();
  return new Response(body, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
};

/** The parts of the deprecated Deno.serveHttp this uses. */
interface HttpConn {
  nextRequest(): Promise<{ request: Request; respondWith(response: Response): Promise<void> } | null>;
}

if (values.engine === "serve-http") {
  const serveHttp = (Deno as unknown as { serveHttp(conn: Deno.Conn): HttpConn }).serveHttp;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  await Deno.writeTextFile(values["port-file"], String(port));
  console.log(`listening ${port}`);
  const serve = async (conn: Deno.Conn) => {
    const http = serveHttp(conn);
    for (let event = await http.nextRequest(); event !== null; event = await http.nextRequest()) {
      const { request, respondWith } = event;
      handler(request).then((response) => respondWith(response)).catch(() => undefined);
    }
  };
  for await (const conn of listener) serve(conn).catch(() => undefined);
  Deno.exit(0);
}
if (values.engine !== "front") throw new Error("--engine is front or serve-http");

const root = values.root.replace(/\/$/, "");
const { serveBehindFront } = await import(`${root}/src/http/connection_front.ts`);
const quiet = () => undefined;
const front = serveBehindFront({
  hostname: "127.0.0.1",
  port: 0,
  log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  maxConnections: 4096,
  maxConnectionsPerAddress: 4096,
  headerTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
}, handler);
await Deno.writeTextFile(values["port-file"], new URL(front.internalUrl).port);
console.log(`listening ${front.addr.port}`);
Deno.addSignalListener("SIGTERM", () => void front.shutdown());
await front.finished;
