/**
 * The SMTP transport (src/outbound/transport.ts) delivering by MX to real peers on loopback: dnsmasq
 * serves the MX and address records of `.test` domains, smtp-sink (Postfix's test server) receives on
 * 127.0.0.x addresses and answers as its options say. What a sender's queue sees is asserted: each
 * recipient's result, its reply and the server that gave it, and what reached the receiver.
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { HAS_SMTP_SINK, outboundMessage, startSink, testTransport } from "./outbound_helpers.ts";
import { skipping } from "./smtp_helpers.ts";

const ignore = (!HAS_DNSMASQ && skipping("the outbound transport by MX", "dnsmasq")) ||
  (!HAS_SMTP_SINK && skipping("the outbound transport by MX", "postfix (smtp-sink)"));

/** The zone of these tests: hosts on 127.0.0.2–.9 (Linux routes all of 127/8 to loopback). */
const ZONE = [
  // dom.test: mx1 refuses connections, mx2 takes the mail, mx3 is never needed.
  "--mx-host=dom.test,mx1.dom.test,10",
  "--mx-host=dom.test,mx2.dom.test,20",
  "--mx-host=dom.test,mx3.dom.test,30",
  "--host-record=mx1.dom.test,127.0.0.2",
  "--host-record=mx2.dom.test,127.0.0.3",
  "--host-record=mx3.dom.test,127.0.0.4",
  // plain.test: no MX, an address: the implicit MX.
  "--host-record=plain.test,127.0.0.3",
  // nullmx.test: RFC 7505.
  "--mx-host=nullmx.test,.,0",
  // numeric.test: an MX that is an address, not a host name.
  "--mx-host=numeric.test,127.0.0.3,10",
  // noaddr.test: its only MX host has no address.
  "--mx-host=noaddr.test,ghost.noaddr.test,10",
  // busy.test: mx1 answers 4xx to RCPT, mx2 takes the deferred recipient.
  "--mx-host=busy.test,mx1.busy.test,10",
  "--mx-host=busy.test,mx2.busy.test,20",
  "--host-record=mx1.busy.test,127.0.0.5",
  "--host-record=mx2.busy.test,127.0.0.3",
  // single.test: one MX on 127.0.0.5 (whatever sink a test starts there).
  "--mx-host=single.test,mx.single.test,10",
  "--host-record=mx.single.test,127.0.0.5",
];

Deno.test({
  name: "MX hosts are tried by preference: a host refusing connections passes the turn to the next",
  ignore,
  async fn() {
    const dns = await startDnsmasq({}, ZONE);
    const port = freePort();
    const mx2 = await startSink("127.0.0.3", port);
    const mx3 = await startSink("127.0.0.4", port);
    try {
      const { transport, tls } = testTransport(dns.server, port);
      const results = await transport.deliver("dom.test", { kind: "mx" }, outboundMessage(["bob@dom.test"]));
      assert.equal(results["bob@dom.test"].kind, "delivered", results["bob@dom.test"].reply);
      assert.match(results["bob@dom.test"].reply, /^250 2\.0\.0 /);
      assert.equal(results["bob@dom.test"].remoteMta, "mx2.dom.test [127.0.0.3]");
      const got = await mx2.received();
      assert.equal(got.length, 1);
      assert.match(got[0], /X-Mail-Args: <sender@postern\.test>/);
      assert.match(got[0], /X-Rcpt-Args: <bob@dom\.test>/);
      assert.match(got[0], /X-Helo-Args: mail\.postern\.test/);
      assert.equal((await mx3.received()).length, 0);
      // smtp-sink offers no STARTTLS: recorded for TLS reporting (no policy).
      assert.deepEqual(tls, [{
        domain: "dom.test",
        mx: "mx2.dom.test",
        policy: "no-policy-found",
        failure: "starttls-not-supported",
      }]);
    } finally {
      await mx2.stop();
      await mx3.stop();
      await dns.stop();
    }
  },
});

Deno.test({
  name: "a domain without MX is its own MX; a null MX and a missing domain fail for good",
  ignore,
  async fn() {
    const dns = await startDnsmasq({}, ZONE);
    const port = freePort();
    const sink = await startSink("127.0.0.3", port);
    try {
      const { transport } = testTransport(dns.server, port);
      const implicit = await transport.deliver(
        "plain.test",
        { kind: "mx" },
        outboundMessage(["a@plain.test"]),
      );
      assert.equal(implicit["a@plain.test"].kind, "delivered");
      assert.equal(implicit["a@plain.test"].remoteMta, "plain.test [127.0.0.3]");
      assert.equal((await sink.received()).length, 1);

      const nullMx = await transport.deliver(
        "nullmx.test",
        { kind: "mx" },
        outboundMessage(["a@nullmx.test", "b@nullmx.test"]),
      );
      for (const r of ["a@nullmx.test", "b@nullmx.test"]) {
        assert.deepEqual(nullMx[r], {
          kind: "permanent",
          reply: "550 5.1.10 nullmx.test accepts no mail (null MX, RFC 7505)",
        });
      }
      const missing = await transport.deliver(
        "nowhere.test",
        { kind: "mx" },
        outboundMessage(["a@nowhere.test"]),
      );
      assert.equal(missing["a@nowhere.test"].kind, "permanent");
      assert.match(missing["a@nowhere.test"].reply, /^550 5\.1\.2 Domain nowhere\.test not found/);
      assert.equal(missing["a@nowhere.test"].remoteMta, undefined);
    } finally {
      await sink.stop();
      await dns.stop();
    }
  },
});

Deno.test({
  name: "bad DNS data and a DNS server that does not answer are temporary failures",
  ignore,
  async fn() {
    const dns = await startDnsmasq({}, ZONE);
    try {
      const { transport } = testTransport(dns.server, freePort());
      // An MX naming an address instead of a host (RFC 5321 §5.1): skipped, nothing left.
      const numeric = await transport.deliver(
        "numeric.test",
        { kind: "mx" },
        outboundMessage(["a@numeric.test"]),
      );
      assert.equal(numeric["a@numeric.test"].kind, "temporary");
      assert.match(
        numeric["a@numeric.test"].reply,
        /^451 4\.4\.4 The MX records of numeric\.test are malformed/,
      );
      const noAddress = await transport.deliver(
        "noaddr.test",
        { kind: "mx" },
        outboundMessage(["a@noaddr.test"]),
      );
      assert.deepEqual(noAddress["a@noaddr.test"], {
        kind: "temporary",
        reply: "451 4.4.4 Host ghost.noaddr.test has no address (A/AAAA)",
      });
    } finally {
      await dns.stop();
    }
    // Nothing listens where the resolver asks.
    const { transport } = testTransport(`127.0.0.1:${freePort()}`, freePort());
    const down = await transport.deliver("dom.test", { kind: "mx" }, outboundMessage(["a@dom.test"]));
    assert.equal(down["a@dom.test"].kind, "temporary");
    assert.match(down["a@dom.test"].reply, /^451 4\.4\.3 DNS lookup of MX for dom\.test failed: /);
  },
});

Deno.test({
  name: "recipients deferred with 4xx at RCPT go to the next MX host in the same attempt",
  ignore,
  async fn() {
    const dns = await startDnsmasq({}, ZONE);
    const port = freePort();
    const mx1 = await startSink("127.0.0.5", port, ["-r", "RCPT"]);
    try {
      // Only the 4xx host: the recipient stays temporary with that host's reply.
      const { transport } = testTransport(dns.server, port);
      const alone = await transport.deliver("busy.test", { kind: "mx" }, outboundMessage(["a@busy.test"]));
      assert.equal(alone["a@busy.test"].kind, "temporary");
      assert.equal(alone["a@busy.test"].reply, "450 4.3.0 Error: command failed");
      assert.equal(alone["a@busy.test"].remoteMta, "mx1.busy.test [127.0.0.5]");
      // The backup MX comes up: it takes the recipient the first one deferred.
      const mx2 = await startSink("127.0.0.3", port);
      try {
        const both = await transport.deliver("busy.test", { kind: "mx" }, outboundMessage(["a@busy.test"]));
        assert.equal(both["a@busy.test"].kind, "delivered");
        assert.equal(both["a@busy.test"].remoteMta, "mx2.busy.test [127.0.0.3]");
        assert.equal((await mx2.received()).length, 1);
      } finally {
        await mx2.stop();
      }
      assert.equal((await mx1.received()).length, 0);
    } finally {
      await mx1.stop();
      await dns.stop();
    }
  },
});

/** Delivers one message to single.test's MX, a sink started with `args`; its results and the sink's dumps. */
async function toSingle(args: string[], message = outboundMessage(["a@single.test", "b@single.test"])) {
  const dns = await startDnsmasq({}, ZONE);
  const port = freePort();
  const sink = await startSink("127.0.0.5", port, args);
  try {
    const { transport } = testTransport(dns.server, port, {
      timeouts: { greetingMs: 5000, mailMs: 5000, rcptMs: 5000, dataInitMs: 5000, endOfDataMs: 5000 },
    });
    const results = await transport.deliver("single.test", { kind: "mx" }, message);
    return { results, received: await sink.received() };
  } finally {
    await sink.stop();
    await dns.stop();
  }
}

Deno.test({
  name: "a 4xx at the end of DATA defers every recipient with that reply",
  ignore,
  async fn() {
    const { results } = await toSingle(["-r", "."]);
    for (const r of ["a@single.test", "b@single.test"]) {
      assert.deepEqual(results[r], {
        kind: "temporary",
        reply: "450 4.3.0 Error: command failed",
        remoteMta: "mx.single.test [127.0.0.5]",
      });
    }
  },
});

Deno.test({
  name: "every recipient refused at RCPT: each gets its refusal, no DATA",
  ignore,
  async fn() {
    const { results, received } = await toSingle(["-f", "RCPT", "-B", "550 5.1.1 No such user"]);
    for (const r of ["a@single.test", "b@single.test"]) {
      assert.deepEqual(results[r], {
        kind: "permanent",
        reply: "550 5.1.1 No such user",
        remoteMta: "mx.single.test [127.0.0.5]",
      });
    }
    assert.equal(received.length, 0);
  },
});

Deno.test({
  name: "a 5xx at the end of DATA refuses every recipient for good",
  ignore,
  async fn() {
    const { results } = await toSingle(["-f", ".", "-B", "554 5.7.1 Spam detected"]);
    for (const r of ["a@single.test", "b@single.test"]) {
      assert.equal(results[r].kind, "permanent");
      assert.equal(results[r].reply, "554 5.7.1 Spam detected");
    }
  },
});

Deno.test({
  name: "a server that hangs up at the end of DATA, or says 421, leaves the recipients temporary",
  ignore,
  async fn() {
    const hangUp = await toSingle(["-q", "."]);
    assert.equal(hangUp.results["a@single.test"].kind, "temporary");
    assert.match(
      hangUp.results["a@single.test"].reply,
      /^451 4\.4\.2 Connection with mx\.single\.test \[127\.0\.0\.5\] lost/,
    );
    const closing = await toSingle(["-Q", "RCPT"]);
    assert.equal(closing.results["b@single.test"].kind, "temporary");
    assert.match(closing.results["b@single.test"].reply, /^421 /);
  },
});

Deno.test({
  name: "DSN parameters go with MAIL FROM when the server offers DSN; the null sender is <>",
  ignore,
  async fn() {
    const message = outboundMessage(["a@single.test"], "Hi.", {
      mailFrom: "",
      envelopeId: "Q123+abc",
      dsnReturn: "HDRS",
    });
    const { results, received } = await toSingle([], message);
    assert.equal(results["a@single.test"].kind, "delivered");
    assert.match(received[0], /X-Mail-Args: <> .*RET=HDRS/);
    assert.match(received[0], /X-Mail-Args: .*ENVID=Q123\+2Babc/);
  },
});

Deno.test({
  name: "a message needing SMTPUTF8 or 8BITMIME is refused for good by a server without them, before DATA",
  ignore,
  async fn() {
    const utf8 = outboundMessage(["a@single.test"]);
    utf8.message = new TextEncoder().encode("Subject: caf\u00e9\r\n\r\nHi.\r\n");
    const refusedUtf8 = await toSingle([], utf8);
    assert.equal(refusedUtf8.results["a@single.test"].kind, "permanent");
    assert.match(refusedUtf8.results["a@single.test"].reply, /^550 5\.6\.7 .*does not offer SMTPUTF8/);
    assert.equal(refusedUtf8.received.length, 0);

    const eightBit = outboundMessage(["a@single.test"], "caf\u00e9");
    const refused8 = await toSingle(["-8"], eightBit);
    assert.equal(refused8.results["a@single.test"].kind, "permanent");
    assert.match(refused8.results["a@single.test"].reply, /^554 5\.6\.3 .*does not offer 8BITMIME/);
    assert.equal(refused8.received.length, 0);
    // With 8BITMIME offered, it goes, declared.
    const sent8 = await toSingle([], eightBit);
    assert.equal(sent8.results["a@single.test"].kind, "delivered");
    assert.match(sent8.received[0], /X-Mail-Args: .*BODY=8BITMIME/);
  },
});
