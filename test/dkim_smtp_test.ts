/**
 * DKIM on the SMTP submission path, against a real `postern serve` process: a message submitted on
 * port 465 for another domain reaches the smarthost (smtp-server on loopback) signed with the
 * domain's Ed25519 and RSA keys, and mailauth verifies both against the records `DnsRecords`
 * publishes.
 */
import assert from "node:assert/strict";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget } from "./mail_helpers.ts";
import {
  eventually,
  loggedInTalk,
  startSubmissionProcess,
  submissionPeersMissing,
  submittedMessage,
} from "./smtp_submission_helpers.ts";
import { resolverOf, verifyDkim } from "./dkim_helpers.ts";
import { smarthost } from "./smtp_helpers.ts";

Deno.test({
  name:
    "mail submitted over SMTP leaves through the smarthost signed with both keys, which mailauth verifies",
  ignore: submissionPeersMissing("DKIM on SMTP submission"),
  async fn() {
    const host = await smarthost();
    const dataDir = await Deno.makeTempDir({ prefix: "postern-dkim-smtp-" });
    const server = await startSubmissionProcess(dataDir);
    try {
      const target = serverTarget(server.url);
      await managementCall(target, ADMIN, "x:Smarthost/set", {
        accountId: "b",
        update: { singleton: { host: "127.0.0.1", port: host.port, security: "none" } },
      });
      await managementCall(target, ADMIN, "x:Outbound/set", {
        accountId: "b",
        update: { singleton: { route: "smarthost" } },
      });
      const [alice] = await createUsers(target, ["alice"]);
      const talk = await loggedInTalk(server, alice.emailAddress);
      try {
        const to = ["friend@elsewhere.example"];
        const message = submittedMessage(alice.emailAddress, to, "signed over smtp");
        assert.match(await talk.mail(alice.emailAddress, to, message), /^250 /);
      } finally {
        talk.close();
      }
      await eventually(() => assert.equal(host.received.length, 1));
      const done = await managementCall(target, ADMIN, "x:Action/set", {
        accountId: "b",
        create: { a: { "@type": "DnsRecords", domain: "example.org" } },
      });
      const records = ((done.created as Obj).a as Obj).records as Obj[];
      const verified = await verifyDkim(host.received[0].data, resolverOf(records));
      assert.deepEqual(verified.map((v) => [v.algorithm, v.result]).sort(), [
        ["ed25519-sha256", "pass"],
        ["rsa-sha256", "pass"],
      ]);
    } finally {
      await server.stop();
      await host.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
