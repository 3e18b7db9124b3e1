/**
 * Authentication of incoming mail end to end: a real `postern serve` whose resolver is a real DNS
 * server (dnsmasq on loopback serving SPF, DKIM, ARC and DMARC records of .test zones), messages signed
 * with mailauth and sent with nodemailer from 127.0.0.1. What a user or a sender sees: the reply
 * code, the mailbox the message lands in, its Authentication-Results, /metrics and the log line;
 * and mailauth, run again on the stored bytes, agrees with the stored header.
 */
import assert from "node:assert/strict";
import { authenticate, sealMessage } from "mailauth";
import { DnsResolver } from "../src/dns/mod.ts";
import { type Dnsmasq, HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget, type Who } from "./mail_helpers.ts";
import { dkimKey, message, send, signed, storedEmail } from "./smtp_mailauth_helpers.ts";
import { type MxProcess, skipping, startMxProcess } from "./smtp_helpers.ts";
import { basic, PASSWORD, until } from "./helpers.ts";

const ignore = !HAS_DNSMASQ && skipping("mail authentication with dnsmasq", "dnsmasq");

const key = dkimKey();
const arcKey = dkimKey();
const ZONES = {
  "forwarder.test": "v=spf1 ip4:127.0.0.1 -all",
  "arc._domainkey.forwarder.test": arcKey.record,
  "_dmarc.forwarder.test": "v=DMARC1; p=none",
  "good.test": "v=spf1 ip4:127.0.0.1 -all",
  "s1._domainkey.good.test": key.record,
  "_dmarc.good.test": "v=DMARC1; p=reject",
  "elsewhere.test": "v=spf1 ip4:192.0.2.1 -all",
  "_dmarc.elsewhere.test": "v=DMARC1; p=none",
  "reject.test": "v=spf1 ip4:192.0.2.1 -all",
  "_dmarc.reject.test": "v=DMARC1; p=reject",
  "quarantine.test": "v=spf1 ip4:192.0.2.1 -all",
  "_dmarc.quarantine.test": "v=DMARC1; p=quarantine",
};

/** Creates a domain with `dmarcEnforcement` and one user in it; returns the user. */
async function userInDomain(server: MxProcess, domain: string, dmarcEnforcement: string): Promise<Who> {
  const target = serverTarget(server.url);
  const made = await managementCall(target, ADMIN, "x:Domain/set", {
    accountId: "b",
    create: { d: { name: domain, dmarcEnforcement } },
  });
  const domainId = ((made.created as Obj).d as Obj).id as string;
  const user = await managementCall(target, ADMIN, "x:Account/set", {
    accountId: "b",
    create: {
      u: {
        "@type": "User",
        name: "mo",
        domainId,
        roles: { "0": "user" },
        credentials: { "0": { "@type": "Password", secret: PASSWORD } },
      },
    },
  });
  const accountId = ((user.created as Obj).u as Obj).id as string;
  const emailAddress = `mo@${domain}`;
  return { accountId, emailAddress, auth: basic(emailAddress, PASSWORD) };
}

/** The result of `method` in an Authentication-Results value ("pass", "fail"…). */
function result(header: string | undefined, method: string): string | undefined {
  return new RegExp(`(?:^|;)\\s*${method}=(\\w+)`).exec(header ?? "")?.[1];
}

Deno.test({
  name: "the MX checks SPF, DKIM, ARC and DMARC against a real DNS server and acts on DMARC per domain",
  ignore,
  async fn(t) {
    const dns: Dnsmasq = await startDnsmasq(ZONES);
    const dataDir = await Deno.makeTempDir({ prefix: "postern-mailauth-" });
    let server: MxProcess | undefined;
    try {
      server = await startMxProcess(dataDir, { POSTERN_DNS_SERVER: dns.server });
      const port = server.smtpPort;
      const url = server.url;
      const [alice] = await createUsers(serverTarget(url), ["alice"]);
      const to = { from: "", to: ["alice@example.org"] };

      await t.step("SPF, DKIM and DMARC pass; a forged header of ours is dropped, another kept", async () => {
        const raw = await signed(
          message("news@good.test", "all pass", {
            extra: "Authentication-Results: example.org; dkim=pass; spf=pass; dmarc=pass\r\n" +
              "Authentication-Results: other.example; spf=none\r\n",
          }),
          "good.test",
          "s1",
          key.privateKey,
        );
        const sent = await send(port, { ...to, from: "news@good.test" }, raw);
        assert.equal(sent.code, 250, sent.response);
        const stored = await storedEmail(url, alice, "all pass");
        assert.ok(stored);
        assert.equal(stored.mailbox, "Inbox");
        const ours = stored.authenticationResults.filter((h) => /^example\.org;/.test(h));
        assert.equal(
          ours.length,
          1,
          `one header of ours, the forged one dropped: ${stored.authenticationResults}`,
        );
        assert.equal(result(ours[0], "spf"), "pass", ours[0]);
        assert.equal(result(ours[0], "dkim"), "pass", ours[0]);
        assert.equal(result(ours[0], "dmarc"), "pass", ours[0]);
        assert.ok(stored.authenticationResults.some((h) => h.startsWith("other.example;")), "others' kept");
        // Trace fields on top, ours above the Received field of this hop (RFC 8601 §5).
        assert.deepEqual(stored.topFields, [
          "return-path",
          "delivered-to",
          "authentication-results",
          "received",
        ]);

        // mailauth run again on the stored bytes (our fields added, the forged one removed) agrees.
        const again = await authenticate(stored.raw, {
          ip: "127.0.0.1",
          helo: "client.good.test",
          sender: "news@good.test",
          mta: "verifier.test",
          resolver: new DnsResolver({ servers: [dns.server] }).resolve as never,
          disableBimi: true,
        });
        assert.equal(again.dkim.results[0].status.result, "pass", "the stored copy still verifies");
        assert.equal(again.spf && again.spf.status.result, result(ours[0], "spf"));
        assert.equal(again.dmarc && again.dmarc.status.result, result(ours[0], "dmarc"));
      });

      await t.step("SPF fails for a client the domain does not list (p=none: delivered)", async () => {
        const sent = await send(
          port,
          { ...to, from: "x@elsewhere.test" },
          message("x@elsewhere.test", "spf fail"),
        );
        assert.equal(sent.code, 250, sent.response);
        const stored = await storedEmail(url, alice, "spf fail");
        assert.equal(stored?.mailbox, "Inbox");
        const header = stored?.authenticationResults.find((h) => h.startsWith("example.org;"));
        assert.equal(result(header, "spf"), "fail", header);
        assert.equal(result(header, "dkim"), "none", header);
        assert.equal(result(header, "dmarc"), "fail", header);
      });

      await t.step("DKIM fails for an altered header, and does not pass for an altered body", async () => {
        const header = async (subject: string, raw: string) => {
          const sent = await send(port, { ...to, from: "news@good.test" }, raw);
          assert.equal(sent.code, 250, sent.response);
          return (await storedEmail(url, alice, subject))?.authenticationResults.find((h) =>
            h.startsWith("example.org;")
          );
        };
        const subject = await header(
          "altered subject",
          (await signed(message("news@good.test", "original subject"), "good.test", "s1", key.privateKey))
            .replace("Subject: original subject", "Subject: altered subject"),
        );
        assert.equal(result(subject, "dkim"), "fail", subject);
        // A body that no longer matches bh= is "neutral (body hash did not verify)" in mailauth's
        // default mode, as Gmail reports it; either way it does not count for DMARC.
        const body = await header(
          "altered body",
          (await signed(message("news@good.test", "altered body"), "good.test", "s1", key.privateKey))
            .replace("A second line.", "A second line, changed."),
        );
        assert.equal(result(body, "dkim"), "neutral", body);
        assert.match(body ?? "", /body hash did not verify/);
        // SPF of the envelope domain aligns with From, so DMARC still passes.
        assert.equal(result(subject, "spf"), "pass", subject);
        assert.equal(result(subject, "dmarc"), "pass", subject);
      });
      await t.step("DMARC p=reject failing: 550 5.7.1 saying why, nothing stored", async () => {
        const sent = await send(
          port,
          { ...to, from: "ceo@reject.test" },
          message("ceo@reject.test", "forged"),
        );
        assert.equal(sent.code, 550, sent.response);
        assert.match(sent.response, /5\.7\.1 .*DMARC.*reject\.test/, sent.response);
        assert.equal(await storedEmail(url, alice, "forged"), undefined);
      });

      await t.step("DMARC p=quarantine failing: filed in Junk", async () => {
        const sent = await send(
          port,
          { ...to, from: "x@quarantine.test" },
          message("x@quarantine.test", "to junk"),
        );
        assert.equal(sent.code, 250, sent.response);
        const stored = await storedEmail(url, alice, "to junk");
        assert.equal(stored?.mailbox, "Junk");
        assert.equal(
          result(stored?.authenticationResults.find((h) => h.startsWith("example.org;")), "dmarc"),
          "fail",
        );
      });

      await t.step(
        "a monitor domain gets a p=reject failure in its Inbox, quarantineOnly in Junk",
        async () => {
          const mo = await userInDomain(server!, "monitor.example", "monitor");
          const sent = await send(
            port,
            { from: "ceo@reject.test", to: [mo.emailAddress] },
            message("ceo@reject.test", "watched"),
          );
          assert.equal(sent.code, 250, sent.response);
          const stored = await storedEmail(url, mo, "watched");
          assert.equal(stored?.mailbox, "Inbox");
          assert.equal(
            result(stored?.authenticationResults.find((h) => h.startsWith("example.org;")), "dmarc"),
            "fail",
          );

          const qo = await userInDomain(server!, "softer.example", "quarantineOnly");
          const soft = await send(
            port,
            { from: "ceo@reject.test", to: [qo.emailAddress] },
            message("ceo@reject.test", "softened"),
          );
          assert.equal(soft.code, 250, soft.response);
          assert.equal((await storedEmail(url, qo, "softened"))?.mailbox, "Junk");

          // One enforcing recipient refuses the message for all: adding a recipient lets no forgery in.
          const mixed = await send(
            port,
            { from: "ceo@reject.test", to: [mo.emailAddress, "alice@example.org"] },
            message("ceo@reject.test", "mixed"),
          );
          assert.equal(mixed.code, 550, mixed.response);
          assert.equal(await storedEmail(url, mo, "mixed"), undefined);
        },
      );

      await t.step("an intact ARC chain passes and one altered after sealing fails", async () => {
        const seal = async (subject: string) => {
          const original = message("list@forwarder.test", subject);
          const headers = await sealMessage(original, {
            signingDomain: "forwarder.test",
            selector: "arc",
            privateKey: arcKey.privateKey,
            authResults: "forwarder.test; spf=pass smtp.mailfrom=list@forwarder.test",
            cv: "none",
          });
          return headers.toString() + original;
        };
        const arcOf = async (subject: string, raw: string) => {
          const sent = await send(port, { ...to, from: "list@forwarder.test" }, raw);
          assert.equal(sent.code, 250, sent.response);
          const header = (await storedEmail(url, alice, subject))?.authenticationResults.find((h) =>
            h.startsWith("example.org;")
          );
          return [result(header, "arc"), header];
        };
        const [intact, header] = await arcOf("sealed", await seal("sealed"));
        assert.equal(intact, "pass", header);
        const [broken, brokenHeader] = await arcOf(
          "resealed subject",
          (await seal("sealed again")).replace("Subject: sealed again", "Subject: resealed subject"),
        );
        assert.equal(broken, "fail", brokenHeader);
      });

      await t.step(
        "/metrics counts results per method and the DMARC actions; the log line has them",
        async () => {
          const metrics = await (await fetch(`${url}/metrics`)).text();
          assert.match(metrics, /^postern_smtp_auth_results_total\{method="dkim",result="pass"\} 1$/m);
          assert.match(metrics, /^postern_smtp_auth_results_total\{method="dkim",result="fail"\} 1$/m);
          assert.match(metrics, /^postern_smtp_auth_results_total\{method="spf",result="fail"\} [1-9]\d*$/m);
          assert.match(metrics, /^postern_smtp_auth_results_total\{method="dmarc",result="fail"\} 6$/m);
          assert.match(metrics, /^postern_smtp_refusals_total\{listener="mx",reason="dmarcReject"\} 2$/m);
          assert.match(metrics, /^postern_smtp_dmarc_quarantined_total 2$/m);
          const transactions = () =>
            server!.stderr().split("\n").filter((l) => l.includes('"smtp.transaction"'))
              .map((l) => JSON.parse(l).properties);
          // Info lines are written in batches (up to 25 ms after they are logged).
          await until(
            () => transactions().some((p) => p.outcome === "dmarcReject"),
            "the refusal's log line",
          );
          const lines = transactions();
          const refused = lines.find((p) => p.outcome === "dmarcReject");
          assert.deepEqual(refused?.authentication, {
            spf: "fail",
            dkim: "none",
            dmarc: "fail",
            arc: "none",
          });
          assert.ok(lines.some((p) => p.authentication?.action === "junk"));
        },
      );

      await t.step("DNS down: temperror, accepted into the Inbox and said in the header", async () => {
        await dns.stop();
        const sent = await send(
          port,
          { ...to, from: "ceo@reject.test" },
          message("ceo@reject.test", "dns down"),
        );
        assert.equal(sent.code, 250, sent.response);
        const stored = await storedEmail(url, alice, "dns down");
        assert.equal(stored?.mailbox, "Inbox");
        const header = stored?.authenticationResults.find((h) => h.startsWith("example.org;"));
        assert.equal(result(header, "spf"), "temperror", header);
        assert.equal(result(header, "dmarc"), "temperror", header);
      });
    } finally {
      await server?.stop();
      await dns.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
