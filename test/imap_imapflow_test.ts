/**
 * The npm client imapflow against a real `postern serve`: STARTTLS on 143 and implicit TLS on 993,
 * the account password and an OAuth access token of the mail scope (XOAUTH2/OAUTHBEARER), with
 * COMPRESS=DEFLATE on (imapflow turns it on when offered); LIST, STATUS, CREATE, RENAME, DELETE
 * checked over JMAP.
 */
import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { PASSWORD, until } from "./helpers.ts";
import { imapPeersMissing, startImapProcess } from "./imap_helpers.ts";
import { createUsers, mailboxesByName, serverTarget, userAccessToken } from "./mail_helpers.ts";
import { registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";

const ignore = imapPeersMissing("IMAP with imapflow");

Deno.test({
  name: "imapflow logs in with a password or a token, compresses, and manages mailboxes seen over JMAP",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imapflow-" });
    const server = await startImapProcess(dataDir);
    try {
      const target = serverTarget(server.url);
      const [alice] = await createUsers(target, ["alice"]);
      const client = await registerClientWithCli(dataDir, { requireConsent: false });
      const token = await userAccessToken(target, new TestBrowser(server.url), client, {
        username: alice.emailAddress,
        scope: "urn:ietf:params:jmap:mail",
      });
      const connect = async (port: number, secure: boolean, auth: Record<string, string>) => {
        const imap = new ImapFlow({
          host: "127.0.0.1",
          port,
          secure,
          doSTARTTLS: secure ? undefined : true,
          tls: { rejectUnauthorized: false },
          auth: auth as never,
          logger: false,
        });
        await imap.connect();
        return imap;
      };

      await t.step("STARTTLS with the password: LIST, CREATE, RENAME, STATUS, DELETE", async () => {
        const imap = await connect(server.imapPort, false, { user: alice.emailAddress, pass: PASSWORD });
        try {
          const listed = await imap.list();
          const inbox = listed.find((m) => m.path === "INBOX");
          assert.ok(inbox, JSON.stringify(listed.map((m) => m.path)));
          assert.equal(listed.find((m) => m.path === "Sent")?.specialUse, "\\Sent");
          await imap.mailboxCreate("Receipts");
          await imap.mailboxRename("Receipts", "Archive/Receipts");
          const status = await imap.status("Archive/Receipts", { messages: true, unseen: true });
          assert.ok(status, "STATUS failed");
          assert.equal(status.messages, 0);
          let mailboxes = await mailboxesByName(target, alice);
          assert.equal(mailboxes.Receipts.parentId, mailboxes.Archive.id);
          await imap.mailboxDelete("Archive/Receipts");
          mailboxes = await mailboxesByName(target, alice);
          assert.equal(mailboxes.Receipts, undefined);
        } finally {
          await imap.logout();
        }
      });

      await t.step("993 with an OAuth access token", async () => {
        const imap = await connect(server.imapsPort, true, { user: alice.emailAddress, accessToken: token });
        try {
          const listed = await imap.list();
          assert.ok(listed.some((m) => m.path === "Trash"));
        } finally {
          await imap.logout();
        }
      });

      await t.step("the sessions were compressed (COMPRESS=DEFLATE), as their log lines say", async () => {
        const lines = () => server.stderr().split("\n").filter((l) => l.includes('"imap.session"'));
        await until(() => lines().length === 2, "both sessions to end");
        for (const line of lines()) assert.match(line, /"compressed":true/, line);
      });
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
