/**
 * The SMTP transport against peers that misbehave, and through relays: a greeting of 4xx passes the
 * turn to the next MX; a server that never speaks, one that speaks garbage, and one that goes silent
 * at RCPT are bounded by the (injected) timeouts and leave the recipients temporary; an AbortSignal
 * stops an attempt in the middle; a relay with AUTH (smtp-server from npm, a real SMTP server library)
 * gets the credentials, and wrong ones or a relay lacking the TLS the route demands defer the mail.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { freePort, until } from "./helpers.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import {
  drain,
  HAS_SMTP_SINK,
  outboundMessage,
  rawServer,
  startSink,
  testTransport,
} from "./outbound_helpers.ts";
import { skipping } from "./smtp_helpers.ts";

const ignore = (!HAS_DNSMASQ && skipping("the outbound transport's peers", "dnsmasq")) ||
  (!HAS_SMTP_SINK && skipping("the outbound transport's peers", "postfix (smtp-sink)"));

const ZONE = [
  "--mx-host=two.test,mx1.two.test,10",
  "--mx-host=two.test,mx2.two.test,20",
  "--host-record=mx1.two.test,127.0.0.6",
  "--host-record=mx2.two.test,127.0.0.7",
  "--mx-host=bad.test,mx.bad.test,10",
  "--host-record=mx.bad.test,127.0.0.8",
];

/** Short waits: a silent peer is given up on quickly. */
const SHORT = {
  connectMs: 2000,
  greetingMs: 400,
  mailMs: 400,
  rcptMs: 400,
  dataInitMs: 400,
  endOfDataMs: 400,
};

const encoder = new TextEncoder();
const write = (conn: Deno.Conn, text: string) => conn.write(encoder.encode(text));

Deno.test({
  name: "a 4xx greeting passes the turn to the next MX host",
  ignore,
  async fn() {
    const dns = await startDnsmasq({}, ZONE);
    const port = freePort();
    const mx1 = await startSink("127.0.0.6", port, ["-r", "CONNECT"]);
    const mx2 = await startSink("127.0.0.7", port);
    try {
      const { transport } = testTransport(dns.server, port);
      const results = await transport.deliver("two.test", { kind: "mx" }, outboundMessage(["a@two.test"]));
      assert.equal(results["a@two.test"].kind, "delivered");
      assert.equal(results["a@two.test"].remoteMta, "mx2.two.test [127.0.0.7]");
      assert.equal((await mx2.received()).length, 1);
      // mx2 gone too: temporary, with the reason of the last host tried.
      await mx2.stop();
      const alone = await transport.deliver("two.test", { kind: "mx" }, outboundMessage(["a@two.test"]));
      assert.equal(alone["a@two.test"].kind, "temporary");
      assert.match(
        alone["a@two.test"].reply,
        /^451 4\.4\.1 No answer from mx2\.two\.test \[127\.0\.0\.7\]: /,
      );
      assert.equal(alone["a@two.test"].remoteMta, undefined);
    } finally {
      await mx1.stop();
      await mx2.stop();
      await dns.stop();
    }
  },
});

/** Delivers to bad.test, whose one MX is `session` on 127.0.0.8; the one recipient's result. */
async function againstPeer(
  session: (conn: Deno.Conn) => Promise<void>,
  options: { signal?: AbortSignal; timeouts?: Partial<typeof SHORT> } = {},
) {
  const dns = await startDnsmasq({}, ZONE);
  const port = freePort();
  const peer = rawServer("127.0.0.8", port, session);
  try {
    const { transport } = testTransport(dns.server, port, { timeouts: { ...SHORT, ...options.timeouts } });
    return (await transport.deliver(
      "bad.test",
      { kind: "mx" },
      outboundMessage(["a@bad.test"]),
      options.signal,
    ))[
      "a@bad.test"
    ];
  } finally {
    await peer.stop();
    await dns.stop();
  }
}

Deno.test({
  name: "a server that never greets, or greets with garbage, is given up on: temporary",
  ignore,
  async fn() {
    const silent = await againstPeer(drain);
    assert.equal(silent.kind, "temporary");
    assert.match(
      silent.reply,
      /^451 4\.4\.2 No usable answer from mx\.bad\.test \[127\.0\.0\.8\]: .*(Timeout|Greeting)/i,
    );

    const garbage = await againstPeer(async (conn) => {
      await conn.write(new Uint8Array([0xff, 0x00, 0x41, 13, 10, 0x1b, 0x5b, 13, 10]));
      await drain(conn);
    });
    assert.equal(garbage.kind, "temporary");
    assert.match(garbage.reply, /^451 4\.4\.0 mx\.bad\.test \[127\.0\.0\.8\] answered /);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(garbage.reply, /[\x00-\x1f]/);
  },
});

Deno.test({
  name: "a server that goes silent after RCPT is bounded by the RCPT timeout: temporary",
  ignore,
  async fn() {
    const result = await againstPeer(async (conn) => {
      await write(conn, "220 mx.bad.test ESMTP\r\n");
      const buffer = new Uint8Array(4096);
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) return;
        const text = new TextDecoder().decode(buffer.subarray(0, n));
        if (text.startsWith("EHLO")) await write(conn, "250-mx.bad.test\r\n250 8BITMIME\r\n");
        else if (text.startsWith("MAIL")) await write(conn, "250 2.1.0 Ok\r\n");
        // RCPT: no answer, ever.
      }
    });
    assert.equal(result.kind, "temporary");
    assert.match(
      result.reply,
      /^451 4\.4\.2 Connection with mx\.bad\.test \[127\.0\.0\.8\] lost: .*Timeout/i,
    );
  },
});

Deno.test({
  name: "an AbortSignal stops an attempt waiting for the end of data: temporary, with the reason",
  ignore,
  async fn() {
    let dataSeen = false;
    const controller = new AbortController();
    const pending = againstPeer(async (conn) => {
      await write(conn, "220 mx.bad.test ESMTP\r\n");
      const buffer = new Uint8Array(65536);
      let inData = false;
      let data = "";
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) return;
        const text = new TextDecoder().decode(buffer.subarray(0, n));
        if (inData) {
          data += text;
          if (data.endsWith("\r\n.\r\n")) dataSeen = true; // and no reply, ever
        } else if (text.startsWith("EHLO")) await write(conn, "250-mx.bad.test\r\n250 8BITMIME\r\n");
        else if (text.startsWith("MAIL") || text.startsWith("RCPT")) await write(conn, "250 2.0.0 Ok\r\n");
        else if (text.startsWith("DATA")) {
          inData = true;
          await write(conn, "354 Go ahead\r\n");
        }
      }
    }, { signal: controller.signal, timeouts: { endOfDataMs: 600_000 } });
    await until(() => Promise.resolve(dataSeen), "the message to reach the peer");
    controller.abort(new Error("the server is shutting down"));
    const result = await pending;
    assert.deepEqual(result, {
      kind: "temporary",
      reply: "451 4.3.0 Delivery attempt stopped: the server is shutting down",
    });
  },
});

/** A relay (smtp-server) on a free loopback port requiring AUTH as `user`/`pass`; what it received. */
async function authRelay(user: string, pass: string) {
  const received: { from: string; to: string[]; user: unknown }[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) callback(null, { user });
      else callback(Object.assign(new Error("5.7.8 Bad credentials"), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      stream.on("data", () => {});
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user,
        });
        callback(null, "2.0.0 Queued as R7");
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

Deno.test({
  name: "a relay with AUTH gets the credentials; wrong ones or missing STARTTLS defer the mail",
  async fn() {
    const relay = await authRelay("smart", "s3cret");
    try {
      // The resolver is never asked for an address literal: point it nowhere.
      const { transport, tls } = testTransport(`127.0.0.1:${freePort()}`, freePort());
      const route = (extra: Record<string, unknown>) => ({
        kind: "relay" as const,
        relay: { host: "127.0.0.1", port: relay.port, security: "none" as const, ...extra },
      });
      const ok = await transport.deliver(
        "far.example",
        route({ username: "smart", password: "s3cret" }),
        outboundMessage(["x@far.example"]),
      );
      assert.deepEqual(ok["x@far.example"], {
        kind: "delivered",
        reply: "250 2.0.0 Queued as R7",
        remoteMta: "[127.0.0.1]",
      });
      assert.deepEqual(relay.received, [{
        from: "sender@postern.test",
        to: ["x@far.example"],
        user: "smart",
      }]);

      const wrong = await transport.deliver(
        "far.example",
        route({ username: "smart", password: "nope" }),
        outboundMessage(["x@far.example"]),
      );
      assert.equal(wrong["x@far.example"].kind, "temporary");
      assert.match(
        wrong["x@far.example"].reply,
        /^454 4\.7\.0 Authentication with \[127\.0\.0\.1\] failed: 535 5\.7\.8 /,
      );

      const noTls = await transport.deliver(
        "far.example",
        route({ security: "starttls", username: "smart", password: "s3cret" }),
        outboundMessage(["x@far.example"]),
      );
      assert.equal(noTls["x@far.example"].kind, "temporary");
      assert.match(
        noTls["x@far.example"].reply,
        /^451 4\.7\.5 TLS with \[127\.0\.0\.1\] failed \(starttls-not-supported\): answered 500 /,
      );
      assert.equal(relay.received.length, 1);
      // A relay is not an MX: nothing for TLS reporting.
      assert.deepEqual(tls, []);
    } finally {
      await relay.close();
    }
  },
});
