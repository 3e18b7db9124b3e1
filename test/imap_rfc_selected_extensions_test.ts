/**
 * IMAP compliance, the extensions of the selected state and the response codes two sessions on one
 * mailbox meet, each step named by the RFC section whose text it checks (exact lines, over the
 * wire, one shared server, a fresh account per step): ESEARCH and SEARCHRES edge cases, SORT and
 * THREAD refusals, BINARY partials, COMPRESS refusals, LIST-EXTENDED return options, and RFC 9051
 * §7.5.1's rule on EXPUNGE during FETCH/STORE/SEARCH with RFC 5530's EXPUNGEISSUED. The key-by-key
 * SEARCH/SORT/THREAD answers are imap_search_dovecot_test.ts's (against Dovecot).
 */
import assert from "node:assert/strict";
import { imapPeersMissing } from "./imap_helpers.ts";
import { appendOf, type ComplianceServer, mail, startCompliance } from "./imap_compliance_helpers.ts";

const ignore = imapPeersMissing("IMAP compliance (selected-state extensions)");

Deno.test({
  name: "IMAP compliance: selected-state extensions and two sessions, section by section",
  ignore,
  async fn(t) {
    const c: ComplianceServer = await startCompliance("csel");
    /** A fresh account with `subjects` appended to INBOX, selected. */
    const withMessages = async (subjects: string[]) => {
      const d = await c.fresh();
      for (const subject of subjects) await d.says(appendOf("INBOX", mail(subject)));
      await d.says("SELECT INBOX");
      return d;
    };
    try {
      await t.step(
        "RFC 4731 §3.1 ESEARCH: RETURN () is ALL; MIN/MAX are left out when nothing matches; COUNT 0",
        async () => {
          const d = await withMessages(["alpha", "beta"]);
          const esearch = async (command: string) => {
            const [line, ok] = await d.says(command);
            assert.equal(ok, "TAG OK SEARCH completed");
            return line.replace(/^\* ESEARCH \(TAG "t\d+"\)/, "* ESEARCH (TAG)");
          };
          // "If the server supports ESEARCH ... 'RETURN ()' is the same as 'RETURN (ALL)'".
          assert.equal(await esearch("SEARCH RETURN () ALL"), "* ESEARCH (TAG) ALL 1:2");
          // "MIN ... MAX ... not returned" when there is no match; "ALL ... not returned" either.
          assert.equal(await esearch("SEARCH RETURN (MIN MAX ALL) SUBJECT gamma"), "* ESEARCH (TAG)");
          assert.equal(await esearch("SEARCH RETURN (COUNT) SUBJECT gamma"), "* ESEARCH (TAG) COUNT 0");
          assert.equal(await esearch("SEARCH RETURN (MIN MAX) ALL"), "* ESEARCH (TAG) MIN 1 MAX 2");
          assert.match(await d.answer("SEARCH RETURN (FROB) ALL"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 5182 §2.1 SEARCHRES: SAVE alone answers no ESEARCH; $ is the saved result, empty before",
        async () => {
          const d = await withMessages(["one", "two", "three"]);
          // §2.4: "$" before any SAVE is the empty set, not an error.
          assert.deepEqual(await d.says("FETCH $ (UID)"), ["TAG OK FETCH completed"]);
          // "the server MUST NOT return the ESEARCH response" when SAVE is the only result option.
          assert.deepEqual(await d.says("SEARCH RETURN (SAVE) SUBJECT three"), ["TAG OK SEARCH completed"]);
          assert.deepEqual(await d.says("FETCH $ (UID)"), ["* 3 FETCH (UID 3)", "TAG OK FETCH completed"]);
          assert.deepEqual(await d.says("UID SEARCH UID $"), ["* SEARCH 3", "TAG OK UID SEARCH completed"]);
        },
      );

      await t.step(
        "RFC 5256 §3 SORT and THREAD: an unknown key or algorithm is BAD, an unknown charset NO",
        async () => {
          const d = await withMessages(["b", "a"]);
          assert.deepEqual(await d.says("SORT (SUBJECT) UTF-8 ALL"), ["* SORT 2 1", "TAG OK SORT completed"]);
          assert.deepEqual(await d.says("SORT (REVERSE SUBJECT) US-ASCII ALL"), [
            "* SORT 1 2",
            "TAG OK SORT completed",
          ]);
          assert.match(await d.answer("SORT (FROB) UTF-8 ALL"), /^TAG BAD /);
          assert.match(await d.answer("THREAD FROB UTF-8 ALL"), /^TAG BAD /);
          // §3: "the server MUST return a tagged NO response with the BADCHARSET response code".
          assert.match(
            await d.answer("THREAD REFERENCES X-FROB ALL"),
            /^TAG NO \[BADCHARSET \(UTF-8 US-ASCII\)\] /,
          );
        },
      );

      await t.step(
        "RFC 3516 §4.2 BINARY: a partial answers with its origin only; BINARY.SIZE; BINARY.PEEK sets no \\Seen",
        async () => {
          const d = await withMessages(["binary"]);
          assert.deepEqual(await d.says("FETCH 1 BINARY.PEEK[1]<0.3>"), [
            "* 1 FETCH (BINARY[1]<0> {3}",
            "hel)",
            "TAG OK FETCH completed",
          ]);
          assert.deepEqual(await d.says("FETCH 1 BINARY.SIZE[1]"), [
            "* 1 FETCH (BINARY.SIZE[1] 7)",
            "TAG OK FETCH completed",
          ]);
          assert.deepEqual(await d.says("FETCH 1 FLAGS"), ["* 1 FETCH (FLAGS ())", "TAG OK FETCH completed"]);
        },
      );

      await t.step(
        "RFC 4978 §3 COMPRESS: an unknown mechanism is refused and the session stays uncompressed",
        async () => {
          const d = await c.fresh();
          assert.match(await d.answer("COMPRESS FROB"), /^TAG (BAD|NO) /);
          assert.match(await d.answer("COMPRESS"), /^TAG BAD /);
          assert.match((await d.says("CAPABILITY"))[0], / COMPRESS=DEFLATE( |$)/);
        },
      );

      await t.step(
        "RFC 5258 §3.4–3.5 LIST-EXTENDED return options: SUBSCRIBED marks without filtering; CHILDREN",
        async () => {
          const d = await c.fresh();
          await d.says("CREATE Shelf/Book");
          await d.says("UNSUBSCRIBE Shelf/Book");
          assert.deepEqual(await d.says('LIST "" "Shelf*" RETURN (SUBSCRIBED CHILDREN)'), [
            '* LIST (\\HasChildren \\Subscribed) "/" "Shelf"',
            '* LIST (\\HasNoChildren) "/" "Shelf/Book"',
            "TAG OK LIST completed",
          ]);
          // RFC 5819 §2: STATUS comes right after its mailbox's LIST.
          assert.deepEqual(await d.says('LIST "" "Shelf" RETURN (STATUS (MESSAGES UNSEEN))'), [
            '* LIST (\\HasChildren) "/" "Shelf"',
            '* STATUS "Shelf" (MESSAGES 0 UNSEEN 0)',
            "TAG OK LIST completed",
          ]);
        },
      );

      await t.step(
        "RFC 9051 §7.5.1 and RFC 5530 §3: no EXPUNGE during FETCH/STORE/SEARCH; EXPUNGEISSUED instead",
        async () => {
          const a = await withMessages(["x", "y", "z"]);
          const b = await c.again(a.who);
          await b.says("SELECT INBOX");
          await b.says("STORE 2 +FLAGS.SILENT (\\Deleted)");
          assert.deepEqual(await b.says("EXPUNGE"), ["* 2 EXPUNGE", "TAG OK EXPUNGE completed"]);
          // "the server MUST NOT send an EXPUNGE response while responding to a FETCH, STORE, or
          // SEARCH command": the client's numbers stay, and the message gone is reported by its code.
          assert.deepEqual(await a.says("FETCH 2 (BODY.PEEK[])"), [
            "TAG OK [EXPUNGEISSUED] Some messages were already expunged",
          ]);
          // SEARCH answers in the client's numbers: the third message is still 3 (the gone one matches nothing).
          assert.deepEqual(await a.says("SEARCH ALL"), ["* SEARCH 1 3", "TAG OK SEARCH completed"]);
          assert.deepEqual(await a.says("FETCH 3 (UID)"), ["* 3 FETCH (UID 3)", "TAG OK FETCH completed"]);
          // NOOP (§6.1.2) is where the expunge is told, and then the numbers move.
          assert.deepEqual(await a.says("NOOP"), ["* 2 EXPUNGE", "TAG OK NOOP completed"]);
          assert.deepEqual(await a.says("FETCH 2 (UID)"), ["* 2 FETCH (UID 3)", "TAG OK FETCH completed"]);
        },
      );
    } finally {
      await c.stop();
    }
  },
});
