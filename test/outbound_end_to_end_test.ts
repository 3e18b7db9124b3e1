/**
 * Outbound delivery end to end with real peers on loopback: `postern serve` delivers by MX (the
 * recipient domains' MX records come from dnsmasq) to Postfix's smtp-sink.
 *
 * - A destination that is down is retried on the schedule and, once it is up, gets the message
 *   exactly once (counted at the receiver, also after more retry periods have passed).
 * - A server that refuses the recipient with 5xx makes the EmailSubmission say "no" with its reply,
 *   and a bounce (an RFC 3464 report) lands in the sender's Inbox at once, while another recipient
 *   of the message is still being retried.
 * - What arrived carries both DKIM signatures, and mailauth verifies them against the records
 *   `postern dns` prints.
 */
import assert from "node:assert/strict";
import { parseDsn } from "../src/mail/mod.ts";
import { freePort, until } from "./helpers.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { dnsmasqOptions } from "./dns_check_helpers.ts";
import { resolverOf, verifyDkim } from "./dkim_helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, mailCall, type Obj, serverTarget } from "./mail_helpers.ts";
import { HAS_SMTP_SINK, initMailData, type Sink, startSink } from "./outbound_helpers.ts";
import { skipping, startMxProcess } from "./smtp_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

const ignore = !(HAS_DNSMASQ && HAS_SMTP_SINK) &&
  skipping("outbound delivery end to end", "dnsmasq and smtp-sink (postfix)");

const MAIL_HOST = "mail.example.org";

Deno.test({
  name:
    "by MX to real servers: down then up gets the message once, a 5xx bounces to the sender, DKIM verifies",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-outbound-e2e-" });
    const sinkPort = freePort();
    let up: Sink | undefined;
    const refusing = await startSink("127.0.0.2", sinkPort, ["-f", "RCPT"]);
    const records = await initMailData(dir, MAIL_HOST);
    const dns = await startDnsmasq({}, [
      ...dnsmasqOptions(records, MAIL_HOST),
      "--mx-host=up.test,mx.up.test,10",
      "--host-record=mx.up.test,127.0.0.1",
      "--mx-host=refuses.test,mx.refuses.test,10",
      "--host-record=mx.refuses.test,127.0.0.2",
    ]);
    const server = await startMxProcess(dir, {
      POSTERN_DNS_SERVER: dns.server,
      POSTERN_MAIL_HOST: MAIL_HOST,
    });
    try {
      const target = serverTarget(server.url);
      const app = target as never;
      await managementCall(target, ADMIN, "x:Outbound/set", {
        accountId: "b",
        update: { singleton: { mxPort: sinkPort, firstRetrySeconds: 1, maxRetrySeconds: 2 } },
      });
      const [alice] = await createUsers(target, ["alice"]);
      const emailId = await draft(app, alice, {
        to: [{ name: null, email: "bob@up.test" }, { name: null, email: "carol@refuses.test" }],
        subject: "Outbound end to end",
      });
      const id = (((await send(app, alice, emailId)).created as Record<string, Obj>).s.id) as string;
      const statusOf = async (address: string) =>
        (((await call(app, alice, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0]
          .deliveryStatus as Record<string, Obj>)[address];

      // carol's server refuses her: final, with its reply.
      await until(async () => (await statusOf("carol@refuses.test")).delivered === "no", "carol refused");
      assert.match(String((await statusOf("carol@refuses.test")).smtpReply), /^5\d\d /);
      // alice is told at once, while bob's server is still down.
      let bounceIds: string[] = [];
      await until(async () => {
        bounceIds = (await mailCall(target, "Email/query", { filter: { from: "MAILER-DAEMON" } }, alice))
          .ids as string[];
        return bounceIds.length === 1;
      }, "the bounce in alice's Inbox");
      const [bounce] =
        (await mailCall(target, "Email/get", { ids: bounceIds, properties: ["blobId"] }, alice))
          .list as Obj[];
      const download = await target.fetch(`/jmap/download/${alice.accountId}/${bounce.blobId}/b.eml`, {
        headers: { authorization: alice.auth },
      });
      const report = parseDsn(new Uint8Array(await download.arrayBuffer()));
      assert.deepEqual(report?.recipients.map((r) => [r.finalRecipient, r.action]), [
        ["carol@refuses.test", "failed"],
      ]);

      // bob's server is down: the submission waits, with the reason.
      await until(
        async () => /^4\d\d /.test(String((await statusOf("bob@up.test")).smtpReply)),
        "bob's first attempt to fail",
      );
      assert.equal((await statusOf("bob@up.test")).delivered, "queued");
      up = await startSink("127.0.0.1", sinkPort);
      await until(async () => (await statusOf("bob@up.test")).delivered === "yes", "bob's server took it");
      await until(async () => {
        const { ids } = await managementCall(target, ADMIN, "x:QueuedMessage/query", {
          accountId: "b",
          filter: { state: "deferred" },
        });
        return (ids as string[]).length === 0;
      }, "nothing left to retry");
      // Evidence that nothing is left to send it again: bob's recipient is delivered, with no next
      // attempt, after the attempts the down server cost.
      const { list } = await managementCall(target, ADMIN, "x:QueuedMessage/get", {
        accountId: "b",
        ids: null,
      });
      const bob = (list as Obj[]).flatMap((m) => Object.values(m.recipients as Record<string, Obj>))
        .find((r) => r.address === "bob@up.test")!;
      assert.equal(bob.state, "delivered");
      assert.equal(bob.nextAttemptAt, null);
      assert.ok(Number(bob.attempts) >= 2, `tried while down, then delivered: ${JSON.stringify(bob)}`);
      const received = await up.received();
      assert.equal(received.length, 1, "delivered once");
      assert.equal((await refusing.received()).length, 0);

      const message = received[0].slice(received[0].search(/^(?:DKIM-Signature|Received):/im))
        .replace(/\r?\n/g, "\r\n");
      const verdicts = await verifyDkim(message, resolverOf(records as unknown as Obj[]));
      assert.deepEqual(verdicts.map((v) => [v.domain, v.result]), [["example.org", "pass"], [
        "example.org",
        "pass",
      ]]);
    } finally {
      await server.stop();
      await up?.stop();
      await refusing.stop();
      await dns.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  },
});
