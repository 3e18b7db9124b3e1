/**
 * The SMTP transport through relays (the smarthost, the relay table): a relay with AUTH (smtp-server
 * from npm, a real SMTP server library) gets the credentials, and wrong ones or a relay lacking the
 * TLS the route demands defer the mail; a relay on implicit TLS has its certificate checked; a relay
 * named by host name is found through the server's resolver (dnsmasq on loopback).
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { freePort } from "./helpers.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { makeCertificates, outboundMessage, testTransport } from "./outbound_helpers.ts";
import { hasCommand, skipping } from "./smtp_helpers.ts";

const ignore = !HAS_DNSMASQ && skipping("a relay named by host name", "dnsmasq");

/** A relay (smtp-server) on a free loopback port requiring AUTH as `user`/`pass`; what it received. */
async function authRelay(user: string, pass: string, tls?: { key: string; cert: string }) {
  const received: { from: string; to: string[]; user: unknown }[] = [];
  const server = new SMTPServer({
    ...(tls ? { secure: true, key: tls.key, cert: tls.cert } : {}),
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
  // A client that refuses the certificate closes mid-handshake: the server reports it as an error.
  server.on("error", () => {});
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

Deno.test({
  name:
    "a relay on implicit TLS (port 465 style): its certificate is checked, an untrusted one defers the mail",
  ignore: !(await hasCommand("openssl")) && skipping("the relay over TLS", "openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-relay-tls-" });
    const certificates = await makeCertificates(dir, "IP:127.0.0.1");
    const relay = await authRelay("smart", "s3cret", certificates);
    try {
      const route = {
        kind: "relay" as const,
        relay: {
          host: "127.0.0.1",
          port: relay.port,
          security: "tls" as const,
          username: "smart",
          password: "s3cret",
        },
      };
      const trusting = testTransport(`127.0.0.1:${freePort()}`, freePort(), { ca: [certificates.ca] });
      const ok = await trusting.transport.deliver("far.example", route, outboundMessage(["x@far.example"]));
      assert.equal(ok["x@far.example"].kind, "delivered", ok["x@far.example"].reply);
      assert.equal(relay.received.length, 1);

      const untrusting = testTransport(`127.0.0.1:${freePort()}`, freePort());
      const refused = await untrusting.transport.deliver(
        "far.example",
        route,
        outboundMessage(["x@far.example"]),
      );
      assert.equal(refused["x@far.example"].kind, "temporary");
      assert.match(
        refused["x@far.example"].reply,
        /^451 4\.7\.5 TLS with \[127\.0\.0\.1\] failed \(certificate-not-trusted\)/,
      );
      assert.equal(relay.received.length, 1);
    } finally {
      await relay.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a relay named by host name is found through the server's resolver",
  ignore,
  async fn() {
    const dns = await startDnsmasq({}, ["--host-record=smart.relay.test,127.0.0.1"]);
    const relay = await authRelay("smart", "s3cret");
    try {
      const { transport } = testTransport(dns.server, freePort());
      const route = {
        kind: "relay" as const,
        relay: {
          host: "Smart.Relay.test",
          port: relay.port,
          security: "none" as const,
          username: "smart",
          password: "s3cret",
        },
      };
      const results = await transport.deliver("far.example", route, outboundMessage(["x@far.example"]));
      assert.equal(results["x@far.example"].kind, "delivered", results["x@far.example"].reply);
      assert.equal(results["x@far.example"].remoteMta, "smart.relay.test [127.0.0.1]");
    } finally {
      await relay.close();
      await dns.stop();
    }
  },
});
