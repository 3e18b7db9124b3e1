/**
 * Where submitted mail goes, against a real `postern serve` process: recipients of other domains
 * through the smarthost (here a real SMTP server on loopback, smtp-server) without the Bcc field,
 * local ones into their Inbox, each with its delivery status on the EmailSubmission; and what was
 * answered 250 survives a kill -9 of the server, while a message cut off mid-DATA leaves nothing.
 */
import assert from "node:assert/strict";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, type Obj, serverTarget, type Who } from "./mail_helpers.ts";
import { smarthost } from "./smtp_helpers.ts";
import { call } from "./submission_helpers.ts";
import {
  eventually,
  loggedInTalk,
  startSubmissionProcess,
  subjectsIn,
  submissionPeersMissing,
  submittedMessage,
} from "./smtp_submission_helpers.ts";

const ignore = submissionPeersMissing("SMTP submission relay and durability");

/** The account's EmailSubmissions. */
async function submissions(url: string, who: Who): Promise<Obj[]> {
  const target = serverTarget(url);
  return (await call(target as never, who, "EmailSubmission/get", { ids: null })).list as Obj[];
}

Deno.test({
  name: "submitted mail to other domains goes through the smarthost, local mail to the Inbox",
  ignore,
  async fn() {
    const host = await smarthost();
    const dataDir = await Deno.makeTempDir({ prefix: "postern-submission-relay-" });
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
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const talk = await loggedInTalk(server, alice.emailAddress);
      try {
        const to = ["friend@elsewhere.example", bob.emailAddress, "secret@elsewhere.example"];
        const message = submittedMessage(
          alice.emailAddress,
          to.slice(0, 2),
          "relayed",
          "Bcc: secret@elsewhere.example\r\n",
        );
        assert.match(
          await talk.mail(alice.emailAddress, to, message),
          /^250 2\.6\.0 Message accepted for delivery as /,
        );
      } finally {
        talk.close();
      }
      await eventually(() => assert.equal(host.received.length, 1));
      const [relayed] = host.received;
      assert.equal(relayed.from, alice.emailAddress);
      assert.deepEqual(relayed.to.sort(), ["friend@elsewhere.example", "secret@elsewhere.example"]);
      assert.match(relayed.data, /^Subject: relayed\r$/m);
      assert.doesNotMatch(relayed.data, /^Bcc:/im, "the Bcc field never travels");
      await eventually(async () => assert.deepEqual(await subjectsIn(server, bob, "Inbox"), ["relayed"]));
      await eventually(async () => {
        const [submission] = await submissions(server.url, alice);
        const status = submission.deliveryStatus as Record<string, Obj>;
        assert.equal(status[bob.emailAddress].delivered, "yes");
        assert.match(String(status["friend@elsewhere.example"].smtpReply), /^250 .*Queued as R1/);
      });
    } finally {
      await server.stop();
      await host.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a submission answered 250 survives kill -9; one cut off in DATA leaves nothing",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-submission-kill-" });
    let server = await startSubmissionProcess(dataDir);
    try {
      const [alice, bob] = await createUsers(serverTarget(server.url), ["alice", "bob"]);
      const talk = await loggedInTalk(server, alice.emailAddress);
      try {
        const message = submittedMessage(alice.emailAddress, [bob.emailAddress], "acknowledged");
        assert.match(await talk.mail(alice.emailAddress, [bob.emailAddress], message), /^250 /);
        assert.match(await talk.command(`MAIL FROM:<${alice.emailAddress}>`), /^250 /);
        assert.match(await talk.command(`RCPT TO:<${bob.emailAddress}>`), /^250 /);
        assert.match(await talk.command("DATA"), /^354 /);
        // Half a message, then the server dies.
        await talk.write(submittedMessage(alice.emailAddress, [bob.emailAddress], "cut off").slice(0, 80));
        server.kill("SIGKILL");
        await server.status;
      } finally {
        talk.close();
      }
      await server.stop();
      server = await startSubmissionProcess(dataDir);
      assert.deepEqual(await subjectsIn(server, alice, "Sent"), ["acknowledged"]);
      const [submission, ...more] = await submissions(server.url, alice);
      assert.equal(more.length, 0);
      assert.deepEqual((submission.envelope as Obj).rcptTo, [{ email: bob.emailAddress, parameters: null }]);
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
