/**
 * IMAP compliance, the extensions Postern offers, each step named by the RFC section whose text it
 * checks (exact lines, over the wire, one shared server, a fresh account per step): ENABLE, NAMESPACE,
 * ID, LIST-EXTENDED, CREATE-SPECIAL-USE, OBJECTID, UTF8=ACCEPT, CONDSTORE/QRESYNC, UIDPLUS, MOVE,
 * IDLE, SASL-IR, MULTIAPPEND, APPENDLIMIT, QUOTA, ACL. What imap_commands_test.ts, imap_copy_test.ts and imap_fetch_test.ts
 * already check (COPYUID sets, SEARCH keys, BINARY) is not repeated.
 */
import assert from "node:assert/strict";
import { imapPeersMissing, ImapTalk } from "./imap_helpers.ts";
import { appendOf, type ComplianceServer, mail, startCompliance } from "./imap_compliance_helpers.ts";
import { PASSWORD } from "./helpers.ts";
import { adminSetAccounts, createMailbox, rights, share } from "./mail_helpers.ts";

const ignore = imapPeersMissing("IMAP compliance (extensions)");

Deno.test({
  name: "IMAP compliance: the extensions, section by section",
  ignore,
  async fn(t) {
    const c: ComplianceServer = await startCompliance("cext");
    try {
      await t.step(
        "RFC 5161 §3.1–3.2 ENABLE: ENABLED lists what was enabled now; unknown names are ignored",
        async () => {
          const d = await c.fresh();
          assert.deepEqual(await d.says("ENABLE CONDSTORE X-UNKNOWN"), [
            "* ENABLED CONDSTORE",
            "TAG OK ENABLE completed",
          ]);
          assert.deepEqual(await d.says("ENABLE CONDSTORE"), ["* ENABLED", "TAG OK ENABLE completed"]);
          assert.match(await d.answer("ENABLE"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 2342 §5 NAMESPACE and RFC 2971 §3.1 ID (any state, NIL, at most 30 pairs)",
        async () => {
          const d = await c.fresh();
          assert.deepEqual(await d.says("NAMESPACE"), [
            '* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL',
            "TAG OK NAMESPACE completed",
          ]);
          const talk = await ImapTalk.open(c.server.imapsPort, {
            implicitTls: true,
            certPem: c.server.certPem,
          });
          try {
            const [id, ok] = await talk.command('ID ("name" "compliance")');
            assert.match(id, /^\* ID \("name" "Postern" "version" "[^"]+"\)$/);
            assert.match(ok, /^t1 OK /);
            assert.match((await talk.command("ID NIL")).at(-1)!, /^t2 OK /);
            const pairs = Array.from({ length: 31 }, (_, i) => `"k${i}" "v"`).join(" ");
            assert.match((await talk.command(`ID (${pairs})`)).at(-1)!, /^t3 BAD /);
          } finally {
            talk.close();
          }
        },
      );

      await t.step(
        "RFC 5258 §3 LIST-EXTENDED: RECURSIVEMATCH gives CHILDINFO; alone or unknown options are BAD",
        async () => {
          const d = await c.fresh();
          await d.says("CREATE Lists/Daily");
          await d.says("UNSUBSCRIBE Lists");
          // "RECURSIVEMATCH ... forces the server to return information about parent mailboxes that
          // don't match other selection options, but have some submailboxes that do."
          assert.deepEqual(await d.says('LIST (SUBSCRIBED RECURSIVEMATCH) "" "L%"'), [
            '* LIST (\\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))',
            "TAG OK LIST completed",
          ]);
          assert.deepEqual(await d.says('LIST (SUBSCRIBED) "" "L%"'), ["TAG OK LIST completed"]);
          // "RECURSIVEMATCH ... MUST NOT occur as the only selection option".
          assert.match(await d.answer('LIST (RECURSIVEMATCH) "" "%"'), /^TAG BAD /);
          assert.match(await d.answer('LIST (FROB) "" "%"'), /^TAG BAD /);
          assert.match(await d.answer('LIST "" "%" RETURN (FROB)'), /^TAG BAD /);
          // Several patterns in one LIST (§6.3.9 of RFC 9051 carries it over).
          assert.deepEqual(await d.says('LIST "" ("INBOX" "Lists/%")'), [
            '* LIST (\\HasNoChildren) "/" "INBOX"',
            '* LIST (\\HasNoChildren) "/" "Lists/Daily"',
            "TAG OK LIST completed",
          ]);
        },
      );

      await t.step(
        "RFC 6154 §5.1 CREATE-SPECIAL-USE: a failure 'related to the special-use attribute' is USEATTR",
        async () => {
          const d = await c.fresh();
          assert.match(await d.answer("CREATE Odd (USE (\\Frob))"), /^TAG NO \[USEATTR\] /);
          assert.match(await d.answer("CREATE Sent2 (USE (\\Sent))"), /^TAG NO \[USEATTR\] /);
          assert.deepEqual(await d.says('LIST "" "Sent2"'), ["TAG OK LIST completed"]);
          assert.match(await d.answer("CREATE Starred (USE (\\Flagged))"), /^TAG OK /);
          assert.deepEqual(await d.says('LIST (SPECIAL-USE) "" "St*"'), [
            '* LIST (\\HasNoChildren \\Flagged) "/" "Starred"',
            "TAG OK LIST completed",
          ]);
        },
      );

      await t.step(
        "RFC 8474 §4–§5 OBJECTID: MAILBOXID is CREATE's, survives RENAME; EMAILID finds the message",
        async () => {
          const d = await c.fresh();
          const id = /MAILBOXID \(([\w-]+)\)/.exec(await d.answer("CREATE Ids"))![1];
          assert.match((await d.says("CAPABILITY"))[0], / OBJECTID( |$)/);
          assert.equal(await d.answer("RENAME Ids Ids2"), "TAG OK RENAME completed");
          assert.deepEqual(await d.says("STATUS Ids2 (MAILBOXID)"), [
            `* STATUS "Ids2" (MAILBOXID (${id}))`,
            "TAG OK STATUS completed",
          ]);
          await d.says(appendOf("Ids2", mail("object ids")));
          await d.says("SELECT Ids2");
          const [fetched] = await d.says("FETCH 1 (EMAILID THREADID)");
          const [, emailId, threadId] = /EMAILID \(([\w-]+)\) THREADID \(([\w-]+)\)/.exec(fetched)!;
          assert.deepEqual(await d.says(`SEARCH EMAILID ${emailId}`), [
            "* SEARCH 1",
            "TAG OK SEARCH completed",
          ]);
          assert.deepEqual(await d.says(`SEARCH THREADID ${threadId}`), [
            "* SEARCH 1",
            "TAG OK SEARCH completed",
          ]);
        },
      );

      await t.step(
        "RFC 6855 §4 UTF8=ACCEPT: APPEND takes 'UTF8 (literal8)'; UTF-8 names after ENABLE",
        async () => {
          const d = await c.fresh();
          assert.deepEqual(await d.says("ENABLE UTF8=ACCEPT"), [
            "* ENABLED UTF8=ACCEPT",
            "TAG OK ENABLE completed",
          ]);
          const message = mail("Grüße aus Köln");
          const size = new TextEncoder().encode(message).length;
          assert.match(
            await d.answer(`APPEND INBOX UTF8 (~{${size}+}\r\n${message})`),
            /^TAG OK \[APPENDUID \d+ 1\] /,
          );
          assert.match(await d.answer('CREATE "Bücher"'), /^TAG OK /);
          assert.deepEqual(await d.says('LIST "" "B*"'), [
            '* LIST (\\HasNoChildren) "/" "Bücher"',
            "TAG OK LIST completed",
          ]);
          await d.says("EXAMINE INBOX");
          assert.deepEqual(await d.says("FETCH 1 RFC822.SIZE"), [
            `* 1 FETCH (RFC822.SIZE ${size})`,
            "TAG OK FETCH completed",
          ]);
        },
      );

      await t.step(
        "RFC 7162 §3.1 CONDSTORE: HIGHESTMODSEQ in SELECT, MODSEQ in STORE's FETCH, UNCHANGEDSINCE 0 fails",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("modseq")));
          await d.says("ENABLE CONDSTORE");
          const selected = await d.says("SELECT INBOX");
          const highest = Number(/^\* OK \[HIGHESTMODSEQ (\d+)\]/m.exec(selected.join("\n"))![1]);
          const [stored] = await d.says("STORE 1 +FLAGS (\\Flagged)");
          assert.equal(stored, `* 1 FETCH (FLAGS (\\Flagged) MODSEQ (${highest + 1}))`);
          // §3.1.3: UNCHANGEDSINCE 0 "always fails" for an existing message: MODIFIED names it.
          assert.equal(
            await d.answer("STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Answered)"),
            "TAG OK [MODIFIED 1] Conditional STORE failed for some messages",
          );
          // §3.1.4: CHANGEDSINCE takes a mod-sequence-value, which is never 0.
          assert.match(await d.answer("FETCH 1 (FLAGS) (CHANGEDSINCE 0)"), /^TAG BAD /);
          assert.deepEqual(await d.says(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`), [
            `* 1 FETCH (FLAGS (\\Flagged) MODSEQ (${highest + 1}))`,
            "TAG OK FETCH completed",
          ]);
        },
      );

      await t.step(
        "RFC 7162 §3.2.5 QRESYNC: BAD unless enabled; VANISHED (EARLIER) on reselect; EXPUNGE as VANISHED",
        async () => {
          const d = await c.fresh();
          for (const n of [1, 2]) await d.says(appendOf("INBOX", mail(`qresync ${n}`)));
          assert.match(await d.answer("SELECT INBOX (QRESYNC (1 1))"), /^TAG BAD /);
          await d.says("ENABLE QRESYNC");
          const selected = (await d.says("SELECT INBOX")).join("\n");
          const uidValidity = /UIDVALIDITY (\d+)/.exec(selected)![1];
          const modseq = /HIGHESTMODSEQ (\d+)/.exec(selected)![1];
          await d.says("STORE 1 +FLAGS.SILENT (\\Deleted)");
          // §3.2.7: under QRESYNC, VANISHED replaces EXPUNGE.
          assert.deepEqual(await d.says("EXPUNGE"), ["* VANISHED 1", "TAG OK EXPUNGE completed"]);
          await d.says("UNSELECT");
          const again = await d.says(`SELECT INBOX (QRESYNC (${uidValidity} ${modseq} 1:2))`);
          assert.ok(again.includes("* VANISHED (EARLIER) 1"), again.join("\n"));
          assert.equal(again.at(-1), "TAG OK [READ-WRITE] Select completed");
        },
      );

      await t.step(
        "RFC 4315 §2.1 UID EXPUNGE: only messages with \\Deleted AND in the set are expunged",
        async () => {
          const d = await c.fresh();
          for (const n of [1, 2, 3]) await d.says(appendOf("INBOX", mail(`uidplus ${n}`), "(\\Deleted)"));
          await d.says("SELECT INBOX");
          assert.deepEqual(await d.says("UID EXPUNGE 2"), ["* 2 EXPUNGE", "TAG OK UID EXPUNGE completed"]);
          assert.deepEqual(await d.says("FETCH 1:* (UID)"), [
            "* 1 FETCH (UID 1)",
            "* 2 FETCH (UID 3)",
            "TAG OK FETCH completed",
          ]);
          assert.match(await d.answer("UID EXPUNGE"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 6851 §3.3 MOVE: NO [TRYCREATE] for a missing target; a read-only mailbox refuses",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("move")));
          await d.says("SELECT INBOX");
          assert.match(await d.answer("MOVE 1 Nowhere"), /^TAG NO \[TRYCREATE\] /);
          await d.says("EXAMINE INBOX");
          assert.match(await d.answer("MOVE 1 Trash"), /^TAG NO /);
        },
      );

      await t.step(
        "RFC 2177 §3 IDLE: a continuation, then DONE (any case) ends it with OK; another line is BAD",
        async () => {
          const d = await c.fresh();
          await d.talk.write("i1 IDLE\r\n");
          assert.match(await d.talk.line(), /^\+ /);
          await d.talk.write("done\r\n");
          assert.match(await d.talk.line(), /^i1 OK /);
          await d.talk.write("i2 IDLE\r\n");
          assert.match(await d.talk.line(), /^\+ /);
          await d.talk.write("NOOP\r\n");
          assert.match(await d.talk.line(), /^i2 BAD /);
          assert.equal(await d.answer("NOOP"), "TAG OK NOOP completed");
        },
      );

      await t.step(
        "RFC 4959 §3 SASL-IR: AUTHENTICATE PLAIN with its initial response in the command",
        async () => {
          const d = await c.fresh();
          const talk = await ImapTalk.open(c.server.imapsPort, {
            implicitTls: true,
            certPem: c.server.certPem,
          });
          try {
            const initial = btoa(`\0${d.who.emailAddress}\0${PASSWORD}`);
            const lines = await talk.command(`AUTHENTICATE PLAIN ${initial}`);
            assert.deepEqual(lines.length, 1, lines.join("\n"));
            assert.match(lines[0], /^t1 OK \[CAPABILITY IMAP4rev2 /);
            const wrong = await ImapTalk.open(c.server.imapsPort, {
              implicitTls: true,
              certPem: c.server.certPem,
            });
            try {
              const bad = btoa(`\0${d.who.emailAddress}\0wrong`);
              assert.match((await wrong.command(`AUTHENTICATE PLAIN ${bad}`)).at(-1)!, /^t1 NO /);
              // An initial response that is not base64 is refused, and the session goes on.
              assert.match((await wrong.command("AUTHENTICATE PLAIN !!!")).at(-1)!, /^t2 (BAD|NO) /);
              assert.match((await wrong.command("NOOP")).at(-1)!, /^t3 OK /);
            } finally {
              wrong.close();
            }
          } finally {
            talk.close();
          }
        },
      );

      await t.step(
        "RFC 3502 §6.3.11 MULTIAPPEND: several messages, one APPENDUID set; a refusal appends none",
        async () => {
          const d = await c.fresh();
          const [a, b] = [mail("multi a"), mail("multi b")];
          const size = (text: string) => new TextEncoder().encode(text).length;
          const two = `APPEND INBOX (\\Seen) {${size(a)}+}\r\n${a} {${size(b)}+}\r\n${b}`;
          assert.match(await d.answer(two), /^TAG OK \[APPENDUID \d+ 1:2\] APPEND completed$/);
          // "If the server returns a failure for any message, none of the messages are appended": the
          // first two fit the quota, the third does not, so none is kept (one transaction: no UID used).
          const used = Number(/SIZE (\d+)/.exec((await d.says("STATUS INBOX (SIZE)"))[0])![1]);
          const [fits, over] = [mail("fits"), mail("over", "x".repeat(400))];
          await adminSetAccounts(c.target, {
            update: { [d.who.accountId]: { "quotas/maxDiskQuota": used + size(fits) + 5 } },
          });
          const three = `APPEND INBOX {${size(a)}+}\r\n${a} {${size(fits)}+}\r\n${fits} {${
            size(over)
          }+}\r\n${over}`;
          assert.match(await d.answer(three), /^TAG NO \[OVERQUOTA\] /);
          assert.deepEqual(await d.says("STATUS INBOX (MESSAGES UIDNEXT)"), [
            '* STATUS "INBOX" (MESSAGES 2 UIDNEXT 3)',
            "TAG OK STATUS completed",
          ]);
          // Flags belong to the message they precede (RFC 3502 §6.3.11's syntax): only the first is \Seen.
          await d.says("EXAMINE INBOX");
          assert.deepEqual(await d.says("FETCH 1:* (UID FLAGS)"), [
            "* 1 FETCH (UID 1 FLAGS (\\Seen))",
            "* 2 FETCH (UID 2 FLAGS ())",
            "TAG OK FETCH completed",
          ]);
          // Nothing of the refused command counts against the quota: the message that fitted fits alone.
          assert.match(await d.answer(appendOf("INBOX", fits)), /^TAG OK \[APPENDUID \d+ 3\] /);
          // Refused before anything is written: an empty message among them.
          assert.match(await d.answer(`APPEND INBOX {${size(a)}+}\r\n${a} {0+}\r\n`), /^TAG NO /);
        },
      );

      await t.step(
        "RFC 3502 MULTIAPPEND into a shared mailbox needs only the insert right (one transaction, no undo)",
        async () => {
          const owner = await c.fresh();
          const guest = await c.fresh();
          const drop = await createMailbox(c.target, owner.who, { name: "Drop" });
          await share(c.target, owner.who, drop.id as string, {
            [guest.who.accountId]: rights("mayReadItems", "mayAddItems"),
          });
          const name = `"Other Users/${owner.who.emailAddress.split("@")[0]}/Drop"`;
          const [a, b] = [mail("guest a"), mail("guest b")];
          const size = (text: string) => new TextEncoder().encode(text).length;
          const two = `APPEND ${name} {${size(a)}+}\r\n${a} {${size(b)}+}\r\n${b}`;
          assert.match(await guest.answer(two), /^TAG OK \[APPENDUID \d+ 1:2\] /);
          assert.match(await guest.answer(appendOf(name, a)), /^TAG OK \[APPENDUID \d+ 3\] /);
          assert.deepEqual(await owner.says("STATUS Drop (MESSAGES)"), [
            '* STATUS "Drop" (MESSAGES 3)',
            "TAG OK STATUS completed",
          ]);
        },
      );

      await t.step(
        "RFC 7889 §3 APPENDLIMIT: the limit in CAPABILITY and STATUS; a literal over it is NO [TOOBIG]",
        async () => {
          const d = await c.fresh();
          const limit = Number(/ APPENDLIMIT=(\d+)/.exec((await d.says("CAPABILITY"))[0])![1]);
          assert.ok(limit > 0);
          assert.deepEqual(await d.says("STATUS INBOX (APPENDLIMIT)"), [
            `* STATUS "INBOX" (APPENDLIMIT ${limit})`,
            "TAG OK STATUS completed",
          ]);
          await d.talk.write(`big APPEND INBOX {${limit + 1}}\r\n`);
          assert.match(await d.talk.line(), /^big NO \[TOOBIG\] /);
          assert.equal(await d.answer("NOOP"), "TAG OK NOOP completed");
        },
      );

      await t.step(
        "RFC 9208 §4.2–4.3 QUOTA and RFC 4314 §3.5–3.7 ACL: unknown names are NONEXISTENT",
        async () => {
          const d = await c.fresh();
          assert.match(await d.answer('GETQUOTA "nope"'), /^TAG NO \[NONEXISTENT\] /);
          assert.match(await d.answer("GETQUOTAROOT Nowhere"), /^TAG NO \[NONEXISTENT\] /);
          assert.match(await d.answer("MYRIGHTS Nowhere"), /^TAG NO \[NONEXISTENT\] /);
          assert.match(await d.answer("GETACL Nowhere"), /^TAG NO \[NONEXISTENT\] /);
          // The owner holds every right (RFC 4314 §2.1 letters, RIGHTS=texk).
          assert.deepEqual(await d.says("MYRIGHTS INBOX"), [
            '* MYRIGHTS "INBOX" "lrswipkxtea"',
            "TAG OK MYRIGHTS completed",
          ]);
          // §3.7: the rights always granted first, then the groups that go together.
          assert.deepEqual(await d.says(`LISTRIGHTS INBOX ${d.who.emailAddress}`).then((l) => l.length), 2);
          assert.match(await d.answer("SETACL INBOX nobody@example.org lr"), /^TAG NO \[NONEXISTENT\] /);
        },
      );
    } finally {
      await c.stop();
    }
  },
});
