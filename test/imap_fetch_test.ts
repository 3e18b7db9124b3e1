/**
 * FETCH and UID FETCH on the real store (an in-process session with a mailbox selected): the facts
 * (FLAGS, UID, INTERNALDATE, RFC822.SIZE, MODSEQ, EMAILID = the JMAP Email id, THREADID) without
 * reading a message, each message opened once for several items, \Seen set by a non-PEEK body fetch
 * on a read-write mailbox (seen over JMAP) and not by PEEK, EXAMINE or a sharer without maySetSeen,
 * partials, BINARY's UNKNOWN-CTE, CHANGEDSINCE and VANISHED (EARLIER), and bad input: a sequence
 * number past the end, a part that does not exist, VANISHED without QRESYNC, a huge set.
 */
import assert from "node:assert/strict";
import { decodeId } from "../src/model/ids.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createMailbox, createUsers, mailCall, rights, share, type Who } from "./mail_helpers.ts";
import { message } from "./email_helpers.ts";
import { append, selectedSession } from "./imap_fetch_helpers.ts";

function withAlice(body: (t: TestApp, alice: Who, bob: Who) => Promise<void>): Promise<void> {
  return withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await body(t, alice, bob);
  });
}

/** The JMAP keywords of the email behind `emailId`. */
async function keywords(t: TestApp, who: Who, emailId: string): Promise<Record<string, boolean>> {
  const got = await mailCall(t, "Email/get", { ids: [emailId], properties: ["keywords"] }, who);
  return (got.list as { keywords: Record<string, boolean> }[])[0].keywords;
}

Deno.test("FETCH facts come from the store without reading a message; EMAILID is the JMAP id", () =>
  withAlice(async (t, alice) => {
    const date = Date.UTC(2026, 0, 5, 7, 8, 9);
    await append(t, alice, "INBOX", { flags: ["\\Flagged", "$Forwarded"], internalDate: date });
    await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice);
    const out = await s.run("a FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE MODSEQ EMAILID THREADID)");
    const first =
      /^\* 1 FETCH \(FLAGS \(\\Flagged \$Forwarded\) UID 1 INTERNALDATE "05-Jan-2026 07:08:09 \+0000" RFC822\.SIZE (\d+) MODSEQ \((\d+)\) EMAILID \(([a-z0-9]+)\) THREADID \(([a-z0-9]+)\)\)\r$/m
        .exec(out);
    assert.ok(first, out);
    assert.match(out, /^\* 2 FETCH \(FLAGS \(\) UID 2 /m);
    assert.match(out, /^a OK FETCH completed\r$/m);
    assert.equal((s.calls.message ?? 0) + (s.calls.messages ?? 0), 0, "no message was read");
    const emailId = first[3];
    const got = await mailCall(t, "Email/get", { ids: [emailId], properties: ["threadId", "size"] }, alice);
    const email = (got.list as { threadId: string; size: number }[])[0];
    assert.equal(email.threadId, first[4]);
    assert.equal(email.size, Number(first[1]));
  }));

Deno.test("UID FETCH always answers UID; a message is opened once for several items", () =>
  withAlice(async (t, alice) => {
    await append(t, alice, "INBOX");
    await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice);
    const out = await s.run("a UID FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER] BODY.PEEK[1]<0.4>)");
    assert.match(out, /^\* 1 FETCH \(UID 1 ENVELOPE \(/m);
    assert.match(out, /BODY\[HEADER\] \{\d+\}\r\nFrom: Carol/);
    assert.match(out, /BODY\[1\]<0> \{4\}\r\nBody\)\r\n/);
    assert.match(out, /^a OK UID FETCH completed\r$/m);
    assert.equal(s.calls.messages, 1, "one batched read for both messages, however many items need them");
    assert.equal(s.calls.message ?? 0, 0);
    assert.match(await s.run("b UID FETCH 2 (FLAGS)"), /^\* 2 FETCH \(UID 2 FLAGS \(\)\)\r$/m);
  }));

Deno.test("a non-PEEK BODY[] sets \\Seen (seen over JMAP) and reports FLAGS; PEEK and EXAMINE do not", () =>
  withAlice(async (t, alice) => {
    await append(t, alice, "INBOX");
    await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice, "INBOX", { enable: ["CONDSTORE"] });
    const peek = await s.run("a FETCH 1 (BODY.PEEK[TEXT])");
    assert.doesNotMatch(peek, /FLAGS/);
    const [, emailId] = /EMAILID \((\w+)\)/.exec(await s.run("b FETCH 1 (EMAILID)"))!;
    assert.equal((await keywords(t, alice, emailId)).$seen, undefined);
    const state = (await mailCall(t, "Email/get", { ids: [] }, alice)).state;
    const read = await s.run("c FETCH 1 (BODY[TEXT])");
    assert.match(
      read,
      /^\* 1 FETCH \(BODY\[TEXT\] \{\d+\}\r\nBody \d+\r\n FLAGS \(\\Seen\) MODSEQ \(\d+\)\)\r$/m,
    );
    assert.equal((await keywords(t, alice, emailId)).$seen, true);
    assert.notEqual(
      (await mailCall(t, "Email/get", { ids: [] }, alice)).state,
      state,
      "the JMAP state moved",
    );
    // Already seen: no FLAGS added the second time.
    assert.doesNotMatch(await s.run("d FETCH 1 (RFC822.TEXT)"), /FLAGS/);
    assert.deepEqual(s.session.selected!.message(1)!.flags, ["\\Seen"]);
    // EXAMINE: read-only, nothing set.
    const e = await selectedSession(t, alice, "INBOX", { examine: true });
    assert.doesNotMatch(await e.run("a FETCH 2 (BODY[] BINARY[1] RFC822)"), /FLAGS/);
    assert.match(await e.run("b FETCH 2 (FLAGS)"), /FLAGS \(\)/);
  }));

Deno.test("a sharer without maySetSeen reads BODY[] without setting \\Seen and may not STORE it", () =>
  withAlice(async (t, alice, bob) => {
    const team = await createMailbox(t, bob, { name: "Team" });
    await append(t, bob, "Team");
    await share(t, bob, team.id as string, { [alice.accountId]: rights("mayReadItems", "maySetKeywords") });
    const s = await selectedSession(t, alice, "Other Users/bob/Team");
    assert.equal(s.session.selected!.readOnly, false);
    const out = await s.run("a FETCH 1 (BODY[])");
    assert.match(out, /^\* 1 FETCH \(BODY\[\] \{\d+\}\r\n/m);
    assert.doesNotMatch(out, /FLAGS/);
    assert.match(out, /^a OK /m);
    assert.match(await s.run("b FETCH 1 (FLAGS)"), /FLAGS \(\)/);
    assert.match(await s.run("c STORE 1 +FLAGS (\\Seen)"), /^c NO \[NOPERM\] /m);
    assert.match(await s.run("d STORE 1 +FLAGS ($label)"), /^\* 1 FETCH \(FLAGS \(\$label\)\)\r\nd OK /m);
    // Another account's user sees nothing of it.
    await share(t, bob, team.id as string, null);
    assert.match(await s.run("e FETCH 1 (FLAGS)"), /^e NO \[NONEXISTENT\] /m);
  }));

Deno.test("partials, BINARY, a missing part and UNKNOWN-CTE", () =>
  withAlice(async (t, alice) => {
    const multipart = message(
      'From: a@example.net\nSubject: parts\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n' +
        "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n" +
        "--b\nContent-Type: application/x-odd\nContent-Transfer-Encoding: x-unknown\n\nzzz\n--b--\n",
    );
    await append(t, alice, "INBOX", { message: multipart });
    const s = await selectedSession(t, alice);
    assert.match(
      await s.run("a FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])"),
      /BINARY\[1\] \{11\}\r\nhello world BINARY\.SIZE\[1\] 11\)/,
    );
    assert.match(await s.run("b FETCH 1 (BINARY.PEEK[1]<6.100>)"), /BINARY\[1\]<6> \{5\}\r\nworld\)/);
    assert.match(await s.run("c FETCH 1 (BODY.PEEK[]<100000.10>)"), /BODY\[\]<100000> \{0\}\r\n\)/);
    assert.match(await s.run("d FETCH 1 (BODY.PEEK[99])"), /BODY\[99\] \{0\}\r\n\)/);
    assert.match(
      await s.run("e FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[1.MIME])"),
      /BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{18\}\r\nSubject: parts\r\n\r\n BODY\[1\.MIME\] \{\d+\}\r\nContent-Type/,
    );
    assert.match(await s.run("f FETCH 1 (BINARY.PEEK[2])"), /^f NO \[UNKNOWN-CTE\] /m);
    // BINARY.PEEK sets nothing; the NO above did not either.
    assert.match(await s.run("g FETCH 1 (FLAGS)"), /FLAGS \(\)/);
  }));

Deno.test("CHANGEDSINCE answers what changed with MODSEQ; VANISHED (EARLIER) needs QRESYNC", () =>
  withAlice(async (t, alice) => {
    for (let i = 0; i < 4; i++) await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice);
    const modseq = s.session.selected!.modseq;
    assert.match(await s.run("a STORE 2 +FLAGS ($x)"), /^a OK /m);
    assert.equal(s.session.enabled.has("CONDSTORE"), false);
    const out = await s.run(`b FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq})`);
    assert.match(out, /^\* 2 FETCH \(FLAGS \(\$x\) MODSEQ \(\d+\)\)\r\nb OK /m);
    assert.equal(s.session.enabled.has("CONDSTORE"), true, "CHANGEDSINCE enables CONDSTORE");
    // Expunged elsewhere (UID 3 and 4, after the modseq): VANISHED (EARLIER) of those in the set.
    const imap = t.services.imapMailboxes;
    const ref = s.session.selected!.ref;
    const viewer = decodeId(alice.accountId)!;
    await imap.expunge(viewer, ref, [[3, 4]], { deletedOnly: false });
    // The client's view still holds 3 and 4 until the session may report them (not while answering a
    // FETCH by sequence number, RFC 9051 §7.5.1); a FETCH skips them.
    assert.match(await s.run("f FETCH 3:4 (FLAGS)"), /^f OK \[EXPUNGEISSUED\] /m);
    assert.equal(s.session.selected!.exists, 4);
    assert.match(await s.run(`c UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`), /^c BAD /m);
    s.session.enabled.add("QRESYNC");
    assert.match(await s.run(`d FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`), /^d BAD /m);
    const vanished = await s.run(`e UID FETCH 1:3 (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    assert.match(
      vanished,
      /^\* VANISHED \(EARLIER\) 3\r\n\* 2 FETCH \(UID 2 FLAGS \(\$x\) MODSEQ \(\d+\)\)\r\n/,
    );
    // A UID command may report expunges: the syncs after them told the client, whose view now has two.
    assert.equal(s.session.selected!.exists, 2);
  }));

Deno.test("bad input: a number past the end, a huge set, an empty mailbox", () =>
  withAlice(async (t, alice) => {
    for (let i = 0; i < 3; i++) await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice);
    assert.match(await s.run("a FETCH 4 (FLAGS)"), /^a BAD /m);
    assert.match(await s.run("b FETCH 1:5 (FLAGS)"), /^b BAD /m);
    assert.match(await s.run("c FETCH 0 (FLAGS)"), /^c BAD /m);
    // UIDs that do not exist are skipped (RFC 9051 §6.4.8).
    const huge = await s.run("d UID FETCH 1:4294967295,2:4000000000 (FLAGS)");
    assert.equal(huge.match(/^\* \d+ FETCH/gm)?.length, 3, huge);
    assert.match(await s.run("e UID FETCH 100:200 (FLAGS)"), /^e OK /m);
    assert.match(await s.run("f FETCH 1 (BODY[)"), /^f BAD /m);
    const empty = await createMailbox(t, alice, { name: "Empty" });
    assert.ok(empty.id);
    const e = await selectedSession(t, alice, "Empty");
    assert.match(await e.run("a UID FETCH 1:* (FLAGS)"), /^a OK /m);
    assert.match(await e.run("b FETCH 1:* (FLAGS)"), /^b BAD /m);
  }));

Deno.test("a big mailbox: 1:* of flags reads no row, of facts no message and in batches; answers stream as they are made", () =>
  withAlice(async (t, alice) => {
    const count = 1100;
    for (let i = 0; i < count; i++) await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice);
    const out = await s.run("a FETCH 1:* (FLAGS UID)");
    assert.equal(out.match(/^\* \d+ FETCH \(FLAGS \(\) UID \d+\)\r$/gm)?.length, count);
    assert.equal((s.calls.message ?? 0) + (s.calls.messages ?? 0), 0, "no message was read");
    assert.equal(s.calls.facts ?? 0, 0, "FLAGS and UID come from the mailbox's view, no row read");
    assert.equal(s.calls.view, 1, "one look at the view");
    const sizes = await s.run("a2 FETCH 1:* (UID RFC822.SIZE)");
    assert.equal(sizes.match(/^\* \d+ FETCH \(UID \d+ RFC822\.SIZE \d+\)\r$/gm)?.length, count);
    assert.equal(s.calls.facts, 3, "facts in batches of 500");
    // Every other UID, one range each: a long set, answered in full.
    const odd = Array.from({ length: count / 2 }, (_, i) => 2 * i + 1).join(",");
    const sparse = await s.run(`b UID FETCH ${odd} (UID)`);
    assert.equal(sparse.match(/^\* \d+ FETCH/gm)?.length, count / 2);
    // The socket takes nothing more: the first writes are out while the FETCH still waits.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    s.io.drained = () => gate;
    const pending = s.run("c FETCH 1:* (BODY.PEEK[])");
    for (let i = 0; i < 200 && s.io.out.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const first = s.io.out.length;
    assert.ok(first > 0, "a first write went out");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.io.out.length, first, "nothing more is written until the socket drains");
    release();
    const all = await pending;
    assert.equal(all.match(/^\* \d+ FETCH \(BODY\[\] \{\d+\}\r$/gm)?.length, count);
    assert.match(all, /^c OK /m);
  }));
