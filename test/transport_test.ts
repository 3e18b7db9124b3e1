/**
 * The connection level of `postern serve`, on a real server process: clients that vanish mid-request,
 * idle sockets, and running out of file descriptors.
 */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, basic, startServerProcess } from "./helpers.ts";

const ADMIN = basic("admin@example.org", ADMIN_PASSWORD);

/** Polls `check` every 50 ms until it holds; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How many requests /metrics counted for a route (any method and status). */
async function counted(url: string, route: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("postern_http_requests_total{") && line.includes(`route="${route}"`)) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

Deno.test("a client that disconnects in the middle of its request body is not logged as a server error", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-transport-" });
  const server = await startServerProcess(dataDir);
  try {
    const { hostname, port } = new URL(server.url);
    const heads = [
      "Content-Length: 100000\r\n",
      "Transfer-Encoding: chunked\r\n",
    ];
    for (const framing of heads) {
      const conn = await Deno.connect({ hostname, port: Number(port) });
      const partial = framing.startsWith("Transfer")
        ? '40\r\n{"using":["urn:ietf:params:jmap:core"],'
        : '{"using":[';
      await conn.write(
        new TextEncoder().encode(
          `POST /jmap HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN}\r\n` +
            `Content-Type: application/json\r\n${framing}\r\n${partial}`,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      conn.close();
    }
    await until(async () => await counted(server.url, "/jmap") >= 2, "both requests to finish");
    assert.doesNotMatch(server.stderr(), /\b500\b|Unhandled error/);
    const healthy = await fetch(`${server.url}/healthz`);
    assert.equal(healthy.status, 200);
    await healthy.body?.cancel();
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
