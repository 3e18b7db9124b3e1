/**
 * A domain's catch-all (x:Domain catchAll): unknown addresses of the domain go to the account or
 * group it names, over a real MX session; known addresses are untouched; a catch-all that does not
 * resolve refuses as before; only an administrator sets it; a malformed one is invalidProperties;
 * a snapshot carries it.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { localClient } from "../src/cli/client.ts";
import { takeSnapshot } from "../src/cli/snapshot.ts";
import { SMTP_DEFAULTS } from "../src/config/mod.ts";
import { decodeId } from "../src/model/ids.ts";
import { SmtpMetrics, startMxServer } from "../src/smtp/mod.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, mailCall, type Obj, withAliceAndBob } from "./mail_helpers.ts";
import { rawDialogue, smtpMessage } from "./smtp_helpers.ts";

Deno.test("a domain's catch-all receives mail for its unknown addresses, set by administrators only", async (t) => {
  await withAliceAndBob(async (app, alice, bob) => {
    const setDomain = (auth: string, update: Obj) =>
      managementCall(app, auth, "x:Domain/set", {
        accountId: auth === ADMIN ? "b" : alice.accountId,
        update: { b: update },
      });

    await t.step("a user cannot set it; a malformed value is invalidProperties", async () => {
      const refused = await setDomain(alice.auth, { catchAll: "alice@example.org" });
      assert.equal(((refused.notUpdated as Obj).b as Obj).type, "forbidden", JSON.stringify(refused));
      const bad = await setDomain(ADMIN, { catchAll: "not an address" });
      const error = (bad.notUpdated as Obj).b as Obj;
      assert.equal(error.type, "invalidProperties", JSON.stringify(bad));
      assert.deepEqual(error.properties, ["catchAll"]);
    });

    // Without a catch-all an unknown address is refused.
    assert.equal((await app.services.inbound.checkRecipient("nobody@example.org")).accepted, false);
    const set = await setDomain(ADMIN, { catchAll: "alice@example.org" });
    assert.equal(set.notUpdated, null, JSON.stringify(set));
    const { list } = await managementCall(app, ADMIN, "x:Domain/get", { accountId: "b", ids: ["b"] });
    assert.equal((list as Obj[])[0].catchAll, "alice@example.org");

    await t.step("an MX session: the unknown address is accepted and lands in the catch-all", async () => {
      const mx = await startMxServer({
        hostname: "127.0.0.1",
        port: 0,
        serverName: "mx.example.org",
        inbound: app.services.inbound,
        limits: SMTP_DEFAULTS,
        metrics: new SmtpMetrics(),
        log: getLogger(["postern", "smtp"]),
      });
      try {
        const transcript = await rawDialogue(mx.addr.port, [
          "EHLO client.test\r\n",
          "MAIL FROM:<sender@remote.test>\r\n",
          "RCPT TO:<sales@example.org>\r\n",
          "RCPT TO:<bob@example.org>\r\n",
          "RCPT TO:<someone@elsewhere.test>\r\n",
          "DATA\r\n",
          smtpMessage("to the catch-all") + ".\r\n",
          "QUIT\r\n",
        ]);
        const replies = transcript.split("\r\n").filter((l) => /^\d{3} /.test(l));
        assert.match(replies[3], /^250 /, transcript); // sales@ → catch-all
        assert.match(replies[4], /^250 /, transcript); // bob@ is bob's
        assert.match(replies[5], /^550 5\.7\.1 /, transcript); // not a local domain: no relaying
        assert.match(replies[7], /^250 2\.6\.0 /, transcript);
      } finally {
        await mx.close(1000);
      }
      for (const [who, delivered] of [[alice, "sales@example.org"], [bob, "bob@example.org"]] as const) {
        const { ids } = await mailCall(app, "Email/query", {}, who);
        const { list } = await mailCall(app, "Email/get", {
          ids,
          properties: ["subject", "header:Delivered-To:asText"],
        }, who);
        assert.deepEqual(list, [{
          id: (list as Obj[])[0].id,
          subject: "to the catch-all",
          "header:Delivered-To:asText": delivered,
        }]);
      }
    });

    await t.step("a group as catch-all delivers to its members", async () => {
      const group = await managementCall(app, ADMIN, "x:Account/set", {
        accountId: "b",
        create: { g: { "@type": "Group", name: "sales-team", domainId: "b" } },
      });
      const groupId = ((group.created as Obj).g as Obj).id as string;
      const [carol] = await createUsers(app, ["carol"], { memberGroupIds: [groupId] });
      await setDomain(ADMIN, { catchAll: "sales-team@example.org" });
      const check = await app.services.inbound.checkRecipient("orders@example.org");
      assert.ok(check.accepted);
      assert.deepEqual(check.recipient, {
        address: "orders@example.org",
        accountIds: [decodeId(carol.accountId)],
        // The receiving domain's DMARC enforcement (here the default), not the catch-all's domain's.
        dmarcEnforcement: "enforce",
      });
    });

    await t.step("a catch-all naming nobody, or a disabled account, refuses as unknown", async () => {
      await setDomain(ADMIN, { catchAll: "gone@example.org" });
      const gone = await app.services.inbound.checkRecipient("x@example.org");
      assert.deepEqual(gone, {
        accepted: false,
        reason: "unknownRecipient",
        detail: 'No mailbox "x@example.org" here',
      });
      await managementCall(app, ADMIN, "x:Account/set", {
        accountId: "b",
        update: { [bob.accountId]: { enabled: false } },
      });
      await setDomain(ADMIN, { catchAll: "bob@example.org" });
      const disabled = await app.services.inbound.checkRecipient("y@example.org");
      assert.equal(disabled.accepted, false);
      assert.equal(!disabled.accepted && disabled.reason, "unknownRecipient");
      // The disabled account's own address is still said to be disabled.
      const own = await app.services.inbound.checkRecipient("bob@example.org");
      assert.equal(!own.accepted && own.reason, "disabled");
    });

    await t.step("a snapshot carries the catch-all", async () => {
      const snapshot = await takeSnapshot(localClient(app.services), new Set(["Domain"]));
      const line = snapshot.lines.find((l) => l.type === "domain");
      assert.equal((line?.fields as Obj).catchAll, "bob@example.org", JSON.stringify(snapshot.lines));
    });
  });
});
