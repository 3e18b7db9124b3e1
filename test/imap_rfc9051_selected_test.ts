/**
 * IMAP compliance, RFC 9051 (IMAP4rev2) with RFC 3501 compatibility, the selected state and
 * the rev1/rev2 differences of Appendix E (the states before: imap_rfc9051_test.ts): each step is
 * named by the section whose text it checks and asserts the exact lines that text requires, over the
 * wire, on one shared server (a fresh account per step). What the other IMAP tests already cover (FETCH
 * renderings, SEARCH keys, STORE, COPY/MOVE codes against Dovecot) is not repeated here: this file
 * checks the protocol rules an independent suite (imaptest, Dovecot's and Cyrus's protocol tests)
 * checks first — states, literals, sequence sets, response codes, the rev1/rev2 differences.
 */
import assert from "node:assert/strict";
import { imapPeersMissing } from "./imap_helpers.ts";
import { appendOf, type ComplianceServer, mail, startCompliance } from "./imap_compliance_helpers.ts";

const ignore = imapPeersMissing("IMAP compliance (RFC 9051, selected state)");

Deno.test({
  name: "IMAP compliance: RFC 9051 (IMAP4rev2) and RFC 3501, the selected state, section by section",
  ignore,
  async fn(t) {
    const c: ComplianceServer = await startCompliance("c9051s");
    try {
      await t.step(
        "RFC 9051 §6.3.2 SELECT (rev1 answer, RFC 3501 §6.3.1): RECENT and UNSEEN are there",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("one")));
          const lines = await d.says("SELECT INBOX");
          assert.ok(lines.includes("* 1 EXISTS"), lines.join("\n"));
          assert.ok(lines.includes("* 0 RECENT"), lines.join("\n"));
          assert.ok(lines.includes("* OK [UNSEEN 1] First unseen."), lines.join("\n"));
          assert.ok(!lines.some((l) => l.startsWith("* LIST ")), lines.join("\n"));
          assert.equal(lines.at(-1), "TAG OK [READ-WRITE] Select completed");
          // RFC 3501 §6.4.4: SEARCH answers "* SEARCH" for a rev1 client.
          assert.deepEqual(await d.says("SEARCH ALL"), ["* SEARCH 1", "TAG OK SEARCH completed"]);
          // §6.3.2: a SELECT of a mailbox that does not exist leaves no mailbox selected.
          assert.match(await d.answer("SELECT Nowhere"), /^TAG NO \[NONEXISTENT\] /);
          assert.match(await d.answer("FETCH 1 FLAGS"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 9051 Appendix E: after ENABLE IMAP4rev2, no RECENT/UNSEEN, a LIST in SELECT, ESEARCH, UTF-8 names",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("one")));
          await d.says('CREATE "Gr&APwA3w-e"');
          assert.deepEqual(await d.says("ENABLE IMAP4rev2"), [
            "* ENABLED IMAP4rev2",
            "TAG OK ENABLE completed",
          ]);
          const lines = await d.says("SELECT INBOX");
          const uidValidity = lines.find((l) => l.startsWith("* OK [UIDVALIDITY "))!;
          assert.deepEqual(lines, [
            "* FLAGS (\\Seen \\Flagged \\Answered \\Draft \\Deleted)",
            "* OK [PERMANENTFLAGS (\\Seen \\Flagged \\Answered \\Draft \\Deleted \\*)] Flags permitted.",
            "* 1 EXISTS",
            uidValidity,
            "* OK [UIDNEXT 2] Predicted next UID",
            '* LIST () "/" "INBOX"',
            "TAG OK [READ-WRITE] Select completed",
          ]);
          // §6.4.4: "the server MUST respond with an ESEARCH response" to SEARCH in IMAP4rev2.
          const [esearch, ok] = await d.says("SEARCH ALL");
          assert.match(esearch, /^\* ESEARCH \(TAG "t\d+"\) ALL 1$/);
          assert.equal(ok, "TAG OK SEARCH completed");
          assert.match((await d.says("UID SEARCH DELETED"))[0], /^\* ESEARCH \(TAG "t\d+"\) UID$/);
          // §5.1: rev2 mailbox names are UTF-8, not modified UTF-7.
          assert.deepEqual(await d.says('LIST "" "Gr*"'), [
            '* LIST (\\HasNoChildren) "/" "Grüße"',
            "TAG OK LIST completed",
          ]);
          assert.match((await d.says('STATUS "Grüße" (MESSAGES)'))[0], /^\* STATUS "Grüße" \(MESSAGES 0\)$/);
        },
      );

      await t.step(
        "RFC 9051 §6.4.1 CLOSE and §6.4.2 UNSELECT: CLOSED when another SELECT replaces a mailbox",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("gone"), "(\\Deleted)"));
          await d.says("SELECT INBOX");
          // §7.1 CLOSED: "the previously selected mailbox is now closed" when SELECT replaces it.
          assert.equal((await d.says("SELECT Trash"))[0], "* OK [CLOSED] Previous mailbox closed.");
          await d.says("SELECT INBOX");
          // UNSELECT does not expunge; CLOSE does, silently (no EXPUNGE responses).
          assert.deepEqual(await d.says("UNSELECT"), ["TAG OK UNSELECT completed"]);
          await d.says("SELECT INBOX");
          assert.deepEqual(await d.says("CLOSE"), ["TAG OK CLOSE completed"]);
          assert.match((await d.says("STATUS INBOX (MESSAGES)"))[0], /\(MESSAGES 0\)/);
          assert.match(await d.answer("CLOSE"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 9051 §6.3.3 EXAMINE: READ-ONLY, PERMANENTFLAGS (), and no write is allowed",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("ro"), "(\\Deleted)"));
          const lines = await d.says("EXAMINE INBOX");
          assert.ok(lines.includes("* OK [PERMANENTFLAGS ()] Read-only mailbox."), lines.join("\n"));
          assert.equal(lines.at(-1), "TAG OK [READ-ONLY] Examine completed");
          assert.match(await d.answer("STORE 1 +FLAGS (\\Seen)"), /^TAG NO \[READ-ONLY\] /);
          assert.match(await d.answer("EXPUNGE"), /^TAG NO \[READ-ONLY\] /);
          // FETCH BODY[] in EXAMINE sets no \Seen (§6.4.5 "the \Seen flag is implicitly set" only read-write).
          await d.says("FETCH 1 BODY[]");
          assert.deepEqual(await d.says("FETCH 1 FLAGS"), [
            "* 1 FETCH (FLAGS (\\Deleted))",
            "TAG OK FETCH completed",
          ]);
        },
      );

      await t.step(
        "RFC 9051 §6.4.5 FETCH macros: FAST, ALL, FULL expand; a macro in parentheses is BAD",
        async () => {
          const d = await c.fresh();
          await d.says(
            appendOf("INBOX", "Subject: a\r\nFrom: x@y\r\n\r\nhi\r\n", '"07-Dec-2026 07:39:47 +0000"'),
          );
          await d.says("EXAMINE INBOX");
          const fast = 'FLAGS () INTERNALDATE "07-Dec-2026 07:39:47 +0000" RFC822.SIZE 29';
          const envelope =
            'ENVELOPE (NIL "a" ((NIL NIL "x" "y")) ((NIL NIL "x" "y")) ((NIL NIL "x" "y")) NIL NIL NIL NIL NIL)';
          assert.deepEqual(await d.says("FETCH 1 FAST"), [`* 1 FETCH (${fast})`, "TAG OK FETCH completed"]);
          assert.deepEqual(await d.says("FETCH 1 ALL"), [
            `* 1 FETCH (${fast} ${envelope})`,
            "TAG OK FETCH completed",
          ]);
          assert.deepEqual(await d.says("FETCH 1 FULL"), [
            `* 1 FETCH (${fast} ${envelope} BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 1))`,
            "TAG OK FETCH completed",
          ]);
          assert.match(await d.answer("FETCH 1 (FAST)"), /^TAG BAD /);
          // §4.3: a synchronizing literal inside a SEARCH string gets its continuation too.
          await d.talk.write("s1 SEARCH SUBJECT {1}\r\n");
          assert.match(await d.talk.line(), /^\+ /);
          await d.talk.write("a\r\n");
          assert.deepEqual(await d.talk.until("s1"), ["* SEARCH 1", "s1 OK SEARCH completed"]);
        },
      );

      await t.step(
        "RFC 9051 §9 sequence-set: '*' is the last message, ranges may be reversed, and repeats collapse",
        async () => {
          const d = await c.fresh();
          for (const n of [1, 2, 3]) await d.says(appendOf("INBOX", mail(`seq ${n}`)));
          await d.says("SELECT INBOX");
          const uids = ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)"];
          assert.deepEqual(await d.says("FETCH *:1 (UID)"), [...uids, "TAG OK FETCH completed"]);
          assert.deepEqual(await d.says("FETCH 3:2 (UID)"), [...uids.slice(1), "TAG OK FETCH completed"]);
          assert.deepEqual(await d.says("FETCH 2,1,2:1 (UID)"), [
            ...uids.slice(0, 2),
            "TAG OK FETCH completed",
          ]);
          assert.deepEqual(await d.says("FETCH * (UID)"), [uids[2], "TAG OK FETCH completed"]);
          // A sequence number past the end is a client error; 0 is never a message number.
          assert.match(await d.answer("FETCH 4 (UID)"), /^TAG BAD /);
          assert.match(await d.answer("FETCH 0 (UID)"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 9051 §6.4.9: 'A non-existent unique identifier is ignored'; n:* includes the last UID",
        async () => {
          const d = await c.fresh();
          for (const n of [1, 2]) await d.says(appendOf("INBOX", mail(`uid ${n}`)));
          await d.says("SELECT INBOX");
          // "a UID range of 559:* always includes the UID of the last message in the mailbox, even if
          // 559 is higher than any assigned UID value" (§6.4.9).
          assert.deepEqual(await d.says("UID FETCH 100:* (FLAGS)"), [
            "* 2 FETCH (UID 2 FLAGS ())",
            "TAG OK UID FETCH completed",
          ]);
          assert.deepEqual(await d.says("UID FETCH *:100 (FLAGS)"), [
            "* 2 FETCH (UID 2 FLAGS ())",
            "TAG OK UID FETCH completed",
          ]);
          // "it is possible for a UID FETCH command to return an OK without any data or a UID COPY or
          // UID STORE to return an OK without performing any operations."
          assert.deepEqual(await d.says("UID FETCH 50:60 (FLAGS)"), ["TAG OK UID FETCH completed"]);
          assert.deepEqual(await d.says("UID STORE 50 +FLAGS (\\Seen)"), ["TAG OK UID STORE completed"]);
          assert.match(await d.answer("UID COPY 50 Trash"), /^TAG OK /);
          assert.deepEqual(await d.says("UID SEARCH UID 100:*"), [
            "* SEARCH 2",
            "TAG OK UID SEARCH completed",
          ]);
        },
      );

      await t.step(
        "RFC 9051 §6.4.4 SEARCH: an unsupported CHARSET is 'NO [BADCHARSET (UTF-8 …)]', not BAD",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("charset")));
          await d.says("SELECT INBOX");
          for (const charset of ["X-UNHEARD-OF", "KOI8-R"]) {
            assert.equal(
              await d.answer(`SEARCH CHARSET ${charset} TEXT hello`),
              `TAG NO [BADCHARSET (UTF-8 US-ASCII)] Charset ${charset} is not supported`,
            );
          }
          assert.equal(
            await d.answer("SORT (DATE) X-UNHEARD-OF ALL").then((l) => l.split(" ").slice(1, 3).join(" ")),
            "NO [BADCHARSET",
          );
          assert.deepEqual(await d.says("SEARCH CHARSET US-ASCII SUBJECT charset"), [
            "* SEARCH 1",
            "TAG OK SEARCH completed",
          ]);
          // §6.4.4: "US-ASCII MUST be supported; other CHARSETs MAY be supported"; a bad key is still BAD.
          assert.match(await d.answer("SEARCH CHARSET UTF-8 FROB"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 9051 §2.3.2 flags: keywords are case-insensitive; registered ones keep their spelling",
        async () => {
          const d = await c.fresh();
          await d.says(appendOf("INBOX", mail("flags"), "($Work $Forwarded NonJunk $MailFlagBit1)"));
          await d.says("SELECT INBOX");
          // JMAP keywords are lower case (RFC 8621 §4.1.1), so a new keyword reads back lower case; a
          // registered one ($Forwarded, $MDNSent, $Junk, …) in its registered spelling, and the few
          // unregistered ones clients are known to write (NonJunk, $MailFlagBit0–2) in theirs.
          assert.deepEqual(await d.says("FETCH 1 FLAGS"), [
            "* 1 FETCH (FLAGS ($Forwarded $MailFlagBit1 $work NonJunk))",
            "TAG OK FETCH completed",
          ]);
          assert.deepEqual(await d.says("SEARCH KEYWORD $WORK"), ["* SEARCH 1", "TAG OK SEARCH completed"]);
          assert.deepEqual(await d.says("SEARCH KEYWORD nonjunk"), ["* SEARCH 1", "TAG OK SEARCH completed"]);
          assert.deepEqual(await d.says("STORE 1 -FLAGS ($WORK $forwarded NONJUNK $mailflagbit1)"), [
            "* 1 FETCH (FLAGS ())",
            "TAG OK STORE completed",
          ]);
          assert.deepEqual(await d.says("STORE 1 +FLAGS (\\SEEN)"), [
            "* 1 FETCH (FLAGS (\\Seen))",
            "TAG OK STORE completed",
          ]);
        },
      );
    } finally {
      await c.stop();
    }
  },
});
