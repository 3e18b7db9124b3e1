/**
 * SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE and UID EXPUNGE over a raw dialogue with a real
 * `postern serve`, every change made over JMAP and seen by the IMAP session at its next command
 * (and the other way round): the answer's shape for IMAP4rev1 and IMAP4rev2 clients, QRESYNC's
 * VANISHED (EARLIER), rights of a share (no read right: NO; read only: READ-ONLY), a mailbox deleted
 * or a grant taken back while selected (BYE, as Dovecot), and bad input.
 */
import assert from "node:assert/strict";
import { imapLogins, imapPeersMissing, startImapProcess } from "./imap_helpers.ts";
import {
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  rights,
  serverTarget,
  setMailboxes,
  share,
  type Target,
  type Who,
} from "./mail_helpers.ts";
import { distinctMessage, imported } from "./email_helpers.ts";

const ignore = imapPeersMissing("IMAP SELECT and EXPUNGE");

const mail = distinctMessage;

async function setKeywords(target: Target, who: Who, id: string, keywords: string[]): Promise<void> {
  const result = await mailCall(target, "Email/set", {
    update: { [id]: { keywords: Object.fromEntries(keywords.map((k) => [k, true])) } },
  }, who);
  assert.ok((result.updated as Obj)?.[id] !== undefined, JSON.stringify(result));
}

Deno.test({
  name: "IMAP SELECT/EXAMINE/EXPUNGE on the JMAP store, seen both ways, with rights and bad input",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-select-" });
    const server = await startImapProcess(dataDir);
    const { login, closeAll } = imapLogins(server);
    try {
      const target = serverTarget(server.url);
      const [alice, bob, carol] = await createUsers(target, ["alice", "bob", "carol"]);
      const ids: string[] = [];
      for (const keywords of [["$seen"], [], []]) {
        const inbox = (await mailboxesByName(target, alice)).Inbox.id as string;
        const created = await imported(target, alice, mail(), { mailboxIds: [inbox], keywords } as never);
        ids.push(created.id as string);
      }

      await t.step(
        "SELECT answers as Dovecot does for an IMAP4rev1 client; HIGHESTMODSEQ once CONDSTORE is used",
        async () => {
          const talk = await login(alice);
          const lines = await talk.command("SELECT INBOX");
          assert.equal(lines.length, 8, lines.join("\n"));
          assert.match(lines[0], /^\* FLAGS \(\\Seen \\Flagged \\Answered \\Draft \\Deleted\)$/);
          assert.match(lines[1], /^\* OK \[PERMANENTFLAGS \(.*\\Deleted \\\*\)\]/);
          assert.equal(lines[2], "* 3 EXISTS");
          assert.equal(lines[3], "* 0 RECENT");
          assert.match(lines[4], /^\* OK \[UNSEEN 2\]/);
          assert.match(lines[5], /^\* OK \[UIDVALIDITY \d+\]/);
          assert.match(lines[6], /^\* OK \[UIDNEXT 4\]/);
          assert.match(lines[7], /^t2 OK \[READ-WRITE\] Select completed/);
          const condstore = await talk.command("SELECT INBOX (CONDSTORE)");
          assert.match(condstore.at(-2)!, /^\* OK \[HIGHESTMODSEQ \d+\]/);
        },
      );

      await t.step(
        "IMAP4rev2: LIST instead of RECENT and UNSEEN; SELECT while selected says CLOSED",
        async () => {
          const talk = await login(alice);
          await talk.command("ENABLE IMAP4rev2");
          await talk.command("SELECT INBOX");
          const lines = await talk.command("EXAMINE INBOX");
          assert.equal(lines[0], "* OK [CLOSED] Previous mailbox closed.");
          assert.ok(lines.includes('* LIST () "/" "INBOX"'), lines.join("\n"));
          assert.ok(!lines.some((l) => / RECENT|UNSEEN/.test(l)), lines.join("\n"));
          assert.match(lines.at(-1)!, /OK \[READ-ONLY\] Examine completed/);
          assert.match((await talk.command("EXPUNGE")).at(-1)!, /NO \[READ-ONLY\]/);
          assert.match((await talk.command("UNSELECT")).at(-1)!, /OK UNSELECT completed/);
          assert.match((await talk.command("EXPUNGE")).at(-1)!, /BAD .*selected/);
        },
      );

      await t.step("a JMAP change is seen at NOOP: FETCH FLAGS, EXISTS, EXPUNGE", async () => {
        const talk = await login(alice);
        await talk.command("SELECT INBOX");
        await setKeywords(target, alice, ids[1], ["$flagged"]);
        assert.deepEqual(await talk.command("NOOP"), [
          "* 2 FETCH (FLAGS (\\Flagged))",
          "t3 OK NOOP completed",
        ]);
        const inbox = (await mailboxesByName(target, alice)).Inbox.id as string;
        ids.push((await imported(target, alice, mail(), { mailboxIds: [inbox] } as never)).id as string);
        await mailCall(target, "Email/set", { destroy: [ids[0]] }, alice);
        assert.deepEqual(await talk.command("CHECK"), ["* 1 EXPUNGE", "* 3 EXISTS", "t4 OK CHECK completed"]);
        ids.shift();
      });

      await t.step(
        "EXPUNGE, UID EXPUNGE of 1:4294967295 and CLOSE remove \\Deleted messages for JMAP too",
        async () => {
          const talk = await login(alice);
          const other = await login(alice);
          await talk.command("SELECT INBOX");
          await other.command("SELECT INBOX");
          await setKeywords(target, alice, ids[0], ["$deleted"]);
          const expunged = await talk.command("EXPUNGE");
          assert.deepEqual(expunged.filter((l) => l.startsWith("* ")), ["* 1 EXPUNGE"]);
          assert.match(expunged.at(-1)!, /OK EXPUNGE completed/);
          assert.deepEqual(await other.command("NOOP"), ["* 1 EXPUNGE", "t3 OK NOOP completed"]);
          await setKeywords(target, alice, ids[2], ["$deleted"]);
          const uidExpunge = await talk.command("UID EXPUNGE 1:4294967295");
          assert.deepEqual(uidExpunge.filter((l) => l.startsWith("* ")), [
            "* 2 EXPUNGE",
          ]);
          await setKeywords(target, alice, ids[1], ["$deleted"]);
          assert.deepEqual(await talk.command("CLOSE"), ["t5 OK CLOSE completed"]);
          const left = await mailCall(target, "Email/get", {
            ids: [ids[0], ids[1], ids[2]],
            properties: ["id"],
          }, alice);
          assert.deepEqual((left.notFound as string[]).sort(), [ids[0], ids[1], ids[2]].sort());
        },
      );

      await t.step(
        "QRESYNC: needs ENABLE first; then VANISHED (EARLIER) and the changed messages",
        async () => {
          const talk = await login(alice);
          assert.match((await talk.command("SELECT INBOX (QRESYNC (1 1))")).at(-1)!, /BAD .*ENABLE QRESYNC/);
          const inbox = (await mailboxesByName(target, alice)).Inbox.id as string;
          const a = (await imported(target, alice, mail(), { mailboxIds: [inbox] } as never)).id as string;
          const b = (await imported(target, alice, mail(), { mailboxIds: [inbox] } as never)).id as string;
          await talk.command("ENABLE QRESYNC");
          const first = await talk.command("SELECT INBOX");
          const validity = Number(/UIDVALIDITY (\d+)/.exec(first.join("\n"))![1]);
          const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(first.join("\n"))![1]);
          await talk.command("UNSELECT");
          await mailCall(target, "Email/set", { destroy: [a] }, alice);
          await setKeywords(target, alice, b, ["$seen"]);
          const lines = await talk.command(`SELECT INBOX (QRESYNC (${validity} ${modseq} 1:100))`);
          assert.ok(lines.some((l) => /^\* VANISHED \(EARLIER\) \d+$/.test(l)), lines.join("\n"));
          assert.ok(
            lines.some((l) => /^\* \d+ FETCH \(UID \d+ FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/.test(l)),
            lines.join("\n"),
          );
          const stale = await talk.command(`SELECT INBOX (QRESYNC (${validity + 1} ${modseq}))`);
          assert.ok(!stale.some((l) => /VANISHED|FETCH/.test(l)), stale.join("\n"));
        },
      );

      await t.step(
        "a share: no read right is NO, read only is READ-ONLY; revoked or deleted while selected is BYE",
        async () => {
          const lookOnly = await createMailbox(target, alice, { name: "Drop" });
          const readOnly = await createMailbox(target, alice, { name: "Reports" });
          await share(target, alice, lookOnly.id as string, { [bob.accountId]: rights("mayAddItems") });
          await share(target, alice, readOnly.id as string, { [bob.accountId]: rights("mayReadItems") });
          const talk = await login(bob);
          const list = await talk.command('LIST "" "Other Users/*"');
          const name = (suffix: string) => {
            const line = list.find((l) => l.endsWith(`/${suffix}"`));
            assert.ok(line, list.join("\n"));
            return line.slice(line.lastIndexOf(' "') + 1);
          };
          assert.match((await talk.command(`SELECT ${name("Drop")}`)).at(-1)!, /NO \[NOPERM\]/);
          assert.match((await talk.command(`SELECT ${name("Reports")}`)).at(-1)!, /OK \[READ-ONLY\]/);
          assert.match((await talk.command("EXPUNGE")).at(-1)!, /NO \[READ-ONLY\]/);
          await share(target, alice, readOnly.id as string, null);
          await talk.write("z1 NOOP\r\n");
          assert.equal(await talk.line(), "z1 OK NOOP completed");
          assert.equal(await talk.line(), "* BYE Selected mailbox was deleted, have to disconnect.");
          assert.ok(await talk.closed());
          const again = await login(bob);
          assert.match((await again.command(`SELECT ${name("Reports")}`)).at(-1)!, /NO \[NONEXISTENT\]/);
          await share(target, alice, readOnly.id as string, { [bob.accountId]: rights("mayReadItems") });
          assert.match((await again.command(`SELECT ${name("Reports")}`)).at(-1)!, /OK \[READ-ONLY\]/);
          await setMailboxes(target, alice, { destroy: [readOnly.id], onDestroyRemoveEmails: true });
          await again.write("z2 NOOP\r\n");
          assert.equal(await again.line(), "z2 OK NOOP completed");
          assert.equal(await again.line(), "* BYE Selected mailbox was deleted, have to disconnect.");
          // As Dovecot: a session that deletes its own selected mailbox has its DELETE answered, then BYE.
          const own = await login(alice);
          await own.command("CREATE Scratch");
          await own.command("SELECT Scratch");
          await own.write("z3 DELETE Scratch\r\n");
          assert.equal(await own.line(), "z3 OK DELETE completed");
          assert.equal(await own.line(), "* BYE Selected mailbox was deleted, have to disconnect.");
        },
      );

      await t.step(
        "SELECT by name: a share's child at the top of the sharer's tree, another user's or a wrong name is NONEXISTENT",
        async () => {
          const projects = await createMailbox(target, alice, { name: "Projects" });
          const year = await createMailbox(target, alice, { name: "2026", parentId: projects.id });
          await share(target, alice, year.id as string, { [bob.accountId]: rights("mayReadItems") });
          const talk = await login(bob);
          const list = await talk.command('LIST "" "Other Users/*"');
          const line = list.find((l) => l.endsWith('/2026"'));
          assert.ok(line, list.join("\n"));
          const shown = line.slice(line.lastIndexOf(' "') + 2, -1);
          const owner = shown.split("/")[1];
          // The parent is not shared: the child is named at the top of the sharer's tree, as LIST shows it.
          assert.equal(shown, `Other Users/${owner}/2026`);
          assert.match((await talk.command(`SELECT "${shown}"`)).at(-1)!, /OK \[READ-ONLY\]/);
          const wrong = [
            `Other Users/${owner}/Projects/2026`,
            `Other Users/${owner}/Projects`,
            `Other Users/${owner}`,
            `Other Users/${owner}/`,
            "Other Users/",
            "Other Users/nobody/2026",
            `Other Users/${owner}/INBOX`,
            `other users/${owner}/2026`,
            "2026",
          ];
          for (const name of wrong) {
            const answer = await talk.command(`SELECT "${name}"`);
            assert.match(answer.at(-1)!, /NO \[NONEXISTENT\]/, `${name}: ${answer.join("\n")}`);
          }
          // Nothing selected after a failed SELECT (RFC 9051 §6.3.2).
          assert.match((await talk.command("FETCH 1 FLAGS")).at(-1)!, /BAD/);
          // Authorization: carol holds no grant of alice's, so the name alone selects nothing.
          const other = await login(carol);
          assert.match((await other.command(`SELECT "${shown}"`)).at(-1)!, /NO \[NONEXISTENT\]/);
          // Taken back between two SELECTs of the same session: NONEXISTENT at once.
          assert.match((await talk.command(`SELECT "${shown}"`)).at(-1)!, /OK \[READ-ONLY\]/);
          await share(target, alice, year.id as string, null);
          const gone = await talk.command(`SELECT "${shown}"`);
          assert.match(gone.at(-1)!, /NO \[NONEXISTENT\]/, gone.join("\n"));
        },
      );
    } finally {
      closeAll();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
