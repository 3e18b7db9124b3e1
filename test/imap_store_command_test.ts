/**
 * STORE and UID STORE on the real store (an in-process session with a mailbox selected): FLAGS,
 * +FLAGS, -FLAGS and their .SILENT forms, UID and MODSEQ in the answers, UNCHANGEDSINCE with
 * [MODIFIED] (sequence numbers, or UIDs for UID STORE) and .SILENT's MODSEQ-only answer, keywords
 * seen over JMAP with the state moved, and the refusals: read-only, \Recent, a bad flag, too many
 * flags, a number past the end, rights (NOPERM).
 */
import assert from "node:assert/strict";
import { decodeId, encodeId } from "../src/model/ids.ts";
import { MAX_FLAGS } from "../src/imap/commands/store.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createMailbox, createUsers, mailCall, rights, share, type Who } from "./mail_helpers.ts";
import { append, selectedSession } from "./imap_fetch_helpers.ts";

function withAlice(body: (t: TestApp, alice: Who, bob: Who) => Promise<void>): Promise<void> {
  return withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await body(t, alice, bob);
  });
}

async function emailIdOf(t: TestApp, who: Who, uid: number): Promise<string> {
  const selection = await t.services.imapMailboxes.select(decodeId(who.accountId)!, "INBOX");
  return encodeId(selection.messages.find((m) => m.uid === uid)!.emailId);
}

Deno.test("STORE FLAGS, +FLAGS, -FLAGS answer FETCH FLAGS; JMAP sees the keywords and a new state", () =>
  withAlice(async (t, alice) => {
    for (let i = 0; i < 3; i++) await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice);
    const state = (await mailCall(t, "Email/get", { ids: [] }, alice)).state;
    assert.equal(
      await s.run("a STORE 1:2 +FLAGS (\\Seen $Important)"),
      "* 1 FETCH (FLAGS (\\Seen $Important))\r\n* 2 FETCH (FLAGS (\\Seen $Important))\r\na OK STORE completed\r\n",
    );
    const id = await emailIdOf(t, alice, 1);
    const got = await mailCall(t, "Email/get", { ids: [id], properties: ["keywords"] }, alice);
    assert.deepEqual((got.list as { keywords: unknown }[])[0].keywords, { $seen: true, $important: true });
    assert.notEqual(got.state, state);
    assert.equal(
      await s.run("b STORE 2 -FLAGS ($important)"),
      "* 2 FETCH (FLAGS (\\Seen))\r\nb OK STORE completed\r\n",
    );
    assert.equal(
      await s.run("c UID STORE 3 FLAGS (\\Flagged \\Deleted)"),
      "* 3 FETCH (FLAGS (\\Deleted \\Flagged) UID 3)\r\nc OK UID STORE completed\r\n",
    );
    assert.equal(await s.run("d STORE 1 FLAGS.SILENT ()"), "d OK STORE completed\r\n");
    assert.deepEqual(s.session.selected!.message(1)!.flags, [], "the client's view follows a .SILENT store");
    assert.match(await s.run("e FETCH 1 (FLAGS)"), /FLAGS \(\)/);
    // A JMAP client's change is what the next FETCH tells.
    await mailCall(t, "Email/set", { update: { [id]: { "keywords/$flagged": true } } }, alice);
    assert.match(await s.run("f FETCH 1 (FLAGS)"), /FLAGS \(\\Flagged\)/);
  }));

Deno.test("UNCHANGEDSINCE: MODIFIED lists what changed since; .SILENT still answers MODSEQ", () =>
  withAlice(async (t, alice) => {
    for (let i = 0; i < 3; i++) await append(t, alice, "INBOX");
    const s = await selectedSession(t, alice);
    const modseq = s.session.selected!.modseq;
    const other = await selectedSession(t, alice);
    assert.match(await other.run("x STORE 2 +FLAGS ($other)"), /^x OK /m);
    const out = await s.run(`a STORE 1:3 (UNCHANGEDSINCE ${modseq}) +FLAGS.SILENT (\\Deleted)`);
    assert.match(
      out,
      // The other session's change to 2 is reported by the sync after the command (RFC 7162 §3.1.3:
      // a client told MODIFIED learns the new flags).
      /^\* 1 FETCH \(MODSEQ \(\d+\)\)\r\n\* 3 FETCH \(MODSEQ \(\d+\)\)\r\n\* 2 FETCH \(FLAGS \(\$other\) MODSEQ \(\d+\)\)\r\na OK \[MODIFIED 2\] /,
    );
    assert.equal(s.session.enabled.has("CONDSTORE"), true);
    // With CONDSTORE on, every STORE answer carries MODSEQ; UID STORE's MODIFIED lists UIDs.
    const after = await s.run(`b UID STORE 1:3 (UNCHANGEDSINCE ${modseq}) FLAGS (\\Seen)`);
    assert.match(after, /^b OK \[MODIFIED 1:3\] /m);
    const plain = await s.run("c UID STORE 2 +FLAGS ($x)");
    assert.match(plain, /^\* 2 FETCH \(FLAGS \(\$other \$x\) UID 2 MODSEQ \(\d+\)\)\r\nc OK /);
    // UNCHANGEDSINCE 0 fails for every message (RFC 7162 §3.1.3).
    assert.match(await s.run("d STORE 1 (UNCHANGEDSINCE 0) +FLAGS ($y)"), /^d OK \[MODIFIED 1\] /m);
  }));

Deno.test("STORE refusals: read-only, \\Recent, bad flags, too many flags, past the end, rights", () =>
  withAlice(async (t, alice, bob) => {
    await append(t, alice, "INBOX");
    const examined = await selectedSession(t, alice, "INBOX", { examine: true });
    assert.match(await examined.run("a STORE 1 +FLAGS (\\Seen)"), /^a NO \[READ-ONLY\] /m);
    const s = await selectedSession(t, alice);
    assert.match(await s.run("b STORE 1 +FLAGS (\\Recent)"), /^b BAD .*\\Recent/m);
    assert.match(await s.run("c STORE 1 +FLAGS (\\Bogus)"), /^c BAD /m);
    assert.match(await s.run("d STORE 2 +FLAGS (\\Seen)"), /^d BAD /m);
    assert.match(await s.run("e STORE 1 +FLAGS"), /^e BAD /m);
    const many = Array.from({ length: MAX_FLAGS + 1 }, (_, i) => `k${i}`).join(" ");
    assert.match(await s.run(`f STORE 1 +FLAGS (${many})`), /^f NO \[LIMIT\] /m);
    assert.match(await s.run("g FETCH 1 (FLAGS)"), /FLAGS \(\)/, "nothing was stored");
    // A read-only share: EXAMINE-like, NO [READ-ONLY]; mayReadItems + maySetSeen: keywords are NOPERM.
    const box = await createMailbox(t, bob, { name: "Box" });
    await append(t, bob, "Box");
    await share(t, bob, box.id as string, { [alice.accountId]: rights("mayReadItems") });
    const shared = await selectedSession(t, alice, "Other Users/bob/Box");
    assert.match(await shared.run("h STORE 1 +FLAGS (\\Seen)"), /^h NO \[READ-ONLY\] /m);
    await share(t, bob, box.id as string, { [alice.accountId]: rights("mayReadItems", "maySetSeen") });
    const seenOnly = await selectedSession(t, alice, "Other Users/bob/Box");
    assert.match(
      await seenOnly.run("i STORE 1 +FLAGS (\\Seen)"),
      /^\* 1 FETCH \(FLAGS \(\\Seen\)\)\r\ni OK /,
    );
    assert.match(await seenOnly.run("j STORE 1 +FLAGS (\\Deleted)"), /^j NO \[NOPERM\] /m);
    assert.match(await seenOnly.run("k STORE 1 +FLAGS ($label)"), /^k NO \[NOPERM\] /m);
  }));
