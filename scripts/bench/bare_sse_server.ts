/**
 * The push memory baseline: a bare `Deno.serve` that answers every request with an open
 * `text/event-stream` that never sends (no routing, auth, listeners or logs): what holding a
 * streaming connection costs Deno itself.
 *
 *   deno run -A scripts/bench/bare_sse_server.ts
 *
 * Prints `listening <port>` on stdout once it listens on a free loopback port.
 */
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`listening ${port}`),
}, () =>
  new Response(new ReadableStream<Uint8Array>({ pull() {} }, { highWaterMark: 4 }), {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache, no-store" },
  }));
