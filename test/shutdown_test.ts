/**
 * SIGTERM stops `postern serve` although clients hold connections open (issue 19, item 8), against a
 * server process over real HTTP: an event stream (which used to keep the process alive for ever), a
 * JMAP WebSocket with push enabled, and an upload stalled in the middle of its body (a request in
 * progress that never finishes). The stream ends cleanly, the socket is closed with 1001, and the
 * process exits with status 0 once the shutdown grace (POSTERN_SHUTDOWN_GRACE) is over. A second
 * signal during the grace stops it at once.
 */
import assert from "node:assert/strict";
import { type ServerProcess, startServerProcess } from "./helpers.ts";
import { CORE } from "./jmap_helpers.ts";
import { JmapSocket } from "./live_connection_helpers.ts";
import { createUsers, serverTarget, type Who } from "./mail_helpers.ts";

/** How long a test waits for the process to exit: a hang detector, not a speed limit. */
const EXIT_WAIT_MS = 30_000;

/** Resolves with `promise`, or fails naming `what` after `ms`. */
async function waitFor<T>(promise: Promise<T>, what: string, ms = EXIT_WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** An event stream read to its end: "ended" when the server closed it, "broken" when the connection failed. */
async function openEventStream(url: string, auth: string): Promise<{ end: Promise<"ended" | "broken"> }> {
  const response = await fetch(`${url}/jmap/eventsource/?types=*&closeafter=no&ping=0`, {
    headers: { authorization: auth },
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const end = (async () => {
    try {
      while (!(await reader.read()).done) { /* events are not the point here */ }
      return "ended" as const;
    } catch {
      return "broken" as const;
    }
  })();
  return { end };
}

/**
 * An upload whose handler is reading its body (the server asked for it with `100 Continue`) and that
 * then sends nothing more: a request in progress that would never finish on its own.
 */
async function stalledUpload(url: string, who: Who): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head = [
    `POST /jmap/upload/${who.accountId}/ HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    `Authorization: ${who.auth}`,
    "Content-Type: text/plain",
    "Content-Length: 1000",
    "Expect: 100-continue",
    "",
    "",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(head));
  const buffer = new Uint8Array(1024);
  let answer = "";
  while (!answer.includes("\r\n\r\n")) {
    const read = await waitFor(conn.read(buffer), "the upload's 100 Continue", 10_000);
    if (read === null) break;
    answer += new TextDecoder().decode(buffer.subarray(0, read));
  }
  assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n/, answer);
  await conn.write(new TextEncoder().encode("the first few bytes of 1000"));
  return conn;
}

/** Opens a JMAP WebSocket with push enabled, confirmed by an answered request after the enable. */
async function pushSocket(url: string, who: Who): Promise<JmapSocket> {
  const socket = await JmapSocket.open(`${url.replace("http", "ws")}/jmap/ws`, who.auth);
  socket.send({ "@type": "WebSocketPushEnable", dataTypes: null });
  const answer = await socket.request("after-enable", [CORE], [["Core/echo", { hello: true }, "0"]]);
  assert.equal(answer["@type"], "Response", JSON.stringify(answer));
  return socket;
}

async function withServer(
  env: Record<string, string>,
  body: (server: ServerProcess, alice: Who) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-shutdown-" });
  const server = await startServerProcess(dataDir, env);
  try {
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    await body(server, alice);
  } finally {
    server.kill("SIGKILL");
    await server.status;
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}

Deno.test("SIGTERM ends event streams, closes WebSockets with 1001 and exits 0 despite a stalled upload", async () => {
  await withServer({ POSTERN_SHUTDOWN_GRACE: "2" }, async (server, alice) => {
    const stream = await openEventStream(server.url, alice.auth);
    const socket = await pushSocket(server.url, alice);
    const upload = await stalledUpload(server.url, alice);
    try {
      server.kill("SIGTERM");
      const status = await waitFor(server.status, "the server process exits after SIGTERM");
      assert.equal(status.code, 0, server.stderr());
      assert.equal(
        await waitFor(stream.end, "the event stream ends"),
        "ended",
        "the server ended the stream",
      );
      const closed = await waitFor(socket.closed, "the WebSocket closes");
      assert.equal(closed.code, 1001, `close code (reason ${closed.reason})`);
      assert.equal(closed.reason, "Server shutting down");
      // The stalled upload is why the server waited the grace, and the log says so.
      assert.match(server.stderr(), /Requests still in progress after 2 s; stopping without them/);
      assert.doesNotMatch(server.stderr(), /Uncaught/, server.stderr());
    } finally {
      upload.close();
    }
  });
});

Deno.test("a second SIGTERM while the server waits for requests in progress stops it at once", async () => {
  // A grace far longer than any test: only the second signal can end the wait for the stalled upload.
  await withServer({ POSTERN_SHUTDOWN_GRACE: "3600" }, async (server, alice) => {
    const stream = await openEventStream(server.url, alice.auth);
    const upload = await stalledUpload(server.url, alice);
    try {
      server.kill("SIGTERM");
      // The stream ending shows the first signal is being handled: the server now waits for the upload.
      assert.equal(await waitFor(stream.end, "the event stream ends"), "ended");
      server.kill("SIGTERM");
      const status = await waitFor(server.status, "the server process exits after the second SIGTERM");
      assert.equal(status.code, 1, server.stderr());
      assert.match(server.stderr(), /second signal/i, server.stderr());
    } finally {
      upload.close();
    }
  });
});
