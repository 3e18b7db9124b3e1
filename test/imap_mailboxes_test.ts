/**
 * IMAP mailbox commands with Python's imaplib against a real `postern serve`, each change checked
 * over JMAP: LIST (SPECIAL-USE from the roles, children), CREATE (parents, USE), RENAME, DELETE,
 * SUBSCRIBE, STATUS, modified UTF-7 names; the "Other Users" namespace by the grants that exist, no
 * answer that tells a mailbox without a grant from one that does not exist, and a deleted sharer
 * gone from LIST at once.
 */
import assert from "node:assert/strict";
import { imaplib, imapPeersMissing, startImapProcess } from "./imap_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  mailboxesByName,
  type Obj,
  rights,
  serverTarget,
  share,
} from "./mail_helpers.ts";
import { PASSWORD } from "./helpers.ts";
import { importMessage } from "./email_helpers.ts";

const ignore = imapPeersMissing("IMAP mailbox commands with imaplib", true);

Deno.test({
  name: "IMAP mailbox commands change the JMAP mailboxes, and shared ones appear by their grants",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-mailboxes-" });
    const server = await startImapProcess(dataDir);
    try {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const run = async (user: string, steps: unknown[][]) => {
        const results = await imaplib({
          port: server.imapsPort,
          tls: "implicit",
          steps: [["login", user, PASSWORD], ...steps, ["logout"]],
        }) as Obj[];
        assert.equal(results[0].typ, "OK", JSON.stringify(results[0]));
        return results.slice(1, -1);
      };
      const byName = async () => await mailboxesByName(target, alice);

      await t.step("LIST shows INBOX and the special-use mailboxes from the roles", async () => {
        const [listed] = await run("alice", [["list", '""', "*"]]);
        assert.equal(listed.typ, "OK");
        const lines = listed.data as string[];
        assert.ok(lines.includes('(\\HasNoChildren) "/" "INBOX"'), lines.join("\n"));
        assert.ok(lines.includes('(\\HasNoChildren \\Sent) "/" "Sent"'), lines.join("\n"));
        assert.ok(lines.includes('(\\HasNoChildren \\Trash) "/" "Trash"'), lines.join("\n"));
        const [root] = await run("alice", [["list", '""', '""']]);
        assert.deepEqual(root.data, ['(\\Noselect) "/" ""']);
      });

      await t.step("CREATE makes missing parents and takes USE; RENAME moves; JMAP sees both", async () => {
        const results = await run("alice", [
          ["create", "Projects/2026"],
          ["raw", "CREATE", "Starred (USE (\\Flagged))"],
          ["create", "Gr&APwA3w-e"],
          ["rename", "Projects/2026", "Archive/2026"],
        ]);
        for (const r of results) assert.equal(r.typ, "OK", JSON.stringify(results));
        const mailboxes = await byName();
        assert.equal(mailboxes["2026"].parentId, mailboxes.Archive.id);
        assert.equal(mailboxes.Projects.parentId, null);
        assert.equal(mailboxes.Starred.role, "flagged");
        assert.ok(mailboxes["Grüße"], Object.keys(mailboxes).join(", "));
        const [listed] = await run("alice", [["list", '""', "Archive*"]]);
        assert.deepEqual(listed.data, [
          '(\\HasChildren \\Archive) "/" "Archive"',
          '(\\HasNoChildren) "/" "Archive/2026"',
        ]);
        const [utf7] = await run("alice", [["list", '""', "Gr*"]]);
        assert.deepEqual(utf7.data, ['(\\HasNoChildren) "/" "Gr&APwA3w-e"']);
      });

      await t.step("SUBSCRIBE, STATUS, DELETE; refusals with their response codes", async () => {
        const [sub, unsub, status, del, missing, inbox, again] = await run("alice", [
          ["subscribe", "Projects"],
          ["unsubscribe", "Sent"],
          ["status", "INBOX", "(MESSAGES UNSEEN)"],
          ["delete", "Projects"],
          ["delete", "Nope"],
          ["create", "inbox"],
          ["create", "Archive"],
        ]);
        assert.equal(sub.typ, "OK");
        assert.equal(unsub.typ, "OK");
        assert.deepEqual(status.data, ['"INBOX" (MESSAGES 0 UNSEEN 0)']);
        assert.equal(del.typ, "OK", JSON.stringify(del));
        assert.match(String(missing.data ?? missing.error), /NONEXISTENT/, JSON.stringify(missing));
        assert.match(String(inbox.data ?? inbox.error), /ALREADYEXISTS/, JSON.stringify(inbox));
        assert.match(String(again.data ?? again.error), /ALREADYEXISTS/, JSON.stringify(again));
        const mailboxes = await byName();
        assert.equal(mailboxes.Projects, undefined);
        assert.equal(mailboxes.Sent.isSubscribed, false);
      });

      await t.step(
        "STATUS gives the IMAP store's UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ, SIZE and MAILBOXID",
        async () => {
          const items = "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ SIZE DELETED MAILBOXID)";
          const figures = (line: string) =>
            Object.fromEntries([...line.matchAll(/([A-Z]+) (\d+|\([^)]*\))/g)].map((m) => [m[1], m[2]]));
          const [before] = await run("alice", [["status", "INBOX", items]]);
          const first = figures(String((before.data as string[])[0]));
          const inboxId = (await byName()).Inbox.id as string;
          assert.equal(first.MAILBOXID, `(${inboxId})`, "MAILBOXID is the JMAP Mailbox id");
          assert.equal(first.DELETED, "0");
          const message = "From: bob@example.org\r\nSubject: counted\r\n\r\nhello\r\n";
          await importMessage(target, alice, new TextEncoder().encode(message), { mailboxIds: [inboxId] });
          const [after] = await run("alice", [["status", "INBOX", items]]);
          const second = figures(String((after.data as string[])[0]));
          assert.equal(Number(second.MESSAGES), Number(first.MESSAGES) + 1);
          assert.equal(Number(second.UIDNEXT), Number(first.UIDNEXT) + 1, "the JMAP import took a UID");
          assert.ok(Number(second.HIGHESTMODSEQ) > Number(first.HIGHESTMODSEQ), "and a MODSEQ");
          assert.equal(second.UIDVALIDITY, first.UIDVALIDITY);
          assert.equal(Number(second.SIZE), Number(first.SIZE) + message.length);
        },
      );

      await t.step("RENAME INBOX moves its messages to a new mailbox and leaves INBOX, empty", async () => {
        const inboxId = (await byName()).Inbox.id as string;
        const message = "From: bob@example.org\r\nSubject: old\r\n\r\nold\r\n";
        await importMessage(target, alice, new TextEncoder().encode(message), { mailboxIds: [inboxId] });
        const [before] = await run("alice", [["status", "INBOX", "(MESSAGES)"]]);
        const count = Number(/MESSAGES (\d+)/.exec(String((before.data as string[])[0]))![1]);
        assert.ok(count >= 1);
        const [renamed, inbox, moved, taken, itself] = await run("alice", [
          ["rename", "INBOX", '"Old mail"'],
          ["status", "INBOX", "(MESSAGES)"],
          ["status", '"Old mail"', "(MESSAGES)"],
          ["rename", "INBOX", "Archive"],
          ["rename", "INBOX", "inbox"],
        ]);
        assert.equal(renamed.typ, "OK", JSON.stringify(renamed));
        assert.deepEqual(inbox.data, ['"INBOX" (MESSAGES 0)']);
        assert.deepEqual(moved.data, [`"Old mail" (MESSAGES ${count})`]);
        assert.match(String(taken.data ?? taken.error), /ALREADYEXISTS/, JSON.stringify(taken));
        assert.match(String(itself.data ?? itself.error), /ALREADYEXISTS/, JSON.stringify(itself));
        const mailboxes = await byName();
        assert.equal(mailboxes.Inbox.id, inboxId, "INBOX is the same mailbox");
        assert.equal(mailboxes.Inbox.role, "inbox");
        assert.equal(mailboxes.Inbox.totalEmails, 0);
        assert.equal(mailboxes["Old mail"].totalEmails, count);
        assert.equal(mailboxes["Old mail"].role, null);
      });

      await t.step(
        "Other Users/<login>/ lists what is shared, nothing else, and vanishes with the sharer",
        async () => {
          const team = await createMailbox(target, bob, { name: "Team" });
          await createMailbox(target, bob, { name: "Private" });
          await share(target, bob, team.id as string, { [alice.accountId]: rights("mayReadItems") });
          const [listed, levels, shared, hidden, none] = await run("alice", [
            ["list", '""', '"Other Users/*"'],
            ["list", '""', '"Other Users/%"'],
            ["status", '"Other Users/bob/Team"', "(MESSAGES)"],
            ["status", '"Other Users/bob/Private"', "(MESSAGES)"],
            ["status", '"Other Users/bob/Nothing"', "(MESSAGES)"],
          ]);
          assert.deepEqual(listed.data, [
            '(\\Noselect \\HasChildren) "/" "Other Users/bob"',
            '(\\HasNoChildren) "/" "Other Users/bob/Team"',
          ]);
          assert.deepEqual(levels.data, ['(\\Noselect \\HasChildren) "/" "Other Users/bob"']);
          assert.equal(shared.typ, "OK");
          // Not shared and not there answer alike (RFC 4314 §6).
          const text = (r: Obj) => String(r.data ?? r.error).replace(/"[^"]*"/, "NAME");
          assert.equal(text(hidden), text(none));
          assert.match(text(hidden), /NONEXISTENT/);
          await adminSetAccounts(target, { destroy: [bob.accountId] });
          const [after] = await run("alice", [["list", '""', "*"]]);
          assert.doesNotMatch((after.data as string[]).join("\n"), /Other Users/);
        },
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
