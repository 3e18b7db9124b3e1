/**
 * APPEND of octets the account already holds makes a new message, as Dovecot does (migration
 * 046_email_copies.ts). The bug it fixes, from the IMAP mixed-load benchmark: its client APPENDed
 * corpus messages the account already held, got the EXISTING message's UID in APPENDUID, and
 * expunged the original as its own copy. Here over a real `postern serve`: raw IMAP on 993, then
 * imapflow; each copy is a JMAP email of its own in the same thread, the quota counts each, and after
 * the copy is expunged the original is still there over IMAP and JMAP; `postern db check` is clean.
 */
import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { decodeId } from "../src/model/ids.ts";
import { cli, PASSWORD } from "./helpers.ts";
import { imapLogins, imapPeersMissing, startImapProcess } from "./imap_helpers.ts";
import { CORE, MAIL, QUOTA } from "./jmap_helpers.ts";
import {
  adminSetAccounts,
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  serverTarget,
  type Target,
  type Who,
} from "./mail_helpers.ts";

const ignore = imapPeersMissing("APPEND of a message already in the account");

/** No Message-ID: the copy joins its original's thread by its octets alone. */
const MESSAGE = "From: carol@example.net\r\nTo: alice@example.org\r\nSubject: Corpus message\r\n" +
  "Date: Mon, 7 Dec 2026 06:00:00 +0000\r\n\r\nThe same octets, appended twice.\r\n";
const SIZE = new TextEncoder().encode(MESSAGE).length;

/** The storage quota's used octets, as Quota/get (RFC 9425) tells the user. */
async function usedOctets(target: Target, who: Who): Promise<number> {
  const response = await target.fetch("/jmap", {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "application/json" },
    body: JSON.stringify({
      using: [CORE, MAIL, QUOTA],
      methodCalls: [["Quota/get", { accountId: who.accountId, ids: ["storage"] }, "q"]],
    }),
  });
  assert.equal(response.status, 200);
  const [[, result]] = (await response.json()).methodResponses;
  return (result.list as Obj[])[0].used as number;
}

async function inboxEmails(target: Target, who: Who): Promise<Obj[]> {
  const inbox = (await mailboxesByName(target, who)).Inbox.id as string;
  const query = await mailCall(target, "Email/query", { filter: { inMailbox: inbox } }, who);
  const got = await mailCall(target, "Email/get", {
    ids: query.ids,
    properties: ["id", "threadId", "blobId", "size", "subject"],
  }, who);
  return got.list as Obj[];
}

Deno.test({
  name:
    "APPEND of the same octets twice makes two messages; expunging the second leaves the first (IMAP, JMAP, quota)",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-append-copies-" });
    const server = await startImapProcess(dataDir);
    const logins = imapLogins(server);
    try {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      await adminSetAccounts(target, {
        update: {
          [alice.accountId]: { "quotas/maxDiskQuota": 1_000_000 },
          [bob.accountId]: { "quotas/maxDiskQuota": 2 * SIZE + 10 },
        },
      });

      await t.step("raw IMAP: two APPENDUIDs, two emails in one thread, the quota counts both", async () => {
        const imap = await logins.login(alice);
        const append = async () => {
          const answer = (await imap.command(`APPEND INBOX {${SIZE}+}\r\n${MESSAGE}`)).at(-1)!;
          const uid = /OK \[APPENDUID \d+ (\d+)\]/.exec(answer)?.[1];
          assert.ok(uid, answer);
          return Number(uid);
        };
        const first = await append();
        const second = await append();
        assert.notEqual(second, first, "a UID of its own");
        const emails = await inboxEmails(target, alice);
        assert.equal(emails.length, 2);
        assert.notEqual(emails[0].id, emails[1].id);
        assert.equal(emails[0].threadId, emails[1].threadId, "the copy joins its original's thread");
        assert.equal(emails[0].blobId, emails[1].blobId, "the octets are stored once");
        assert.equal(await usedOctets(target, alice), 2 * SIZE, "each copy counts, as Dovecot counts it");
        const counts = async () => {
          const inbox = (await mailboxesByName(target, alice)).Inbox;
          return [inbox.totalEmails, inbox.unreadEmails, inbox.totalThreads, inbox.unreadThreads];
        };
        assert.deepEqual(await counts(), [2, 2, 1, 1], "two emails, one thread");

        // The benchmark client's steps: expunge the UID it was given as its own.
        await imap.command("SELECT INBOX");
        assert.match((await imap.command(`UID STORE ${second} +FLAGS.SILENT (\\Deleted)`)).at(-1)!, / OK /);
        const expunged = await imap.command(`UID EXPUNGE ${second}`);
        assert.match(expunged.at(-1)!, / OK /, expunged.join("\n"));
        assert.ok(expunged.includes("* 2 EXPUNGE"), expunged.join("\n"));
        const fetched = await imap.command(`UID FETCH ${first} (UID BODY.PEEK[])`);
        assert.match(fetched.at(-1)!, / OK /);
        assert.ok(fetched.some((line) => line.includes(`UID ${first} `)), fetched.join("\n"));
        assert.ok(fetched.some((line) => line === "The same octets, appended twice."), fetched.join("\n"));
        const status = await imap.command("STATUS INBOX (MESSAGES)");
        assert.ok(
          status.some((line) => /^\* STATUS "?INBOX"? \(MESSAGES 1\)$/.test(line)),
          status.join("\n"),
        );

        // Over JMAP the original (the older email) is the one left, readable to the last octet.
        const original = emails.map((e) => e.id as string).sort((x, y) => decodeId(x)! - decodeId(y)!)[0];
        const left = await inboxEmails(target, alice);
        assert.deepEqual(left.map((e) => e.id), [original]);
        assert.equal(left[0].subject, "Corpus message");
        const download = await target.fetch(
          `/jmap/download/${alice.accountId}/${left[0].blobId}/message.eml`,
          { headers: { authorization: alice.auth } },
        );
        assert.equal(download.status, 200);
        assert.equal(await download.text(), MESSAGE);
        assert.equal(await usedOctets(target, alice), SIZE);
        assert.deepEqual(await counts(), [1, 1, 1, 1]);
      });

      await t.step("a copy the quota has no room for is NO [OVERQUOTA]", async () => {
        const imap = await logins.login(bob);
        for (let i = 0; i < 2; i++) {
          assert.match(
            (await imap.command(`APPEND INBOX {${SIZE}+}\r\n${MESSAGE}`)).at(-1)!,
            /OK \[APPENDUID/,
          );
        }
        const over = (await imap.command(`APPEND INBOX {${SIZE}+}\r\n${MESSAGE}`)).at(-1)!;
        assert.match(over, /NO \[OVERQUOTA\]/);
        assert.equal((await inboxEmails(target, bob)).length, 2, "nothing stored by the refused APPEND");
        assert.equal(await usedOctets(target, bob), 2 * SIZE);
      });

      await t.step("imapflow: append twice, two UIDs; deleting the second keeps the first", async () => {
        const client = new ImapFlow({
          host: "127.0.0.1",
          port: server.imapsPort,
          secure: true,
          tls: { rejectUnauthorized: false },
          auth: { user: alice.emailAddress, pass: PASSWORD },
          logger: false,
        });
        await client.connect();
        try {
          const one = await client.append("Archive", MESSAGE, ["\\Seen"]);
          const two = await client.append("Archive", MESSAGE);
          assert.ok(one && two);
          assert.notEqual(one.uid, two.uid);
          const lock = await client.getMailboxLock("Archive");
          try {
            assert.equal(await client.messageDelete(String(two.uid), { uid: true }), true);
            const kept = await client.fetchOne(String(one.uid), { source: true, flags: true }, { uid: true });
            assert.ok(kept, "the first copy is still there");
            assert.equal(kept.source?.toString(), MESSAGE);
            assert.ok(kept.flags?.has("\\Seen"));
            const status = await client.status("Archive", { messages: true });
            assert.ok(status && status.messages === 1, JSON.stringify(status));
          } finally {
            lock.release();
          }
        } finally {
          await client.logout();
        }
        // Alice: the Inbox original and the Archive copy.
        assert.equal(await usedOctets(target, alice), 2 * SIZE);
      });
    } finally {
      logins.closeAll();
      await server.stop();
    }
    try {
      const check = await cli(["db", "check", "--data", dataDir]);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /Database OK/);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
