/**
 * A real bounce from Postfix (Debian package `postfix`) coming back to the submission it is about:
 * alice sends through the smarthost, a private Postfix, which accepts the message (so the
 * submission shows the 250), then tries the recipient's server (smtp-server on loopback, refusing
 * the address with 550 5.1.1) and bounces the message to alice through Postern's MX. The bounce
 * lands in alice's Inbox like any mail, and her EmailSubmission now says the recipient failed, with
 * the remote server's reply. Postfix must run as root (its master process); skipped otherwise.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { canRunPostfix, type PostfixInstance, startPostfix } from "../scripts/bench/postfix.ts";
import { parseDsn } from "../src/mail/mod.ts";
import { freePort, until } from "./helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { createUsers, mailCall, type Obj, serverTarget } from "./mail_helpers.ts";
import { skipping, startMxProcess } from "./smtp_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

const ignore = !(await canRunPostfix()) &&
  skipping("Postfix bounces to the MX", Deno.uid() === 0 ? "postfix" : "postfix (and root to run it)");

/** The recipient's server: refuses every recipient as unknown. */
async function refusingServer() {
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      callback(Object.assign(
        new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`),
        { responseCode: 550 },
      ));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

Deno.test({
  name: "a Postfix bounce for a sent message marks the submission's recipient as failed, and is delivered",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "postern-dsn-" });
    const postfixDir = await Deno.makeTempDir({ prefix: "postern-dsn-postfix-" });
    const remote = await refusingServer();
    const server = await startMxProcess(dir);
    let postfix: PostfixInstance | undefined;
    try {
      const target = serverTarget(server.url);
      postfix = await startPostfix(postfixDir, {
        smtpPort: freePort(),
        transports: {
          "example.org": `smtp:[127.0.0.1]:${server.smtpPort}`,
          "elsewhere.test": `smtp:[127.0.0.1]:${remote.port}`,
        },
      });
      await managementCall(target, ADMIN, "x:Smarthost/set", {
        accountId: "b",
        update: { singleton: { host: "127.0.0.1", port: postfix.smtpPort, security: "none" } },
      });
      await managementCall(target, ADMIN, "x:Outbound/set", {
        accountId: "b",
        update: { singleton: { route: "smarthost" } },
      });
      const [alice] = await createUsers(target, ["alice"]);
      const app = target as never;
      const emailId = await draft(app, alice, {
        to: [{ name: null, email: "nobody@elsewhere.test" }],
        subject: "Will bounce",
      });
      const created = (await send(app, alice, emailId)).created as Record<string, Obj>;
      const id = created.s.id as string;
      const statusOf = async () =>
        (((await call(app, alice, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0]
          .deliveryStatus as Record<string, Obj>)["nobody@elsewhere.test"];
      assert.match(String((await statusOf()).smtpReply), /^250 /, "Postfix took the message");

      const pf = postfix;
      await until(async () => (await statusOf()).delivered === "no", "the bounce to reach the submission")
        .catch(async (error) => {
          throw new Error(`${error.message}:\n${await pf.log()}`);
        });
      const status = await statusOf();
      assert.match(
        String(status.smtpReply),
        /^550 5\.1\.1 <nobody@elsewhere\.test>: Recipient address rejected: User unknown/,
      );

      // The bounce itself is in alice's Inbox, a report parseDsn reads.
      const { ids } = await mailCall(target, "Email/query", { filter: { from: "MAILER-DAEMON" } }, alice);
      assert.equal((ids as string[]).length, 1);
      const { list } = await mailCall(target, "Email/get", { ids, properties: ["blobId", "subject"] }, alice);
      const bounce = (list as Obj[])[0];
      assert.equal(bounce.subject, "Undelivered Mail Returned to Sender");
      const response = await target.fetch(`/jmap/download/${alice.accountId}/${bounce.blobId}/m.eml`, {
        headers: { authorization: alice.auth },
      });
      const dsn = parseDsn(new Uint8Array(await response.arrayBuffer()));
      assert.equal(dsn?.reportingMta, "sender.test");
      assert.equal(dsn?.recipients[0].finalRecipient, "nobody@elsewhere.test");
      assert.equal(dsn?.recipients[0].action, "failed");
      assert.equal(dsn?.recipients[0].status, "5.1.1");
    } finally {
      await postfix?.stop();
      await server.stop();
      await remote.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(postfixDir, { recursive: true });
    }
  },
});
