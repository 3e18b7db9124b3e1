/**
 * Real clients end to end against one `postern serve`: the npm client imapflow and Python's imaplib
 * append, read, flag, search, move and delete, and every change is checked over JMAP (Email/get
 * keywords and mailboxIds, Email/changes); JMAP's changes reach the IMAP clients (IDLE, and QRESYNC
 * on reconnecting). The "Other Users" namespace end to end: a JMAP share (Mailbox/set shareWith) is
 * listed, appendable and selectable, and vanishes when the grant is revoked or the sharer deleted.
 */
import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { PASSWORD, until } from "./helpers.ts";
import { imaplib, imapPeersMissing, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { imported, message } from "./email_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  rights,
  serverTarget,
  share,
  type Who,
} from "./mail_helpers.ts";

const ignore = imapPeersMissing("IMAP with imapflow and imaplib", true);

/** A message whose subject names it. */
function text(subject: string): string {
  return `From: dave@example.net\r\nTo: alice@example.org\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${subject}.${crypto.randomUUID()}@example.net>\r\n\r\nBody ${subject}\r\n`;
}

Deno.test({
  name:
    "imapflow and imaplib: append, read, flag, search, move, delete, IDLE, QRESYNC and Other Users over JMAP",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-clients-" });
    const server = await startImapProcess(dataDir);
    const target = serverTarget(server.url);
    const open: ImapFlow[] = [];
    const flow = async (who: Who) => {
      const imap = new ImapFlow({
        host: "127.0.0.1",
        port: server.imapsPort,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: { user: who.emailAddress, pass: PASSWORD },
        logger: false,
      });
      await imap.connect();
      open.push(imap);
      return imap;
    };
    /** The JMAP Email of a subject (undefined when there is none). */
    const bySubject = async (who: Who, subject: string, accountId = who.accountId) => {
      const query = await mailCall(target, "Email/query", { accountId, filter: { subject } }, who);
      const got = await mailCall(target, "Email/get", {
        accountId,
        ids: query.ids,
        properties: ["subject", "keywords", "mailboxIds", "receivedAt"],
      }, who);
      return (got.list as Obj[]).find((e) => e.subject === subject);
    };
    try {
      const [alice, bob, carol] = await createUsers(target, ["alice", "bob", "carol"]);
      const boxes = await mailboxesByName(target, alice);
      const imap = await flow(alice);
      const uids: Record<string, number> = {};

      await t.step("imapflow APPEND keeps flags and date; Email/changes reports each message", async () => {
        const before = await mailCall(target, "Email/get", { accountId: alice.accountId, ids: [] }, alice);
        const date = new Date("2024-07-14T00:44:25Z");
        for (const subject of ["flow-1", "flow-2", "flow-3"]) {
          const appended = await imap.append("INBOX", text(subject), ["\\Seen", "$Work"], date);
          assert.ok(appended && appended.uid, Deno.inspect(appended));
          uids[subject] = appended.uid;
        }
        const email = (await bySubject(alice, "flow-1"))!;
        assert.deepEqual(email.keywords, { $seen: true, $work: true });
        assert.equal(email.receivedAt, "2024-07-14T00:44:25Z");
        assert.deepEqual(email.mailboxIds, { [boxes.Inbox.id as string]: true });
        const changes = await mailCall(target, "Email/changes", {
          accountId: alice.accountId,
          sinceState: before.state,
        }, alice);
        assert.equal((changes.created as string[]).length, 3);
      });

      await t.step(
        "Other Users/: a JMAP share is listed and appendable, and vanishes when revoked",
        async () => {
          const team = await createMailbox(target, carol, { name: "Team" });
          const grant = { [alice.accountId]: rights("mayReadItems", "mayAddItems") };
          await share(target, carol, team.id as string, grant);
          const name = "Other Users/carol/Team";
          assert.ok((await imap.list()).some((m) => m.path === name));
          const appended = await imap.append(name, text("shared-1"));
          assert.ok(appended && appended.uid);
          const there = await bySubject(carol, "shared-1");
          assert.deepEqual(there?.mailboxIds, { [team.id as string]: true });

          await share(target, carol, team.id as string, null);
          assert.ok(!(await imap.list()).some((m) => m.path.startsWith("Other Users/carol")));
          await assert.rejects(imap.append(name, text("shared-2")), (error: Obj) => {
            assert.match(String(error.serverResponseCode ?? error.responseText), /TRYCREATE|NONEXISTENT/);
            return true;
          });
          await share(target, carol, team.id as string, grant);
          assert.ok((await imap.list()).some((m) => m.path === name));
          await adminSetAccounts(target, { destroy: [carol.accountId] });
          assert.ok(!(await imap.list()).some((m) => m.path.startsWith("Other Users/carol")));
        },
      );

      await t.step("imapflow reads, flags, searches, moves and deletes; JMAP sees each change", async () => {
        const lock = await imap.getMailboxLock("INBOX");
        try {
          const read = await imap.fetchOne(
            String(uids["flow-1"]),
            { envelope: true, flags: true, source: true },
            { uid: true },
          );
          assert.ok(read, "FETCH answered nothing");
          assert.equal(read.envelope?.subject, "flow-1");
          assert.match(read.source!.toString(), /Body flow-1/);
          assert.ok(read.flags?.has("\\Seen"));

          await imap.messageFlagsAdd(String(uids["flow-2"]), ["\\Flagged"], { uid: true });
          assert.deepEqual((await bySubject(alice, "flow-2"))!.keywords, {
            $seen: true,
            $work: true,
            $flagged: true,
          });
          assert.deepEqual(await imap.search({ subject: "flow-3" }, { uid: true }), [uids["flow-3"]]);

          await imap.messageMove(String(uids["flow-3"]), "Archive", { uid: true });
          assert.deepEqual((await bySubject(alice, "flow-3"))!.mailboxIds, {
            [boxes.Archive.id as string]: true,
          });
          await imap.messageDelete(String(uids["flow-2"]), { uid: true });
          assert.equal(await bySubject(alice, "flow-2"), undefined);
        } finally {
          lock.release();
        }
        // A shared mailbox is selectable under its Other Users/ name.
        const projects = await createMailbox(target, bob, { name: "Projects" });
        await share(target, bob, projects.id as string, { [alice.accountId]: rights("mayReadItems") });
        await imported(target, bob, message(text("project-1")), { mailboxIds: [projects.id as string] });
        const shared = await imap.mailboxOpen("Other Users/bob/Projects", { readOnly: true });
        assert.equal(shared.exists, 1);
        await imap.mailboxClose();
      });

      await t.step("imapflow IDLE hears a JMAP import (EXISTS) and a keyword change (FETCH)", async () => {
        const idler = await flow(alice);
        const events: string[] = [];
        idler.on("exists", (e: Obj) => events.push(`exists ${e.count}`));
        idler.on("flags", (e: Obj) => events.push(`flags ${[...e.flags as Set<string>].join(" ")}`));
        await idler.mailboxOpen("INBOX");
        // imapflow idles on its own only after 15 s of quiet: IDLE now.
        const idling = idler.idle().catch(() => undefined);
        await until(() => idler.idling, "imapflow to IDLE");
        await imported(target, alice, message(text("idle-1")));
        await until(() => events.some((e) => e.startsWith("exists")), "EXISTS during IDLE");
        const query = await mailCall(target, "Email/query", {
          accountId: alice.accountId,
          filter: { subject: "flow-1" },
        }, alice);
        await mailCall(target, "Email/set", {
          accountId: alice.accountId,
          update: { [(query.ids as string[])[0]]: { "keywords/$flagged": true } },
        }, alice);
        await until(() => events.some((e) => e.includes("\\Flagged")), `FETCH FLAGS during IDLE: ${events}`);
        await idler.logout();
        await idling;
      });

      await t.step("QRESYNC: a client reconnecting learns JMAP's flag change and destruction", async () => {
        const talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
        let validity = "", modseq = "";
        try {
          await talk.command(`LOGIN alice "${PASSWORD}"`);
          assert.equal((await talk.command("ENABLE QRESYNC"))[0], "* ENABLED QRESYNC");
          const selected = (await talk.command("SELECT INBOX")).join("\n");
          validity = selected.match(/UIDVALIDITY (\d+)/)?.[1] ?? "";
          modseq = selected.match(/HIGHESTMODSEQ (\d+)/)?.[1] ?? "";
          assert.ok(validity && modseq, selected);
        } finally {
          talk.close();
        }
        const query = await mailCall(target, "Email/query", { accountId: alice.accountId }, alice);
        const got = await mailCall(target, "Email/get", {
          accountId: alice.accountId,
          ids: query.ids,
          properties: ["subject"],
        }, alice);
        const idOf = (s: string) => (got.list as Obj[]).find((e) => e.subject === s)!.id as string;
        await mailCall(target, "Email/set", {
          accountId: alice.accountId,
          update: { [idOf("flow-1")]: { "keywords/$seen": null } },
          destroy: [idOf("idle-1")],
        }, alice);
        const again = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
        try {
          await again.command(`LOGIN alice "${PASSWORD}"`);
          await again.command("ENABLE QRESYNC");
          const lines = await again.command(`SELECT INBOX (QRESYNC (${validity} ${modseq}))`);
          assert.ok(lines.some((l) => /^\* VANISHED \(EARLIER\) \d+/.test(l)), lines.join("\n"));
          const fetched = lines.find((l) =>
            l.includes(`UID ${uids["flow-1"]} `) || l.includes(`UID ${uids["flow-1"]})`)
          );
          assert.ok(fetched && !fetched.includes("\\Seen"), lines.join("\n"));
        } finally {
          again.close();
        }
      });

      await t.step(
        "imaplib: append, search, fetch, store, copy, move, expunge, IDLE; JMAP agrees",
        async () => {
          const bobBoxes = await mailboxesByName(target, bob);
          const results = await imaplib({
            port: server.imapsPort,
            tls: "implicit",
            steps: [
              ["login", "bob", PASSWORD],
              ["append", "INBOX", "(\\Flagged)", '"14-Jul-2024 02:44:25 +0200"', text("lib-1")],
              ["append", "INBOX", null, null, text("lib-2")],
              ["select", "INBOX"],
              ["uid", "SEARCH", "SUBJECT", "lib-2"],
              ["uid", "FETCH", "1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"],
              ["uid", "STORE", "1", "+FLAGS", "(\\Seen)"],
              ["uid", "COPY", "1", "Archive"],
              ["uid", "MOVE", "2", "Trash"],
              ["response", "COPYUID"],
              ["uid", "STORE", "1", "+FLAGS", "(\\Deleted)"],
              ["expunge"],
              ["idle", 30],
              ["logout"],
            ],
          }, async () => {
            await imported(target, bob, message(text("lib-idle")));
          }) as Obj[];
          const [
            ,
            append1,
            append2,
            select,
            search,
            fetched,
            stored,
            copied,
            moved,
            copyUid,
            ,
            expunged,
            idled,
          ] = results;
          const show = JSON.stringify(results, null, 1);
          assert.match(String(append1.data), /APPENDUID \d+ 1\]/, show);
          assert.match(String(append2.data), /APPENDUID \d+ 2\]/, show);
          assert.equal(select.typ, "OK", show);
          assert.deepEqual(search.data, ["2"], show);
          assert.match(JSON.stringify(fetched.data), /lib-1/, show);
          assert.equal(stored.typ, "OK", show);
          assert.equal(copied.typ, "OK", show);
          assert.equal(moved.typ, "OK", show);
          assert.match(JSON.stringify(copyUid.data), /\d+ 2 1/, show);
          assert.equal(expunged.typ, "OK", show);
          assert.ok((idled.data as string[]).some((l) => /^\* \d+ EXISTS$/.test(l)), show);
          const lib1 = (await bySubject(bob, "lib-1"))!;
          assert.deepEqual(lib1.mailboxIds, { [bobBoxes.Archive.id as string]: true });
          assert.equal((lib1.keywords as Obj).$seen, true);
          assert.equal((lib1.keywords as Obj).$flagged, true);
          assert.equal(lib1.receivedAt, "2024-07-14T00:44:25Z");
          assert.deepEqual((await bySubject(bob, "lib-2"))!.mailboxIds, {
            [bobBoxes.Trash.id as string]: true,
          });
        },
      );
    } finally {
      for (const imap of open) imap.close();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
