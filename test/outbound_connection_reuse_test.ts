/**
 * Connection reuse of the SMTP transport (src/outbound/connection_cache.ts): messages to the same
 * server share one connection, each its own transaction after RSET; a connection the server closed
 * while idle is noticed by RSET and replaced, so nothing is lost or sent twice; a failed transaction
 * does not park its connection; idle connections end with QUIT after the idle time and at close().
 * The server is smtp-server from npm (a real SMTP implementation) counting connections and QUITs.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { freePort, until } from "./helpers.ts";
import { outboundMessage, testTransport } from "./outbound_helpers.ts";

/** A relay on a free loopback port: what it received, connections opened, QUITs seen; "refuse" in a body gets 554. */
async function countingRelay() {
  const received: { from: string; to: string[]; connection: string }[] = [];
  const connections: string[] = [];
  let quits = 0;
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onConnect(session, callback) {
      connections.push(session.id);
      callback();
    },
    onClose() {
      quits++;
    },
    onData(stream, session, callback) {
      let body = "";
      stream.on("data", (chunk: Uint8Array) => body += new TextDecoder().decode(chunk));
      stream.on("end", () => {
        if (body.includes("refuse")) {
          return callback(Object.assign(new Error("Refused"), { responseCode: 554 }));
        }
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          connection: session.id,
        });
        callback(null, "2.0.0 Queued");
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const inner = server as unknown as {
    server: { address(): AddressInfo };
    connections: Set<{ _socket: { destroy(): void } }>;
  };
  return {
    port: inner.server.address().port,
    received,
    connections,
    quits: () => quits,
    /** Drops every open connection without a word, as a server ending idle sessions does. */
    dropAll: () => inner.connections.forEach((c) => c._socket.destroy()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

Deno.test("messages to one server share a connection, each in its own transaction; a dropped one is replaced", async () => {
  const relay = await countingRelay();
  const { transport } = testTransport(`127.0.0.1:${freePort()}`, freePort(), {
    reuseConnections: { idleMs: 60_000 },
  });
  const route = {
    kind: "relay" as const,
    relay: { host: "127.0.0.1", port: relay.port, security: "none" as const },
  };
  try {
    for (let i = 0; i < 4; i++) {
      const to = `r${i}@far.example`;
      const results = await transport.deliver("far.example", route, {
        ...outboundMessage([to]),
        mailFrom: `s${i}@postern.test`,
      });
      assert.equal(results[to].kind, "delivered", results[to].reply);
    }
    assert.equal(relay.connections.length, 1, "one connection for four messages");
    assert.deepEqual(
      relay.received.map((r) => [r.from, r.to]),
      [0, 1, 2, 3].map((i) => [`s${i}@postern.test`, [`r${i}@far.example`]]),
    );
    assert.equal(transport.idleConnections, 1);

    // The server drops the idle connection: RSET fails, a new connection carries the message, once.
    relay.dropAll();
    await until(() => relay.quits() >= 1, "the relay saw the connection end");
    const again = await transport.deliver("far.example", route, outboundMessage(["late@far.example"]));
    assert.equal(again["late@far.example"].kind, "delivered", again["late@far.example"].reply);
    assert.equal(relay.connections.length, 2);
    assert.equal(relay.received.filter((r) => r.to.includes("late@far.example")).length, 1);

    // A transaction that failed (554 at the end of data) ends its connection instead of parking it.
    const refused = await transport.deliver(
      "far.example",
      route,
      outboundMessage(["x@far.example"], "refuse"),
    );
    assert.equal(refused["x@far.example"].kind, "permanent");
    assert.equal(transport.idleConnections, 0);

    await transport.close();
    assert.equal(transport.idleConnections, 0);
  } finally {
    await transport.close();
    await relay.close();
  }
});

Deno.test("an idle connection ends with QUIT after the idle time; without reuse each message has its own", async () => {
  const relay = await countingRelay();
  const route = {
    kind: "relay" as const,
    relay: { host: "127.0.0.1", port: relay.port, security: "none" as const },
  };
  const reusing =
    testTransport(`127.0.0.1:${freePort()}`, freePort(), { reuseConnections: { idleMs: 50 } }).transport;
  const plain = testTransport(`127.0.0.1:${freePort()}`, freePort()).transport;
  try {
    await reusing.deliver("far.example", route, outboundMessage(["a@far.example"]));
    await until(() => reusing.idleConnections === 0 && relay.quits() === 1, "the idle connection was ended");
    for (const to of ["b@far.example", "c@far.example"]) {
      const results = await plain.deliver("far.example", route, outboundMessage([to]));
      assert.equal(results[to].kind, "delivered");
    }
    assert.equal(relay.connections.length, 3);
    assert.equal(plain.idleConnections, 0);
  } finally {
    await reusing.close();
    await relay.close();
  }
});

Deno.test("bad input: reuse limits of one message end the connection after each", async () => {
  const relay = await countingRelay();
  const route = {
    kind: "relay" as const,
    relay: { host: "127.0.0.1", port: relay.port, security: "none" as const },
  };
  const { transport } = testTransport(`127.0.0.1:${freePort()}`, freePort(), {
    reuseConnections: { maxMessages: 1 },
  });
  try {
    for (const to of ["d@far.example", "e@far.example"]) {
      assert.equal(
        (await transport.deliver("far.example", route, outboundMessage([to])))[to].kind,
        "delivered",
      );
    }
    assert.equal(relay.connections.length, 2);
    assert.equal(transport.idleConnections, 0);
  } finally {
    await transport.close();
    await relay.close();
  }
});
