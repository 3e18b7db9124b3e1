/**
 * The SMTP transport against peers that misbehave, and through relays: a greeting of 4xx passes the
 * turn to the next MX; a server that never speaks, one that speaks garbage, and one that goes silent
 * at RCPT are bounded by the (injected) timeouts and leave the recipients temporary; an AbortSignal
 * stops an attempt in the middle; a STARTTLS that breaks down is recorded and, with no MTA-STS
 * policy, the mail goes in plain text.
 */
import assert from "node:assert/strict";
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

Deno.test({
  name: "a STARTTLS that breaks down is recorded, and without a policy the mail goes in plain text",
  ignore,
  async fn() {
    let sessions = 0;
    let delivered = false;
    const dns = await startDnsmasq({}, ZONE);
    const port = freePort();
    const peer = rawServer("127.0.0.8", port, async (conn) => {
      sessions++;
      await write(conn, "220 mx.bad.test ESMTP\r\n");
      const buffer = new Uint8Array(65536);
      let data = "";
      let inData = false;
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) return;
        const text = new TextDecoder().decode(buffer.subarray(0, n));
        if (inData) {
          data += text;
          if (data.endsWith("\r\n.\r\n")) {
            inData = false;
            delivered = true;
            await write(conn, "250 2.0.0 Ok: queued\r\n");
          }
        } else if (text.startsWith("EHLO")) await write(conn, "250-mx.bad.test\r\n250 STARTTLS\r\n");
        else if (text.startsWith("STARTTLS")) {
          // Agrees, then hangs up instead of a TLS handshake.
          await write(conn, "220 2.0.0 Ready to start TLS\r\n");
          return conn.close();
        } else if (text.startsWith("MAIL") || text.startsWith("RCPT")) await write(conn, "250 2.0.0 Ok\r\n");
        else if (text.startsWith("DATA")) {
          inData = true;
          await write(conn, "354 Go ahead\r\n");
        } else if (text.startsWith("QUIT")) {
          await write(conn, "221 2.0.0 Bye\r\n");
          return conn.close();
        }
      }
    });
    try {
      const { transport, tls } = testTransport(dns.server, port, { timeouts: SHORT });
      const results = await transport.deliver("bad.test", { kind: "mx" }, outboundMessage(["a@bad.test"]));
      assert.equal(results["a@bad.test"].kind, "delivered", results["a@bad.test"].reply);
      assert.ok(delivered);
      assert.equal(sessions, 2);
      // A handshake cut short has no more precise RFC 8460 type; the plain retry is not recorded again.
      assert.deepEqual(tls, [{
        domain: "bad.test",
        mx: "mx.bad.test",
        policy: "no-policy-found",
        failure: "validation-failure",
      }]);
    } finally {
      await peer.stop();
      await dns.stop();
    }
  },
});
