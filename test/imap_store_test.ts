/**
 * IMAP's view of the store (store/migrations/041_imap.ts, src/mail/imap_mailbox.ts): UIDs, UIDVALIDITY
 * and MODSEQ follow every write path (IMAP, JMAP Email/set and /import, SMTP delivery, mailbox and
 * account deletion); changes since a MODSEQ, with and without the expunge log; STORE with
 * UNCHANGEDSINCE; COPY/MOVE UID maps; rights of a share. Real store on a temporary database.
 */
import assert from "node:assert/strict";
import { decodeId, encodeId } from "../src/model/ids.ts";
import { ForbiddenError, InvalidInputError, NotFoundError, QuotaError } from "../src/model/errors.ts";
import type { ImapMailboxRef, ImapMailboxService } from "../src/mail/mod.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  rights,
  setMailboxes,
  share,
  type Who,
} from "./mail_helpers.ts";
import { distinctMessage, importMessage } from "./email_helpers.ts";

const mail = distinctMessage;

const id = (who: Who) => decodeId(who.accountId)!;

async function ref(imap: ImapMailboxService, who: Who, name: string): Promise<ImapMailboxRef> {
  const entry = await imap.resolve(id(who), name);
  assert.ok(entry, `no mailbox ${name}`);
  return { accountId: entry.accountId, mailboxId: entry.mailboxId };
}

async function append(t: TestApp, who: Who, name: string, flags: string[] = []): Promise<number> {
  const imap = t.services.imapMailboxes;
  return (await imap.append(id(who), await ref(imap, who, name), { message: mail(), flags })).uid;
}

function withAlice(body: (t: TestApp, alice: Who, bob: Who) => Promise<void>): Promise<void> {
  return withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await body(t, alice, bob);
  });
}

Deno.test("UIDs ascend in a mailbox and are never handed out again after an IMAP or JMAP removal", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    assert.deepEqual([
      await append(t, alice, "INBOX"),
      await append(t, alice, "inbox"),
      await append(t, alice, "INBOX"),
    ], [1, 2, 3]);
    await imap.storeFlags(id(alice), inbox, [[3, 3]], { operation: "add", flags: ["\\Deleted"] });
    assert.deepEqual(await imap.expunge(id(alice), inbox), [3]);
    assert.equal(await append(t, alice, "INBOX"), 4);
    const selected = await imap.select(id(alice), "INBOX");
    const second = selected.messages.find((m) => m.uid === 2)!;
    const destroyed = await mailCall(t, "Email/set", { destroy: [encodeId(second.emailId)] }, alice);
    assert.deepEqual(destroyed.destroyed, [encodeId(second.emailId)]);
    assert.equal(await append(t, alice, "INBOX"), 5);
    const after = await imap.select(id(alice), "INBOX");
    assert.deepEqual(after.messages.map((m) => m.uid), [1, 4, 5]);
    assert.equal(after.uidNext, 6);
    assert.equal(after.uidValidity, selected.uidValidity);
  }));

Deno.test("MODSEQ moves with Email/set keywords, SMTP delivery, Email/import and a mailbox's deletion", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    let seen = (await imap.select(id(alice), "INBOX")).highestModseq;
    const since = async () => {
      const changes = await imap.changes(id(alice), inbox, seen);
      assert.ok(changes.highestModseq > seen, "HIGHESTMODSEQ went up");
      seen = changes.highestModseq;
      return changes;
    };
    // SMTP delivery.
    const check = await t.services.inbound.checkRecipient("alice@example.org");
    assert.ok(check.accepted);
    await t.services.inbound.deliver({
      mailFrom: "carol@example.net",
      recipients: [check.recipient],
      message: mail("Delivered"),
      received: () => "Received: from test by example.org; Mon, 7 Dec 2026 00:00:00 +0000\r\n",
    });
    const delivered = await since();
    assert.deepEqual(delivered.changed.map((m) => m.uid), [1]);
    // JMAP Email/import.
    const imported = await importMessage(t, alice, mail("Imported"));
    assert.ok((imported.created as Record<string, unknown>).m, JSON.stringify(imported));
    assert.deepEqual((await since()).changed.map((m) => m.uid), [2]);
    // JMAP Email/set keywords.
    const emailId = encodeId(delivered.changed[0].emailId);
    await mailCall(t, "Email/set", { update: { [emailId]: { "keywords/$flagged": true } } }, alice);
    const flagged = await since();
    assert.deepEqual(flagged.changed.map((m) => [m.uid, m.flags]), [[1, ["\\Flagged"]]]);
    assert.equal(flagged.changed[0].modseq, flagged.highestModseq);
    // A mailbox deleted with the email in it: the email's row in INBOX changes (its mailboxIds did).
    const box = await createMailbox(t, alice, { name: "Box" });
    const boxRef = await ref(imap, alice, "Box");
    await imap.copy(id(alice), inbox, [[1, 1]], boxRef);
    await since();
    await setMailboxes(t, alice, { destroy: [box.id], onDestroyRemoveEmails: true });
    assert.deepEqual((await since()).changed.map((m) => m.uid), [1]);
    assert.equal(await imap.resolve(id(alice), "Box"), undefined);
    await assert.rejects(imap.changes(id(alice), boxRef, 0), NotFoundError);
    // Nothing changed: nothing reported.
    const quiet = await imap.changes(id(alice), inbox, seen);
    assert.deepEqual([quiet.changed, quiet.vanished], [[], []]);
  }));

Deno.test("deleting an account removes its IMAP state with it", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    await append(t, alice, "INBOX", ["\\Seen"]);
    await adminSetAccounts(t, { accountId: "b", destroy: [alice.accountId] });
    assert.equal((await t.services.store.imap.states([inbox.mailboxId])).size, 0);
    assert.deepEqual((await t.services.store.integrity.check()).dangling, []);
  }));

Deno.test("changes since a MODSEQ report flags and expunges, and a full answer after the log was purged", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    for (let i = 0; i < 6; i++) await append(t, alice, "INBOX");
    const start = (await imap.select(id(alice), "INBOX")).highestModseq;
    await imap.storeFlags(id(alice), inbox, [[1, 2]], { operation: "add", flags: ["\\Deleted"] });
    await imap.storeFlags(id(alice), inbox, [[3, 3]], { operation: "add", flags: ["\\Seen"] });
    assert.deepEqual(await imap.expunge(id(alice), inbox), [1, 2]);
    const changes = await imap.changes(id(alice), inbox, start);
    assert.deepEqual(changes.vanished, [[1, 2]]);
    assert.ok(changes.vanishedExact);
    assert.deepEqual(changes.changed.map((m) => [m.uid, m.flags]), [[3, ["\\Seen"]]]);
    // The log keeps 2 after passing 4: expunging uids 3..6 one by one purges the older ones.
    await t.services.store.imap.setKeepExpunges(2);
    const middle = (await imap.changes(id(alice), inbox, 0)).highestModseq;
    for (const uid of [3, 4, 5]) await imap.expunge(id(alice), inbox, [[uid, uid]], { deletedOnly: false });
    const full = await imap.changes(id(alice), inbox, start);
    assert.equal(full.vanishedExact, false);
    assert.deepEqual(full.vanished, [[1, 5]]);
    const recent = await imap.changes(id(alice), inbox, middle);
    assert.ok(recent.vanishedExact);
    assert.deepEqual(recent.vanished, [[3, 5]]);
  }));

Deno.test("STORE with UNCHANGEDSINCE leaves a message changed since alone and names it MODIFIED", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    await append(t, alice, "INBOX");
    await append(t, alice, "INBOX");
    const before = await imap.select(id(alice), "INBOX");
    // Another client (JMAP) flags message 2 after this one read the mailbox.
    const second = encodeId(before.messages[1].emailId);
    await mailCall(t, "Email/set", { update: { [second]: { "keywords/$flagged": true } } }, alice);
    const result = await imap.storeFlags(id(alice), inbox, [[1, 2]], {
      operation: "replace",
      flags: ["\\Seen", "$Forwarded"],
      unchangedSince: before.highestModseq,
    });
    assert.deepEqual(result.modified, [2]);
    assert.deepEqual(result.messages.map((m) => [m.uid, m.flags]), [[1, ["\\Seen", "$Forwarded"]]]);
    assert.ok(result.messages[0].modseq > before.highestModseq);
    const after = await imap.select(id(alice), "INBOX");
    assert.deepEqual(after.messages.map((m) => m.flags), [["\\Seen", "$Forwarded"], ["\\Flagged"]]);
    const email = await mailCall(t, "Email/get", { ids: [encodeId(before.messages[0].emailId)] }, alice);
    assert.deepEqual((email.list as { keywords: unknown }[])[0].keywords, { $seen: true, $forwarded: true });
  }));

Deno.test("an IMAP write moves the JMAP Email state and tells the change log's listeners", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    await append(t, alice, "INBOX");
    const state = async () => (await mailCall(t, "Email/get", { ids: [] }, alice)).state;
    const before = await state();
    let told = 0;
    const stop = t.services.store.changes.onAppended(() => told++);
    try {
      await imap.storeFlags(id(alice), inbox, [[1, 1]], { operation: "add", flags: ["\\Seen"] });
    } finally {
      stop();
    }
    assert.notEqual(await state(), before);
    assert.equal(told, 1);
    const changes = await mailCall(t, "Email/changes", { sinceState: before }, alice);
    assert.equal((changes.updated as string[]).length, 1);
  }));

Deno.test("COPY and MOVE answer their UID maps; an email in two mailboxes has a UID in each", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const [inbox, archive, trash] = await Promise.all(
      ["INBOX", "Archive", "Trash"].map((name) => ref(imap, alice, name)),
    );
    for (let i = 0; i < 3; i++) await append(t, alice, "INBOX");
    await append(t, alice, "Archive");
    const copied = await imap.copy(id(alice), inbox, [[2, 3]], archive);
    assert.deepEqual(copied.pairs, [[2, 2], [3, 3]]);
    assert.equal(copied.uidValidity, (await imap.select(id(alice), "Archive")).uidValidity);
    const emailId = (await imap.select(id(alice), "INBOX")).messages[1].emailId;
    const got = await mailCall(
      t,
      "Email/get",
      { ids: [encodeId(emailId)], properties: ["mailboxIds"] },
      alice,
    );
    assert.deepEqual(
      Object.keys((got.list as { mailboxIds: Record<string, boolean> }[])[0].mailboxIds).sort(),
      [encodeId(inbox.mailboxId), encodeId(archive.mailboxId)].sort(),
    );
    // COPY again into a mailbox that has it: the UID it has there.
    assert.deepEqual((await imap.copy(id(alice), inbox, [[2, 2]], archive)).pairs, [[2, 2]]);
    const beforeMove = (await imap.select(id(alice), "Archive")).highestModseq;
    const moved = await imap.move(id(alice), archive, [[1, 2]], trash);
    assert.deepEqual(moved.pairs, [[1, 1], [2, 2]]);
    assert.deepEqual((await imap.select(id(alice), "Archive")).messages.map((m) => m.uid), [3]);
    assert.deepEqual((await imap.select(id(alice), "INBOX")).messages.map((m) => m.uid), [1, 2, 3]);
    const archiveChanges = await imap.changes(id(alice), archive, beforeMove);
    assert.deepEqual(archiveChanges.vanished, [[1, 2]]);
  }));

Deno.test("a mailbox deleted and created again under its name gets a new UIDVALIDITY", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const first = await createMailbox(t, alice, { name: "Projects" });
    const before = await imap.select(id(alice), "Projects");
    await setMailboxes(t, alice, { destroy: [first.id] });
    await createMailbox(t, alice, { name: "Projects" });
    const after = await imap.select(id(alice), "Projects");
    assert.notEqual(after.uidValidity, before.uidValidity);
    assert.ok(after.uidValidity > before.uidValidity);
  }));

Deno.test("a read-only share selects read-only and cannot store; a revoked share is gone at once", () =>
  withAlice(async (t, alice, bob) => {
    const imap = t.services.imapMailboxes;
    const shared = await createMailbox(t, bob, { name: "Shared" });
    await append(t, bob, "Shared");
    await share(t, bob, shared.id as string, { [alice.accountId]: rights("mayReadItems") });
    const entries = await imap.list(id(alice));
    const entry = entries.find((e) => e.shared);
    assert.equal(entry?.name, "Other Users/bob/Shared");
    const selected = await imap.select(id(alice), entry.name);
    assert.equal(selected.readOnly, true);
    assert.deepEqual(selected.permanentFlags, []);
    assert.equal(selected.messages.length, 1);
    const sharedRef = { accountId: entry.accountId, mailboxId: entry.mailboxId };
    await assert.rejects(
      imap.storeFlags(id(alice), sharedRef, [[1, 1]], { operation: "add", flags: ["\\Seen"] }),
      ForbiddenError,
    );
    await assert.rejects(imap.expunge(id(alice), sharedRef), ForbiddenError);
    await assert.rejects(imap.append(id(alice), sharedRef, { message: mail() }), ForbiddenError);
    // Alice's own INBOX by its ref with Bob's account: not hers to reach that way.
    const aliceInbox = await ref(imap, alice, "INBOX");
    await assert.rejects(imap.changes(id(bob), aliceInbox, 0), NotFoundError);
    await share(t, bob, shared.id as string, null);
    assert.equal((await imap.list(id(alice))).some((e) => e.shared), false);
    await assert.rejects(imap.changes(id(alice), sharedRef, 0), NotFoundError);
  }));

Deno.test("a share with seen and keyword rights selects read-write and stores flags", () =>
  withAlice(async (t, alice, bob) => {
    const imap = t.services.imapMailboxes;
    const shared = await createMailbox(t, bob, { name: "Team" });
    await append(t, bob, "Team");
    await share(t, bob, shared.id as string, {
      [alice.accountId]: rights("mayReadItems", "maySetSeen", "maySetKeywords"),
    });
    const name = "Other Users/bob/Team";
    const selected = await imap.select(id(alice), name);
    assert.equal(selected.readOnly, false);
    const result = await imap.storeFlags(id(alice), selected, [[1, 1]], {
      operation: "add",
      flags: ["\\Seen"],
    });
    assert.deepEqual(result.messages.map((m) => m.flags), [["\\Seen"]]);
    // \Deleted needs mayRemoveItems (RFC 4314 "t").
    await assert.rejects(
      imap.storeFlags(id(alice), selected, [[1, 1]], { operation: "add", flags: ["\\Deleted"] }),
      ForbiddenError,
    );
    assert.equal((await imap.select(id(bob), "Team")).messages[0].flags.join(), "\\Seen");
  }));

Deno.test("bad flags and unknown mailboxes are refused as client mistakes", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    await append(t, alice, "INBOX");
    for (const flags of [["\\Recent"], ["\\Important"], ["bad(keyword"], [""]]) {
      await assert.rejects(
        imap.storeFlags(id(alice), inbox, [[1, 1]], { operation: "add", flags }),
        InvalidInputError,
      );
      await assert.rejects(imap.append(id(alice), inbox, { message: mail(), flags }), InvalidInputError);
    }
    await assert.rejects(imap.select(id(alice), "Nowhere"), NotFoundError);
    await assert.rejects(imap.status(id(alice), "Nowhere"), NotFoundError);
    await assert.rejects(imap.changes(id(alice), { ...inbox, mailboxId: 999_999 }, 0), NotFoundError);
    // STORE on UIDs that do not exist changes nothing.
    const none = await imap.storeFlags(id(alice), inbox, [[50, 60]], { operation: "add", flags: ["\\Seen"] });
    assert.deepEqual(none, { messages: [], modified: [] });
    const names = (await mailboxesByName(t, alice)).Inbox;
    assert.ok(names);
  }));

Deno.test("APPEND keeps flags and internal date; STATUS counts; the same message again is a new email", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    const archive = await ref(imap, alice, "Archive");
    const bytes = mail();
    const date = Date.UTC(2020, 0, 2, 3, 4, 5);
    const first = await imap.append(id(alice), inbox, {
      message: bytes,
      flags: ["\\Seen", "\\Draft"],
      internalDate: date,
    });
    const [facts] = await imap.facts(id(alice), inbox, [[first.uid, first.uid]]);
    assert.equal(facts.internalDate, date);
    assert.equal(facts.size, bytes.length);
    assert.deepEqual(facts.flags, ["\\Draft", "\\Seen"]);
    assert.deepEqual(await imap.message(id(alice), inbox, first.uid), bytes);
    assert.equal(await imap.message(id(alice), inbox, 99), undefined);
    const again = await imap.append(id(alice), archive, { message: bytes, flags: ["\\Flagged"] });
    assert.equal(again.uid, 1);
    const [shown] = await imap.facts(id(alice), archive, [[1, 1]]);
    assert.notEqual(shown.emailId, facts.emailId, "a message of its own");
    assert.deepEqual(shown.flags, ["\\Flagged"], "with its own flags");
    const twice = await imap.append(id(alice), inbox, { message: bytes });
    assert.equal(twice.uid, 2);
    const status = await imap.status(id(alice), "INBOX");
    assert.deepEqual([status.messages, status.unseen, status.uidNext, status.size], [
      2,
      1,
      3,
      2 * bytes.length,
    ]);
  }));

Deno.test("a sharer's deletion takes its mailboxes out of LIST at once; SUBSCRIBE is the viewer's own", () =>
  withAlice(async (t, alice, bob) => {
    const imap = t.services.imapMailboxes;
    const shared = await createMailbox(t, bob, { name: "Shared" });
    await share(t, bob, shared.id as string, { [alice.accountId]: rights("mayReadItems") });
    const entry = (await imap.list(id(alice))).find((e) => e.shared)!;
    assert.equal(entry.subscribed, false);
    await imap.subscribe(id(alice), entry, true);
    assert.equal((await imap.list(id(alice))).find((e) => e.shared)?.subscribed, true);
    assert.equal((await imap.list(id(bob))).find((e) => e.name === "Shared")?.subscribed, true);
    await adminSetAccounts(t, { accountId: "b", destroy: [bob.accountId] });
    assert.deepEqual((await imap.list(id(alice))).filter((e) => e.shared), []);
    assert.deepEqual(
      (await imap.list(id(alice))).map((e) => [e.name, e.specialUse]),
      [
        ["Archive", "\\Archive"],
        ["Drafts", "\\Drafts"],
        ["INBOX", null],
        ["Junk", "\\Junk"],
        ["Sent", "\\Sent"],
        ["Trash", "\\Trash"],
      ],
    );
  }));

Deno.test("COPY into another account and MULTIAPPEND are all or none: a refusal midway leaves the target as it was", () =>
  withAlice(async (t, alice, bob) => {
    const imap = t.services.imapMailboxes;
    const drop = await createMailbox(t, bob, { name: "Drop" });
    await share(t, bob, drop.id as string, { [alice.accountId]: rights("mayReadItems", "mayAddItems") });
    const messages = [mail("one"), mail("two"), mail("three")];
    const inbox = await ref(imap, alice, "INBOX");
    for (const message of messages) await imap.append(id(alice), inbox, { message });
    const target = await ref(imap, alice, "Other Users/bob/Drop");
    // Bob's account has room for the first two messages, not the third: the refusal comes midway.
    const used = await t.services.blobs.usedBytes(id(bob));
    await adminSetAccounts(t, {
      update: { [bob.accountId]: { "quotas/maxDiskQuota": used + messages[0].length + messages[1].length } },
    });
    const unchanged = async () => {
      assert.deepEqual((await imap.select(id(bob), "Drop")).messages, []);
      assert.equal(await t.services.blobs.usedBytes(id(bob)), used);
    };
    // RFC 9051 §6.4.7: "If the COPY command is unsuccessful for any reason, server implementations
    // MUST restore the destination mailbox to its state before the COPY attempt".
    await assert.rejects(imap.copy(id(alice), inbox, [[1, 3]], target), QuotaError);
    await unchanged();
    // RFC 3502: "If the server returns a failure for any message, none of the messages are appended".
    await assert.rejects(
      imap.appendAll(id(alice), target, messages.map((message) => ({ message }))),
      QuotaError,
    );
    await unchanged();
    // Nothing of either was kept, UIDs included: the two that fit take the first UIDs.
    assert.deepEqual((await imap.copy(id(alice), inbox, [[1, 2]], target)).pairs, [[1, 1], [2, 2]]);
    assert.deepEqual((await imap.select(id(bob), "Drop")).messages.map((m) => m.uid), [1, 2]);
  }));
