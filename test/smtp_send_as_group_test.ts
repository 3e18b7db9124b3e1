/**
 * Sending as a group over SMTP submission, against a real `postern serve` process: nodemailer as a
 * member with the right (MAIL FROM and From the group's address: accepted, in the member's Sent and
 * the recipient's Inbox), a member without it and a non-member (553 5.7.1, nothing stored), and the
 * right taken away in the middle of a session, by the server or by the CLI on the database file (another
 * process): the next MAIL FROM is 553 5.7.1.
 */
import assert from "node:assert/strict";
import { cli, PASSWORD } from "./helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget } from "./mail_helpers.ts";
import {
  eventually,
  loggedInTalk,
  nodemailerSubmit,
  startSubmissionProcess,
  subjectsIn,
  submissionPeersMissing,
  submittedMessage,
} from "./smtp_submission_helpers.ts";

const ignore = submissionPeersMissing("SMTP submission as a group");

Deno.test({
  name:
    "a member with the right submits as the group; without it, or after it is revoked mid-session, 553 5.7.1",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-send-as-" });
    const server = await startSubmissionProcess(dataDir);
    try {
      const target = serverTarget(server.url);
      const setAccounts = async (args: Obj) => {
        const result = await managementCall(target, ADMIN, "x:Account/set", { accountId: "b", ...args });
        for (const failed of ["notCreated", "notUpdated"]) {
          assert.equal(result[failed], null, JSON.stringify(result));
        }
        return result;
      };
      const made = await setAccounts({ create: { team: { "@type": "Group", name: "team", domainId: "b" } } });
      const teamId = ((made.created as Obj).team as Obj).id as string;
      const [alice, bob] = await createUsers(target, ["alice", "bob"], { memberGroupIds: [teamId] });
      const [carol] = await createUsers(target, ["carol"]);
      const grant = (groups: string[]) =>
        setAccounts({ update: { [alice.accountId]: { sendAsGroupIds: groups } } });
      await grant([teamId]);
      const submit = (who: typeof alice, subject: string) =>
        nodemailerSubmit(server.submissionsPort, {
          implicitTls: true,
          auth: { user: who.emailAddress, pass: PASSWORD },
          from: "team@example.org",
          to: [carol.emailAddress],
          raw: submittedMessage("Team <team@example.org>", [carol.emailAddress], subject),
        });

      await t.step("the member with the right: accepted, kept in her Sent, delivered", async () => {
        assert.deepEqual(await submit(alice, "from the team"), { ok: true });
        assert.deepEqual(await subjectsIn(server, alice, "Sent"), ["from the team"]);
        // The send runs after the 250: the copy arrives soon after.
        await eventually(async () =>
          assert.deepEqual(await subjectsIn(server, carol, "Inbox"), ["from the team"])
        );
      });

      await t.step("a member without the right and a non-member: 553 5.7.1, nothing stored", async () => {
        for (const who of [bob, carol]) {
          const refused = await submit(who, `forged by ${who.emailAddress}`);
          assert.equal(refused.ok, false);
          assert.match((refused as { reply: string }).reply, /^553 5\.7\.1 /);
          assert.deepEqual(await subjectsIn(server, who, "Sent"), []);
        }
        // A From of the group under the member's own envelope is refused after DATA, the same way.
        const talk = await loggedInTalk(server, bob.emailAddress);
        try {
          const forged = await talk.mail(
            bob.emailAddress,
            [carol.emailAddress],
            submittedMessage("team@example.org", [carol.emailAddress], "forged From"),
          );
          assert.match(forged, /^553 5\.7\.1 .*From/);
        } finally {
          talk.close();
        }
        assert.deepEqual(await subjectsIn(server, carol, "Inbox"), ["from the team"]);
      });

      await t.step(
        "the right revoked in the middle of a session: the next MAIL FROM is 553 5.7.1",
        async () => {
          const talk = await loggedInTalk(server, alice.emailAddress);
          try {
            const first = await talk.mail(
              "team@example.org",
              [carol.emailAddress],
              submittedMessage("team@example.org", [carol.emailAddress], "before the revocation"),
            );
            assert.match(first, /^250 /);
            await grant([]);
            assert.match(await talk.command("MAIL FROM:<team@example.org>"), /^553 5\.7\.1 /);
            // Her own address still works in the same session.
            const own = await talk.mail(
              alice.emailAddress,
              [carol.emailAddress],
              submittedMessage(alice.emailAddress, [carol.emailAddress], "from alice herself"),
            );
            assert.match(own, /^250 /);
          } finally {
            talk.close();
          }
          assert.deepEqual(await subjectsIn(server, alice, "Sent"), [
            "before the revocation",
            "from alice herself",
            "from the team",
          ]);
        },
      );

      await t.step(
        "given again, then taken away by the CLI on the database file: the next MAIL FROM is 553 5.7.1",
        async () => {
          await grant([teamId]);
          const talk = await loggedInTalk(server, alice.emailAddress);
          try {
            assert.match(await talk.command("MAIL FROM:<team@example.org>"), /^250 /);
            assert.match(await talk.command("RSET"), /^250 /);
            // Another process (the local CLI) writes the database the server runs on.
            const revoked = await cli([
              "--data",
              dataDir,
              "update",
              "account",
              "alice",
              "--field",
              "sendAsGroupIds=[]",
            ]);
            assert.equal(revoked.code, 0, revoked.stderr);
            assert.match(await talk.command("MAIL FROM:<team@example.org>"), /^553 5\.7\.1 /);
          } finally {
            talk.close();
          }
        },
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
