/**
 * The SMTP transport delivering to a real Postfix (Debian package `postfix`, a private instance from
 * scripts/bench/postfix.ts) that offers STARTTLS with a certificate of a test CA made by openssl:
 * STARTTLS is used when offered; one recipient refused (550 5.1.1) while the other is delivered in the
 * same transaction; a message over the announced SIZE is refused for good without being sent; and
 * MTA-STS (RFC 8461): `enforce` requires TLS with a certificate valid for the MX host name and an MX
 * host the policy names, `testing` delivers anyway; every outcome is recorded for TLS reporting.
 */
import assert from "node:assert/strict";
import { canRunPostfix, type PostfixInstance, startPostfix } from "../scripts/bench/postfix.ts";
import type { MtaStsPolicy } from "../src/outbound/mod.ts";
import { freePort, until } from "./helpers.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { makeCertificates, outboundMessage, testTransport } from "./outbound_helpers.ts";
import { hasCommand, skipping } from "./smtp_helpers.ts";

const ignore = (!(await canRunPostfix()) && skipping("the transport to Postfix", "postfix (and root)")) ||
  (!HAS_DNSMASQ && skipping("the transport to Postfix", "dnsmasq")) ||
  (!(await hasCommand("openssl")) && skipping("the transport to Postfix", "openssl"));

const ZONE = [
  // tls.test: its MX host is the name on Postfix's certificate.
  "--mx-host=tls.test,mx.tls.test,10",
  "--host-record=mx.tls.test,127.0.0.1",
  // wrong.test: the same Postfix under another name (the certificate does not match it).
  "--mx-host=wrong.test,mx.wrong.test,10",
  "--host-record=mx.wrong.test,127.0.0.1",
];

Deno.test({
  name: "to Postfix: STARTTLS when offered, per-recipient replies, SIZE, and MTA-STS enforce/testing",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-transport-postfix-" });
    const dns = await startDnsmasq({}, ZONE);
    let postfix: PostfixInstance | undefined;
    try {
      await Deno.chmod(dir, 0o755);
      await Deno.mkdir(`${dir}/certs`);
      await Deno.chmod(`${dir}/certs`, 0o755);
      const { ca } = await makeCertificates(`${dir}/certs`, "DNS:mx.tls.test");
      const port = freePort();
      postfix = await startPostfix(`${dir}/postfix`, {
        smtpPort: port,
        transports: { "tls.test": "discard:", "wrong.test": "discard:" },
        extra: {
          smtpd_tls_security_level: "may",
          smtpd_tls_cert_file: `${dir}/certs/mx.pem`,
          smtpd_tls_key_file: `${dir}/certs/mx.key`,
          smtpd_tls_loglevel: "1",
          message_size_limit: "20000",
          relay_recipient_maps: "inline:{ alice@tls.test=ok, bob@tls.test=ok, alice@wrong.test=ok }",
        },
      });
      const pf = postfix;
      // smtpd's TLS needs tlsmgr (entropy, session cache), which the shared instance does not run.
      await Deno.writeTextFile(`${pf.dir}/master.cf`, "tlsmgr unix - - n 1000? 1 tlsmgr\n", { append: true });
      const reload = await new Deno.Command("/usr/sbin/postfix", {
        args: ["-c", pf.dir, "reload"],
        stderr: "null",
      })
        .output();
      assert.equal(reload.code, 0);
      const policies = new Map<string, MtaStsPolicy>();
      const mtaSts = { policyFor: (domain: string) => Promise.resolve(policies.get(domain) ?? null) };
      const { transport, tls } = testTransport(dns.server, port, { ca: [ca], mtaSts });

      // 1. No policy: STARTTLS used anyway (certificate not checked); alice delivered, nobody refused.
      const first = await transport.deliver(
        "tls.test",
        { kind: "mx" },
        outboundMessage(["alice@tls.test", "nobody@tls.test"]),
      );
      assert.equal(first["alice@tls.test"].kind, "delivered", first["alice@tls.test"].reply);
      assert.match(first["alice@tls.test"].reply, /^250 2\.0\.0 Ok: queued as /);
      assert.equal(first["alice@tls.test"].remoteMta, "mx.tls.test [127.0.0.1]");
      assert.equal(first["nobody@tls.test"].kind, "permanent");
      assert.match(
        first["nobody@tls.test"].reply,
        /^550 5\.1\.1 <nobody@tls\.test>: Recipient address rejected/,
      );
      assert.deepEqual(tls.splice(0), [{ domain: "tls.test", mx: "mx.tls.test", policy: "no-policy-found" }]);
      await until(async () => /TLS connection established from/.test(await pf.log()), "Postfix to log TLS");
      await until(
        async () => /to=<alice@tls\.test>.*status=sent/.test(await pf.log()),
        "Postfix to log the delivery",
      );

      // 2. Over the SIZE Postfix announces: refused for good, nothing sent.
      const big = outboundMessage(["bob@tls.test"], ("x".repeat(70) + "\r\n").repeat(400));
      const refused = await transport.deliver("tls.test", { kind: "mx" }, big);
      assert.equal(refused["bob@tls.test"].kind, "permanent");
      assert.match(
        refused["bob@tls.test"].reply,
        /^552 5\.3\.4 Message size \d+ exceeds the limit of 20000 /,
      );
      tls.splice(0);

      // 3. enforce, the certificate valid for mx.tls.test: delivered, recorded as a TLS success.
      policies.set("tls.test", { id: "1", mode: "enforce", mx: ["mx.tls.test"], maxAge: 86400 });
      const enforced = await transport.deliver(
        "tls.test",
        { kind: "mx" },
        outboundMessage(["alice@tls.test"]),
      );
      assert.equal(enforced["alice@tls.test"].kind, "delivered", enforced["alice@tls.test"].reply);
      assert.deepEqual(tls.splice(0), [{ domain: "tls.test", mx: "mx.tls.test", policy: "sts" }]);

      // 4. enforce, no MX host matches the policy: nothing tried, temporary.
      policies.set("tls.test", { id: "2", mode: "enforce", mx: ["*.elsewhere.test"], maxAge: 86400 });
      const unmatched = await transport.deliver(
        "tls.test",
        { kind: "mx" },
        outboundMessage(["alice@tls.test"]),
      );
      assert.equal(unmatched["alice@tls.test"].kind, "temporary");
      assert.match(
        unmatched["alice@tls.test"].reply,
        /^451 4\.7\.5 No MX host of tls\.test matches its MTA-STS policy/,
      );
      assert.deepEqual(tls.splice(0), [{
        domain: "tls.test",
        mx: "mx.tls.test",
        policy: "sts",
        failure: "validation-failure",
      }]);

      // 5. enforce, the certificate names another host: temporary, certificate-host-mismatch.
      policies.set("wrong.test", { id: "3", mode: "enforce", mx: ["*.wrong.test"], maxAge: 86400 });
      const mismatch = await transport.deliver(
        "wrong.test",
        { kind: "mx" },
        outboundMessage(["alice@wrong.test"]),
      );
      assert.equal(mismatch["alice@wrong.test"].kind, "temporary");
      assert.match(
        mismatch["alice@wrong.test"].reply,
        /^451 4\.7\.5 TLS with mx\.wrong\.test \[127\.0\.0\.1\] failed/,
      );
      assert.deepEqual(tls.splice(0), [{
        domain: "wrong.test",
        mx: "mx.wrong.test",
        policy: "sts",
        failure: "certificate-host-mismatch",
      }]);

      // 6. testing: the same failure is recorded, and the mail goes.
      policies.set("wrong.test", { id: "4", mode: "testing", mx: ["*.wrong.test"], maxAge: 86400 });
      const testing = await transport.deliver(
        "wrong.test",
        { kind: "mx" },
        outboundMessage(["alice@wrong.test"]),
      );
      assert.equal(testing["alice@wrong.test"].kind, "delivered", testing["alice@wrong.test"].reply);
      assert.deepEqual(tls.splice(0), [{
        domain: "wrong.test",
        mx: "mx.wrong.test",
        policy: "sts",
        failure: "certificate-host-mismatch",
      }]);

      // 7. enforce without the test CA trusted: certificate-not-trusted.
      const untrusting = testTransport(dns.server, port, { mtaSts });
      policies.set("tls.test", { id: "5", mode: "enforce", mx: ["mx.tls.test"], maxAge: 86400 });
      const untrusted = await untrusting.transport.deliver(
        "tls.test",
        { kind: "mx" },
        outboundMessage(["alice@tls.test"]),
      );
      assert.equal(untrusted["alice@tls.test"].kind, "temporary");
      assert.deepEqual(untrusting.tls, [{
        domain: "tls.test",
        mx: "mx.tls.test",
        policy: "sts",
        failure: "certificate-not-trusted",
      }]);
      const log = await pf.log();
      assert.equal(log.match(/to=<alice@tls\.test>.*status=sent/g)?.length, 2, log);
      assert.equal(log.match(/to=<alice@wrong\.test>.*status=sent/g)?.length, 1, log);
    } finally {
      await postfix?.stop();
      await dns.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
