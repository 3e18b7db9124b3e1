/**
 * IMAP compliance, RFC 9051 (IMAP4rev2) with RFC 3501 compatibility, the not-authenticated and
 * authenticated states (the selected state: imap_rfc9051_selected_test.ts): each step is named by the
 * section whose text it checks and asserts the exact lines that text requires, over the wire, on
 * one shared server (a fresh account per step). What the other IMAP tests already cover (FETCH
 * renderings, SEARCH keys, STORE, COPY/MOVE codes against Dovecot) is not repeated here: this file
 * checks the protocol rules an independent suite (imaptest, Dovecot's and Cyrus's protocol tests)
 * checks first — states, literals, sequence sets, response codes, the rev1/rev2 differences.
 */
import assert from "node:assert/strict";
import { imapPeersMissing, ImapTalk } from "./imap_helpers.ts";
import { appendOf, type ComplianceServer, mail, startCompliance } from "./imap_compliance_helpers.ts";

const ignore = imapPeersMissing("IMAP compliance (RFC 9051)");

Deno.test({
  name: "IMAP compliance: RFC 9051 (IMAP4rev2) and RFC 3501, states before SELECT, section by section",
  ignore,
  async fn(t) {
    const c: ComplianceServer = await startCompliance("c9051x");
    try {
      await t.step(
        "RFC 9051 §7.1.1/§7.2.2: the greeting carries CAPABILITY; 'IMAP4rev2' is listed",
        async () => {
          const talk = await ImapTalk.open(c.server.imapsPort, {
            implicitTls: true,
            certPem: c.server.certPem,
          });
          try {
            assert.match(talk.greeting, /^\* OK \[CAPABILITY IMAP4rev2 IMAP4rev1 [^\]]*AUTH=PLAIN[^\]]*\] /);
            // §6.1: CAPABILITY, NOOP and LOGOUT are valid in any state; a command of a later state is BAD.
            assert.match((await talk.command("NOOP")).at(-1)!, /^t1 OK /);
            assert.match((await talk.command("SELECT INBOX")).at(-1)!, /^t2 BAD /);
            assert.match((await talk.command("ENABLE IMAP4rev2")).at(-1)!, /^t3 BAD /);
            const bye = await talk.command("LOGOUT");
            assert.match(bye[0], /^\* BYE /);
            assert.match(bye.at(-1)!, /^t4 OK /);
            assert.ok(await talk.closed());
          } finally {
            talk.close();
          }
        },
      );

      await t.step(
        "RFC 9051 §6.2.3: LOGIN is not valid once authenticated (BAD), the list changes after login",
        async () => {
          const d = await c.fresh();
          assert.match(await d.answer(`LOGIN ${d.who.emailAddress} x`), /^TAG BAD /);
          const [caps, ok] = await d.says("CAPABILITY");
          assert.match(caps, /^\* CAPABILITY IMAP4rev2 IMAP4rev1 /);
          assert.doesNotMatch(caps, /AUTH=/);
          assert.equal(ok, "TAG OK CAPABILITY completed");
        },
      );

      await t.step(
        "RFC 9051 §5.5 pipelining and §2.2.1 tags: answers keep the order; a bad tag is an untagged BAD",
        async () => {
          const d = await c.fresh();
          await d.talk.write("p1 NOOP\r\np2 CAPABILITY\r\np3 SELECT INBOX\r\np4 UID FETCH 1:* (FLAGS)\r\n");
          const lines = await d.talk.until("p4");
          const tagged = lines.filter((l) => /^p\d /.test(l)).map((l) => l.split(" ").slice(0, 2).join(" "));
          assert.deepEqual(tagged, ["p1 OK", "p2 OK", "p3 OK", "p4 OK"]);
          // tag = 1*<any ASTRING-CHAR except "+">: "+", "*" and "(" cannot start or be in a tag.
          for (const line of ["+x NOOP", "* NOOP", "ab(c NOOP"]) {
            await d.talk.write(`${line}\r\n`);
            assert.match(await d.talk.line(), /^\* BAD /, line);
          }
          // Command names are case-insensitive (§9 "case-insensitive"); an unknown one is BAD.
          assert.equal(await d.answer("noop"), "TAG OK NOOP completed");
          assert.match(await d.answer("FROBNICATE"), /^TAG BAD /);
          assert.match(await d.answer("NOOP extra"), /^TAG BAD /);
        },
      );

      await t.step(
        "RFC 9051 §4.3 and RFC 7888: synchronizing, non-synchronizing and literal8 literals",
        async () => {
          const d = await c.fresh();
          const text = mail("literals");
          const size = new TextEncoder().encode(text).length;
          // Synchronizing: the server asks for the octets with a continuation request.
          await d.talk.write(`s1 APPEND INBOX {${size}}\r\n`);
          assert.match(await d.talk.line(), /^\+ /);
          await d.talk.write(`${text}\r\n`);
          assert.match((await d.talk.until("s1")).at(-1)!, /^s1 OK \[APPENDUID \d+ 1\] /);
          // Non-synchronizing ({n+}) needs no continuation; literal8 (~{n+}, RFC 3516 §4.4) is taken too.
          assert.match(await d.answer(appendOf("INBOX", mail("plus"))), /^TAG OK \[APPENDUID \d+ 2\] /);
          assert.match(
            await d.answer(`APPEND INBOX ~{${size}+}\r\n${text.replace("literals", "literal8")}`),
            /^TAG OK \[APPENDUID \d+ 3\] /,
          );
          // A literal in a mailbox name: an astring may be a literal (§4.3).
          assert.match(await d.answer("STATUS {5+}\r\nINBOX (MESSAGES)"), /^TAG OK /);
          // Not literal syntax at all ("{3-}" is no form of RFC 7888): BAD, and the session goes on.
          assert.match(await d.answer("APPEND INBOX {3-}"), /^TAG BAD /);
          assert.equal(await d.answer("NOOP"), "TAG OK NOOP completed");
        },
      );

      await t.step(
        "RFC 9051 §6.3.4 CREATE: 'create a mailbox with the given name'; an existing one is NO [ALREADYEXISTS]",
        async () => {
          const d = await c.fresh();
          // RFC 8474 §4.1: CREATE's OK carries MAILBOXID.
          assert.match(
            await d.answer("CREATE Work/2026/Q1"),
            /^TAG OK \[MAILBOXID \([\w-]+\)\] CREATE completed$/,
          );
          // §6.3.4: superior names a CREATE needs are created; a trailing delimiter is the name without it.
          assert.deepEqual(await d.says('LIST "" "Work*"'), [
            '* LIST (\\HasChildren) "/" "Work"',
            '* LIST (\\HasChildren) "/" "Work/2026"',
            '* LIST (\\HasNoChildren) "/" "Work/2026/Q1"',
            "TAG OK LIST completed",
          ]);
          assert.match(await d.answer("CREATE Work/"), /^TAG NO \[ALREADYEXISTS\] /);
          // §5.1: INBOX is case-insensitive: "inbox" is INBOX, and exists already.
          assert.match(await d.answer("CREATE inbox"), /^TAG NO \[ALREADYEXISTS\] /);
          assert.match(await d.answer('CREATE ""'), /^TAG NO /);
        },
      );

      await t.step(
        "RFC 9051 §6.3.5 DELETE: INBOX cannot be deleted; one with children is refused with HASCHILDREN",
        async () => {
          const d = await c.fresh();
          assert.match(await d.answer("DELETE INBOX"), /^TAG NO /);
          assert.match(await d.answer("DELETE Nothing"), /^TAG NO \[NONEXISTENT\] /);
          await d.says("CREATE Parent/Child");
          // "If the server implementation does not permit deleting the name while inferior hierarchical
          // names exist, then it SHOULD disallow the DELETE command by returning a tagged NO response.
          // The NO response SHOULD include the HASCHILDREN response code."
          assert.match(await d.answer("DELETE Parent"), /^TAG NO \[HASCHILDREN\] /);
          assert.equal(await d.answer("DELETE Parent/Child"), "TAG OK DELETE completed");
          assert.equal(await d.answer("DELETE Parent"), "TAG OK DELETE completed");
          assert.deepEqual(await d.says('LIST "" "Parent*"'), ["TAG OK LIST completed"]);
        },
      );

      await t.step(
        "RFC 9051 §6.3.6 RENAME: 'inferior hierarchical names MUST also be renamed'; targets checked",
        async () => {
          const d = await c.fresh();
          await d.says("CREATE Old/Sub/Leaf");
          assert.match(await d.says(appendOf("Old/Sub", mail("kept"))).then((l) => l.at(-1)!), /^TAG OK /);
          assert.equal(await d.answer("RENAME Old New"), "TAG OK RENAME completed");
          assert.deepEqual(await d.says('LIST "" "*" RETURN (STATUS (MESSAGES))'), [
            '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
            '* STATUS "Archive" (MESSAGES 0)',
            '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
            '* STATUS "Drafts" (MESSAGES 0)',
            '* LIST (\\HasNoChildren) "/" "INBOX"',
            '* STATUS "INBOX" (MESSAGES 0)',
            '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
            '* STATUS "Junk" (MESSAGES 0)',
            '* LIST (\\HasChildren) "/" "New"',
            '* STATUS "New" (MESSAGES 0)',
            '* LIST (\\HasChildren) "/" "New/Sub"',
            '* STATUS "New/Sub" (MESSAGES 1)',
            '* LIST (\\HasNoChildren) "/" "New/Sub/Leaf"',
            '* STATUS "New/Sub/Leaf" (MESSAGES 0)',
            '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
            '* STATUS "Sent" (MESSAGES 0)',
            '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
            '* STATUS "Trash" (MESSAGES 0)',
            "TAG OK LIST completed",
          ]);
          // "It is an error to attempt to rename from a mailbox name that does not exist or to a
          // mailbox name that already exists."
          assert.match(await d.answer("RENAME Old Elsewhere"), /^TAG NO \[NONEXISTENT\] /);
          assert.match(await d.answer("RENAME New Sent"), /^TAG NO \[ALREADYEXISTS\] /);
          // Renaming creates the superior names the new name needs.
          assert.equal(await d.answer("RENAME New/Sub/Leaf Deep/Er/Leaf"), "TAG OK RENAME completed");
          assert.deepEqual(await d.says('LIST "" "Deep/%"'), [
            '* LIST (\\HasChildren) "/" "Deep/Er"',
            "TAG OK LIST completed",
          ]);
        },
      );

      await t.step(
        "RFC 9051 §6.3.7 SUBSCRIBE: 'a server MAY validate the mailbox argument'; LSUB and LIST (SUBSCRIBED)",
        async () => {
          const d = await c.fresh();
          // Subscriptions are a property of the JMAP mailbox here, so a name that does not exist is refused.
          assert.match(await d.answer("SUBSCRIBE Nowhere"), /^TAG NO \[NONEXISTENT\] /);
          await d.says("CREATE Lists");
          assert.equal(await d.answer("UNSUBSCRIBE Lists"), "TAG OK UNSUBSCRIBE completed");
          assert.deepEqual(await d.says('LIST (SUBSCRIBED) "" "L*"'), ["TAG OK LIST completed"]);
          assert.equal(await d.answer("SUBSCRIBE Lists"), "TAG OK SUBSCRIBE completed");
          assert.deepEqual(await d.says('LIST (SUBSCRIBED) "" "L*"'), [
            '* LIST (\\HasNoChildren \\Subscribed) "/" "Lists"',
            "TAG OK LIST completed",
          ]);
          // RFC 3501 §6.3.9 LSUB (kept for rev1 clients).
          assert.deepEqual(await d.says('LSUB "" "L*"'), ['* LSUB () "/" "Lists"', "TAG OK LSUB completed"]);
        },
      );

      await t.step(
        "RFC 9051 §6.3.9 LIST: the empty pattern gives the delimiter; % stops at a level; * does not",
        async () => {
          const d = await c.fresh();
          await d.says("CREATE Top/Mid/Low");
          assert.deepEqual(await d.says('LIST "" ""'), [
            '* LIST (\\Noselect) "/" ""',
            "TAG OK LIST completed",
          ]);
          assert.deepEqual(await d.says('LIST "" "Top/%"'), [
            '* LIST (\\HasChildren) "/" "Top/Mid"',
            "TAG OK LIST completed",
          ]);
          assert.deepEqual(await d.says('LIST "Top/" "*"'), [
            '* LIST (\\HasChildren) "/" "Top/Mid"',
            '* LIST (\\HasNoChildren) "/" "Top/Mid/Low"',
            "TAG OK LIST completed",
          ]);
          // §5.1: INBOX matches case-insensitively and is answered as INBOX.
          assert.deepEqual(await d.says('LIST "" "inbox"'), [
            '* LIST (\\HasNoChildren) "/" "INBOX"',
            "TAG OK LIST completed",
          ]);
          assert.deepEqual(await d.says('LIST "" "Nope/%"'), ["TAG OK LIST completed"]);
        },
      );

      await t.step(
        "RFC 9051 §6.3.11 STATUS: MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE; unknown item BAD",
        async () => {
          const d = await c.fresh();
          const message = mail("status");
          await d.says(appendOf("INBOX", message, "(\\Seen \\Deleted)"));
          await d.says(appendOf("INBOX", mail("status two")));
          const size = new TextEncoder().encode(message).length +
            new TextEncoder().encode(mail("status two")).length;
          const [line, ok] = await d.says("STATUS INBOX (MESSAGES UIDNEXT UNSEEN DELETED SIZE)");
          assert.equal(line, `* STATUS "INBOX" (MESSAGES 2 UIDNEXT 3 UNSEEN 1 DELETED 1 SIZE ${size})`);
          assert.equal(ok, "TAG OK STATUS completed");
          assert.match(
            (await d.says("STATUS INBOX (UIDVALIDITY)"))[0],
            /^\* STATUS "INBOX" \(UIDVALIDITY [1-9]\d*\)$/,
          );
          assert.match(await d.answer("STATUS INBOX (FROB)"), /^TAG BAD /);
          assert.match(await d.answer("STATUS Nowhere (MESSAGES)"), /^TAG NO \[NONEXISTENT\] /);
        },
      );

      await t.step(
        "RFC 9051 §6.3.12 APPEND: 'the destination mailbox does not exist' gives NO [TRYCREATE]",
        async () => {
          const d = await c.fresh();
          assert.match(await d.answer(appendOf("Nowhere", mail("x"))), /^TAG NO \[TRYCREATE\] /);
          // §2.3.2: \Recent may not be set by a client; an unknown system flag is not a flag.
          assert.match(await d.answer(appendOf("INBOX", mail("x"), "(\\Recent)")), /^TAG BAD /);
          assert.match(await d.answer(appendOf("INBOX", mail("x"), "(\\Frob)")), /^TAG BAD /);
          // The internal date given is kept (§6.3.12) and read back by FETCH INTERNALDATE.
          await d.says(appendOf("INBOX", mail("dated"), '"17-Jul-1996 02:44:25 -0700"'));
          await d.says("EXAMINE INBOX");
          assert.deepEqual(await d.says("FETCH 1 INTERNALDATE"), [
            '* 1 FETCH (INTERNALDATE "17-Jul-1996 09:44:25 +0000")',
            "TAG OK FETCH completed",
          ]);
        },
      );
    } finally {
      await c.stop();
    }
  },
});
