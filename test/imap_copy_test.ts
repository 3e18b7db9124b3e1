/**
 * COPY, MOVE (and their UID forms) and APPEND through the real session and dispatch table, in
 * process on a temporary database, each result checked over JMAP: COPYUID and APPENDUID, MOVE's
 * untagged COPYUID and expunges (EXPUNGE numbers from the top, or VANISHED under QRESYNC), flags and
 * internal date of APPEND, literal8 content, TRYCREATE, NOPERM, OVERQUOTA, READ-ONLY, the "Other
 * Users" namespace (a sharer's grant with and without the insert right, then revoked), and bad input.
 */
import assert from "node:assert/strict";
import { decodeId, encodeId } from "../src/model/ids.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  rights,
  share,
  type Who,
} from "./mail_helpers.ts";
import { appendCommand, InProcessSession } from "./imap_inprocess_helpers.ts";

let counter = 0;
function mail(subject = "Hello"): string {
  counter++;
  return `From: carol@example.net\r\nTo: alice@example.org\r\nSubject: ${subject} ${counter}\r\n` +
    `Message-ID: <c${counter}.${crypto.randomUUID()}@example.net>\r\n\r\nBody ${counter}\r\n`;
}

async function emailOf(t: TestApp, who: Who, emailId: number, accountId = who.accountId): Promise<Obj> {
  const got = await mailCall(t, "Email/get", {
    accountId,
    ids: [encodeId(emailId)],
    properties: ["mailboxIds", "keywords", "receivedAt", "subject"],
  }, who);
  return (got.list as Obj[])[0];
}

/** Appends `count` messages (`messages`, or new ones) to a mailbox over the session; returns their UIDs. */
async function fill(
  imap: InProcessSession,
  count: number,
  mailbox = "INBOX",
  messages: string[] = [],
): Promise<number[]> {
  const uids: number[] = [];
  for (let i = 0; i < count; i++) {
    const answer = (await imap.command(appendCommand(mailbox, messages[i] ?? mail()))).at(-1)!;
    const uid = answer.match(/APPENDUID \d+ (\d+)\]/)?.[1];
    assert.ok(uid, answer);
    uids.push(Number(uid));
  }
  return uids;
}

Deno.test("APPEND: APPENDUID, flags and internal date kept, literal8, TRYCREATE, quota, bad input", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const imap = new InProcessSession(t, alice);
    const mailboxes = await mailboxesByName(t, alice);
    const answer = await imap.command(
      appendCommand("INBOX", mail("flagged"), '(\\Seen \\Flagged $Work) "14-Jul-2024 02:44:25 +0200"'),
    );
    assert.match(answer.at(-1)!, /^t1 OK \[APPENDUID \d+ 1\] APPEND completed$/, answer.join("\n"));
    const selected = await imap.select("INBOX");
    const email = await emailOf(t, alice, selected.message(1)!.emailId);
    assert.deepEqual(email.keywords, { $seen: true, $flagged: true, $work: true });
    assert.equal(email.receivedAt, "2024-07-14T00:44:25Z");
    assert.deepEqual(email.mailboxIds, { [mailboxes.Inbox.id as string]: true });

    // RFC 3516 literal8: binary content is accepted as it is.
    const binary = new TextEncoder().encode(`${mail("binary")}\0\x01tail\r\n`);
    const head = new TextEncoder().encode(`APPEND Archive ~{${binary.length}+}\r\n`);
    const literal8 = await imap.command(new Uint8Array([...head, ...binary]));
    assert.match(literal8.at(-1)!, /OK \[APPENDUID \d+ 1\]/, literal8.join("\n"));

    const missing = await imap.command(appendCommand("Nowhere", mail()));
    assert.match(missing.at(-1)!, /NO \[TRYCREATE\]/);
    const recent = await imap.command(appendCommand("INBOX", mail(), "(\\Recent)"));
    assert.match(recent.at(-1)!, /BAD .*Recent/i);
    const unknown = await imap.command(appendCommand("INBOX", mail(), "(\\Bogus)"));
    assert.match(unknown.at(-1)!, /BAD/);
    const badDate = await imap.command(appendCommand("INBOX", mail(), '"31-Feb-2024 10:00:00 +0000"'));
    assert.match(badDate.at(-1)!, /BAD/);
    const empty = await imap.command('APPEND INBOX ""');
    assert.match(empty.at(-1)!, /BAD|NO/);
    const emptyLiteral = await imap.command("APPEND INBOX {0+}\r\n");
    assert.match(emptyLiteral.at(-1)!, /NO \[CANNOT\] .*empty/);

    await adminSetAccounts(t, { update: { [alice.accountId]: { "quotas/maxDiskQuota": 100 } } });
    const over = await imap.command(appendCommand("INBOX", mail("x".repeat(200))));
    assert.match(over.at(-1)!, /NO \[OVERQUOTA\]/, over.join("\n"));
    assert.equal((await imap.select("INBOX")).exists, 1, "nothing stored by the refused APPENDs");
  }));

Deno.test("COPY and UID COPY answer COPYUID and add the mailbox to each email's mailboxIds", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const imap = new InProcessSession(t, alice);
    await fill(imap, 3);
    await fill(imap, 1, "Archive");
    const selected = await imap.select("INBOX");
    const copied = await imap.command("COPY 2:3 Archive");
    assert.match(copied.at(-1)!, /^t\d+ OK \[COPYUID \d+ 2:3 2:3\] COPY completed$/, copied.join("\n"));
    const mailboxes = await mailboxesByName(t, alice);
    const email = await emailOf(t, alice, selected.message(3)!.emailId);
    assert.deepEqual(
      Object.keys(email.mailboxIds as Obj).sort(),
      [mailboxes.Inbox.id, mailboxes.Archive.id].sort(),
    );
    const byUid = await imap.command("UID COPY 1,3,99 Trash");
    assert.match(byUid.at(-1)!, /OK \[COPYUID \d+ 1,3 1:2\]/, byUid.join("\n"));
    assert.equal(selected.exists, 3, "COPY expunges nothing");

    const nothing = await imap.command("UID COPY 50:60 Trash");
    assert.match(nothing.at(-1)!, /^t\d+ OK No messages/);
    const past = await imap.command("COPY 4 Trash");
    assert.match(past.at(-1)!, /BAD .*sequence number/);
    const missing = await imap.command("COPY 1 Nowhere");
    assert.match(missing.at(-1)!, /NO \[TRYCREATE\]/);
    const self = await imap.command("COPY 1 inbox");
    assert.match(self.at(-1)!, /NO \[CANNOT\]/);
    const syntax = await imap.command("COPY 1:x Trash");
    assert.match(syntax.at(-1)!, /BAD/);
  }));

Deno.test("MOVE: untagged COPYUID, EXPUNGE from the top (VANISHED under QRESYNC), READ-ONLY refused", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const imap = new InProcessSession(t, alice);
    await fill(imap, 5);
    const selected = await imap.select("INBOX");
    const moved = selected.message(4)!.emailId;
    const lines = await imap.command("MOVE 2,4 Archive");
    assert.match(lines[0], /^\* OK \[COPYUID \d+ 2,4 1:2\]/, lines.join("\n"));
    assert.deepEqual(lines.slice(1), ["* 4 EXPUNGE", "* 2 EXPUNGE", "t6 OK MOVE completed"]);
    assert.deepEqual(selected.uids, [1, 3, 5]);
    const mailboxes = await mailboxesByName(t, alice);
    assert.deepEqual((await emailOf(t, alice, moved)).mailboxIds, { [mailboxes.Archive.id as string]: true });

    imap.session.enabled.add("QRESYNC");
    const vanished = await imap.command("UID MOVE 3:5 Trash");
    assert.match(vanished[0], /^\* OK \[COPYUID \d+ 3,5 1:2\]/);
    assert.deepEqual(vanished.slice(1), ["* VANISHED 3,5", "t7 OK MOVE completed"]);
    assert.deepEqual(selected.uids, [1]);

    await imap.select("INBOX", { examine: true });
    const readOnly = await imap.command("MOVE 1 Trash");
    assert.match(readOnly.at(-1)!, /NO \[READ-ONLY\]/);
    assert.equal((await imap.select("INBOX")).exists, 1);
  }));

Deno.test("COPY, MOVE and APPEND into a mailbox shared under Other Users/: rights, quota, revocation", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const team = await createMailbox(t, bob, { name: "Team" });
    await share(t, bob, team.id as string, { [alice.accountId]: rights("mayReadItems") });
    const imap = new InProcessSession(t, alice);
    await fill(imap, 3);
    await imap.select("INBOX");
    const name = "Other Users/bob/Team";

    const readOnly = await imap.command(`COPY 1 "${name}"`);
    assert.match(readOnly.at(-1)!, /NO \[NOPERM\]/, readOnly.join("\n"));
    const appendRefused = await imap.command(appendCommand(name, mail()));
    assert.match(appendRefused.at(-1)!, /NO \[NOPERM\]/);

    await share(t, bob, team.id as string, {
      [alice.accountId]: rights("mayReadItems", "mayAddItems", "maySetSeen", "maySetKeywords"),
    });
    const copied = await imap.command(`COPY 1 "${name}"`);
    assert.match(copied.at(-1)!, /OK \[COPYUID \d+ 1 1\]/, copied.join("\n"));
    const moved = await imap.command(`UID MOVE 2 "${name}"`);
    assert.match(moved[0], /^\* OK \[COPYUID \d+ 2 2\]/, moved.join("\n"));
    assert.equal(moved[1], "* 2 EXPUNGE");
    const appended = await imap.command(appendCommand(name, mail(), "(\\Flagged)"));
    assert.match(appended.at(-1)!, /OK \[APPENDUID \d+ 3\]/);
    const inTeam = await mailCall(t, "Email/query", {
      accountId: bob.accountId,
      filter: { inMailbox: team.id },
    }, bob);
    assert.equal((inTeam.ids as string[]).length, 3, "bob's mailbox holds the three messages");

    await adminSetAccounts(t, { update: { [bob.accountId]: { "quotas/maxDiskQuota": 10 } } });
    const overQuota = await imap.command(`UID COPY 3 "${name}"`);
    assert.match(overQuota.at(-1)!, /NO \[OVERQUOTA\]/, overQuota.join("\n"));

    // Room for one message of two: the COPY is refused whole, nothing of it is stored.
    const [first, second] = [mail("fits"), mail("does not")];
    const [four, five] = await fill(imap, 2, "INBOX", [first, second]);
    await imap.select("INBOX");
    const used = await t.services.blobs.usedBytes(decodeId(bob.accountId)!);
    await adminSetAccounts(t, {
      update: { [bob.accountId]: { "quotas/maxDiskQuota": used + first.length + 5 } },
    });
    const half = await imap.command(`UID COPY ${four}:${five} "${name}"`);
    assert.match(half.at(-1)!, /NO \[OVERQUOTA\]/, half.join("\n"));
    const after = await mailCall(t, "Email/query", {
      accountId: bob.accountId,
      filter: { inMailbox: team.id },
    }, bob);
    assert.equal((after.ids as string[]).length, 3, "nothing of the refused COPY was stored");

    // Read-write in bob's mailbox (seen and keywords) but without mayRemoveItems: no MOVE out of it.
    const shared = await imap.select(name);
    assert.equal(shared.readOnly, false);
    const noRemove = await imap.command("MOVE 1 INBOX");
    assert.match(noRemove.at(-1)!, /NO \[NOPERM\]/, noRemove.join("\n"));
    const back = await imap.command("UID COPY 3 INBOX");
    assert.match(back.at(-1)!, /OK \[COPYUID \d+ 3 \d+\]/, back.join("\n"));
    await imap.select("INBOX");

    await share(t, bob, team.id as string, null);
    const revoked = await imap.command(appendCommand(name, mail()));
    assert.match(revoked.at(-1)!, /NO \[(TRYCREATE|NONEXISTENT)\]/);
    const copyRevoked = await imap.command(`COPY 1 "${name}"`);
    assert.match(copyRevoked.at(-1)!, /NO \[(TRYCREATE|NONEXISTENT)\]/);
  }));
