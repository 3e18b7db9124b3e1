/**
 * Connection limits of `postern serve` on a real server process: header and idle timeouts, caps per
 * client address and overall with a 503 refusal, and the real client address behind the front.
 * Floods come from other loopback addresses (127.0.0.2, …; Linux routes all of 127/8 to lo) so the
 * test's own requests from 127.0.0.1 are a different client.
 */
import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { ADMIN_PASSWORD, basic, type ServerProcess, startServerProcess, until } from "./helpers.ts";
import { EventStream, JmapSocket } from "./live_connection_helpers.ts";

const ADMIN = basic("admin@example.org", ADMIN_PASSWORD);

/** A raw TCP client from a chosen loopback address: what it received and whether the server closed it. */
class RawClient {
  received = "";
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.received += chunk);
    socket.on("error", () => undefined);
    socket.on("close", () => this.closed = true);
  }

  static open(url: string, localAddress: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: hostname, port: Number(port), localAddress });
      socket.once("connect", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** One request with `Connection: close` from `localAddress`; the status and body of its answer. */
async function requestFrom(
  url: string,
  localAddress: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const client = await RawClient.open(url, localAddress);
  const lines = Object.entries({ host: "127.0.0.1", connection: "close", ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`).join("");
  client.write(`GET ${path} HTTP/1.1\r\n${lines}\r\n`);
  await until(() => client.closed, `the answer to ${path}`);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(client.received)?.[1]);
  return { status, body: client.received.slice(client.received.indexOf("\r\n\r\n") + 4) };
}

/** The value of one sample on /metrics (from 127.0.0.1, which may read it). */
async function metric(server: ServerProcess, sample: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return Number(line?.slice(sample.length + 1));
}

/** /healthz and an authenticated /api/account, from 127.0.0.1. */
async function stillServes(server: ServerProcess): Promise<void> {
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const me = await fetch(`${server.url}/api/account`, { headers: { authorization: ADMIN } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).emailAddress, "admin@example.org");
}

async function withServer(
  args: Record<string, string>,
  body: (server: ServerProcess) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-conns-" });
  const server = await startServerProcess(dataDir, args);
  try {
    await body(server);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  assert.equal(server.exitCode, 0, server.stderr());
}

Deno.test("a connection that sends half a request head, or nothing, is closed after the header timeout", () =>
  withServer({ POSTERN_HEADER_TIMEOUT: "1" }, async (server) => {
    const half = await RawClient.open(server.url, "127.0.0.2");
    const silent = await RawClient.open(server.url, "127.0.0.2");
    try {
      half.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
      // Slowloris: a byte now and then keeps the connection busy, never completing the head.
      const dribble = setInterval(() => half.write("a"), 200);
      try {
        await until(() => half.closed && silent.closed, "both sockets to be closed");
      } finally {
        clearInterval(dribble);
      }
      assert.equal(half.received, "");
      await stillServes(server);
      assert.equal(
        await metric(server, 'postern_connections_closed_total{reason="header_timeout",listener="http"}'),
        2,
      );
    } finally {
      half.destroy();
      silent.destroy();
    }
  }));

Deno.test("a later request head dribbled on a kept-alive connection is closed after the header timeout", () =>
  withServer({ POSTERN_HEADER_TIMEOUT: "1" }, async (server) => {
    const client = await RawClient.open(server.url, "127.0.0.2");
    let dribble: ReturnType<typeof setInterval> | undefined;
    try {
      client.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await until(() => client.received.includes('"status":"ok"'), "the first answer");
      // The first request was fine; the second never completes its head, a byte at a time.
      client.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
      dribble = setInterval(() => client.write("a"), 200);
      await until(() => client.closed, "the connection to be closed");
      assert.equal(client.received.split("HTTP/1.1 200").length - 1, 1);
    } finally {
      clearInterval(dribble);
      client.destroy();
    }
  }));

Deno.test("an idle keep-alive connection is closed after the idle timeout, a busy one is not", () =>
  withServer({ POSTERN_IDLE_TIMEOUT: "1" }, async (server) => {
    const idle = await RawClient.open(server.url, "127.0.0.2");
    try {
      idle.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await until(() => idle.received.includes('"status":"ok"'), "the first answer");
      assert.match(idle.received, /^HTTP\/1\.1 200/);
      await until(() => idle.closed, "the idle connection to be closed");
    } finally {
      idle.destroy();
    }
    // A connection used every half second outlives several idle timeouts.
    const busy = await RawClient.open(server.url, "127.0.0.2");
    try {
      for (let i = 0; i < 6; i++) {
        busy.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        await until(() => busy.received.split('"status":"ok"').length - 1 === i + 1, `answer ${i + 1}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.equal(busy.closed, false);
    } finally {
      busy.destroy();
    }
  }));

Deno.test("an event stream without pings and a WebSocket stay open past the idle timeout", () =>
  withServer({ POSTERN_IDLE_TIMEOUT: "1" }, async (server) => {
    const events = await EventStream.open(
      `${server.url}/jmap/eventsource/?types=*&closeafter=no&ping=0`,
      ADMIN,
    );
    const socket = await JmapSocket.open(`${server.url.replace("http", "ws")}/jmap/ws`, ADMIN);
    try {
      // Three idle timeouts with no byte on either connection.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      assert.equal(await events.isOpen(), true, "the event stream was closed");
      assert.equal(socket.socket.readyState, WebSocket.OPEN);
      const answer = await socket.request("r1", ["urn:ietf:params:jmap:core"], [[
        "Core/echo",
        { ok: 1 },
        "0",
      ]]);
      assert.deepEqual(answer.methodResponses, [["Core/echo", { ok: 1 }, "0"]]);
    } finally {
      await events.close();
      await socket.close();
    }
  }));

Deno.test("a connection whose event stream has ended is an ordinary one again: closed when idle", () =>
  withServer({ POSTERN_IDLE_TIMEOUT: "1" }, async (server) => {
    const session = await (await fetch(`${server.url}/jmap/session`, { headers: { authorization: ADMIN } }))
      .json();
    const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"];
    const client = await RawClient.open(server.url, "127.0.0.2");
    try {
      client.write(
        `GET /jmap/eventsource/?types=*&closeafter=state&ping=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Authorization: ${ADMIN}\r\n\r\n`,
      );
      await until(() => client.received.includes("text/event-stream"), "the stream to start");
      // Silent for two idle timeouts: still open, it carries an event stream.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.equal(client.closed, false);
      // A change ends the stream (closeafter=state); the connection stays, now idle.
      const created = await fetch(`${server.url}/jmap`, {
        method: "POST",
        headers: { authorization: ADMIN, "content-type": "application/json" },
        body: JSON.stringify({
          using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
          methodCalls: [["Mailbox/set", { accountId, create: { a: { name: "Changed" } } }, "0"]],
        }),
      });
      assert.equal(created.status, 200);
      await created.body?.cancel();
      // Generous bounds (hang guards, not speed limits: CI machines are loaded); what arrived is told.
      await until(
        () => client.received.includes("event: state") && client.received.endsWith("0\r\n\r\n"),
        "the end",
        60_000,
      ).catch((error) => {
        throw new Error(
          `${error.message}; closed: ${client.closed}; received: ${client.received.slice(-300)}`,
        );
      });
      await until(() => client.closed, "the idle connection to be closed");
    } finally {
      client.destroy();
    }
  }));

Deno.test("connections past the per-address cap get a 503 refusal while other clients are served", () =>
  withServer({ POSTERN_MAX_CONNECTIONS_PER_ADDRESS: "5" }, async (server) => {
    const flood: RawClient[] = [];
    try {
      for (let i = 0; i < 8; i++) flood.push(await RawClient.open(server.url, "127.0.0.2"));
      // The first five are held (idle); the other three are answered 503 and closed.
      await until(() => flood.filter((c) => c.closed).length === 3, "three refusals");
      const refused = flood.filter((c) => c.closed);
      assert.deepEqual(refused, flood.slice(5));
      for (const client of refused) {
        assert.match(client.received, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
        assert.match(client.received, /\r\nretry-after: \d+\r\n/i);
        assert.match(client.received, /\r\nconnection: close\r\n/i);
        assert.match(client.received, /\r\ncontent-type: application\/problem\+json\r\n/i);
        const body = JSON.parse(client.received.slice(client.received.indexOf("\r\n\r\n") + 4));
        assert.equal(body.status, 503);
        assert.match(body.detail, /Too many connections from your address/);
      }
      assert.equal(flood.slice(0, 5).some((c) => c.closed), false);
      assert.equal(
        await metric(server, 'postern_connections_refused_total{cap="address",listener="http"}'),
        3,
      );
      // Five held from 127.0.0.2, and the test's own.
      assert.ok(await metric(server, 'postern_connections_open{listener="http"}') >= 6);
      // The flood is still open: another address is served, health and an authenticated request.
      await stillServes(server);
      assert.equal((await requestFrom(server.url, "127.0.0.3", "/healthz")).status, 200);
      // The flooding address too, once it closes one of its connections.
      flood[0].destroy();
      await until(
        async () => (await requestFrom(server.url, "127.0.0.2", "/healthz")).status === 200,
        "a free place for 127.0.0.2",
      );
    } finally {
      for (const client of flood) client.destroy();
    }
  }));

Deno.test("connections past the overall cap get a 503 refusal, and the server answers again when they close", () =>
  withServer({ POSTERN_MAX_CONNECTIONS: "6", POSTERN_MAX_CONNECTIONS_PER_ADDRESS: "4" }, async (server) => {
    const held: RawClient[] = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await RawClient.open(server.url, "127.0.0.2"));
      for (let i = 0; i < 2; i++) held.push(await RawClient.open(server.url, "127.0.0.3"));
      const over = await requestFrom(server.url, "127.0.0.4", "/healthz");
      assert.equal(over.status, 503);
      assert.match(JSON.parse(over.body).detail, /too many connections/);
      assert.equal(held.some((c) => c.closed), false);
      held.pop()!.destroy();
      await until(
        async () => (await requestFrom(server.url, "127.0.0.4", "/healthz")).status === 200,
        "a free place",
      );
      await stillServes(server);
    } finally {
      for (const client of held) client.destroy();
    }
  }));

Deno.test("a trusted proxy is exempt from the per-address cap", () =>
  withServer(
    { POSTERN_MAX_CONNECTIONS_PER_ADDRESS: "2", POSTERN_TRUSTED_PROXIES: "127.0.0.2" },
    async (server) => {
      const held: RawClient[] = [];
      try {
        for (let i = 0; i < 4; i++) held.push(await RawClient.open(server.url, "127.0.0.2"));
        const fifth = await requestFrom(server.url, "127.0.0.2", "/healthz", {
          "x-forwarded-for": "192.0.2.7",
        });
        assert.equal(fifth.status, 200, fifth.body);
        assert.equal(held.some((c) => c.closed), false);
        // Anyone else keeps the cap.
        const other: RawClient[] = [];
        for (let i = 0; i < 3; i++) other.push(await RawClient.open(server.url, "127.0.0.3"));
        await until(() => other[2].closed, "the refusal of the third");
        assert.match(other[2].received, /^HTTP\/1\.1 503/);
        for (const client of other) client.destroy();
      } finally {
        for (const client of held) client.destroy();
      }
    },
  ));

Deno.test("behind the connection front the login throttle still tells two client addresses apart", () =>
  withServer({}, async (server) => {
    const guess = () => ({
      authorization: `Bearer pst_${crypto.randomUUID().replaceAll("-", "").slice(0, 32)}`,
    });
    // Five free guesses, then each blocks the address for a while (1 s, 2 s, …): guess until refused.
    const answers: number[] = [];
    while (answers.at(-1) !== 429 && answers.length < 12) {
      answers.push((await requestFrom(server.url, "127.0.0.2", "/api/account", guess())).status);
    }
    assert.equal(answers.at(-1), 429, String(answers));
    // Another address is not held back by 127.0.0.2's guesses (it was, when every client looked alike).
    assert.equal((await requestFrom(server.url, "127.0.0.3", "/api/account", guess())).status, 401);
    assert.equal(
      (await requestFrom(server.url, "127.0.0.3", "/api/account", { authorization: ADMIN })).status,
      200,
    );
  }));

Deno.test("on SIGTERM a request in progress gets its whole answer through the front, then the process exits", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-conns-" });
  const server = await startServerProcess(dataDir);
  let stopping: Promise<void> | undefined;
  const client = await RawClient.open(server.url, "127.0.0.2");
  try {
    const body = JSON.stringify({
      using: ["urn:ietf:params:jmap:core"],
      methodCalls: [["Core/echo", { during: "shutdown" }, "0"]],
    });
    client.write(
      `POST /jmap HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    // "100 Continue" comes when the handler starts reading the body: the request is in progress.
    await until(() => client.received.includes("100 Continue"), "the request to reach the handler");
    stopping = server.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.write(body);
    await until(() => client.closed, "the answer and the close");
    // Deno.serve's graceful shutdown ends the body read (its answer is a 400 problem), but the answer
    // reaches the client whole: the front does not cut it off.
    const answer = client.received.slice(client.received.indexOf("\r\n\r\n") + 4);
    assert.match(answer, /^HTTP\/1\.1 \d{3} /);
    const [head, content] = answer.split("\r\n\r\n");
    assert.equal(Number(/content-length: (\d+)/i.exec(head)?.[1]), new TextEncoder().encode(content).length);
    await stopping;
    assert.equal(server.exitCode, 0, server.stderr());
  } finally {
    client.destroy();
    await (stopping ?? server.stop());
    await Deno.remove(dataDir, { recursive: true });
  }
});
