/**
 * The IMAP mail service on sets of messages (src/mail/imap_mailbox.ts messages, imap_updates.ts
 * storeFlags, src/store/imap_batch.ts): a batch of bodies after one rights check, and STORE on a set
 * written set-based with every guarantee of the per-message path (rights on each mailbox of each
 * email, all or nothing, MODSEQ in every mailbox, unread counts). Real store on a temporary database.
 */
import assert from "node:assert/strict";
import { decodeId } from "../src/model/ids.ts";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../src/model/errors.ts";
import { type ImapMailboxRef, type ImapMailboxService, MAX_MESSAGES_BATCH } from "../src/mail/mod.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createMailbox, createUsers, mailCall, rights, share, type Who } from "./mail_helpers.ts";
import { distinctMessage } from "./email_helpers.ts";

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

const text = (bytes: Uint8Array | undefined) => bytes && new TextDecoder().decode(bytes);

Deno.test("messages reads a batch of bodies by UID, leaves out an expunged one and matches message(uid)", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    const uids = [
      await append(t, alice, "INBOX"),
      await append(t, alice, "INBOX"),
      await append(t, alice, "INBOX"),
    ];
    await imap.expunge(id(alice), inbox, [[uids[1], uids[1]]], { deletedOnly: false });
    const bodies = await imap.messages(id(alice), inbox, [uids[2], uids[1], uids[0], 999]);
    assert.deepEqual([...bodies.keys()].sort(), [uids[0], uids[2]]);
    for (const uid of [uids[0], uids[2]]) {
      assert.equal(text(bodies.get(uid)), text(await imap.message(id(alice), inbox, uid)));
      assert.match(text(bodies.get(uid))!, /^From: carol@example\.net/);
    }
    assert.equal(await imap.message(id(alice), inbox, uids[1]), undefined);
    assert.equal((await imap.messages(id(alice), inbox, [])).size, 0);
  }));

Deno.test("messages needs mayReadItems: a revoked grant stops the batch, another account's mailbox is not found", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const imap = t.services.imapMailboxes;
    const shared = await createMailbox(t, bob, { name: "Shared" });
    const uid = await append(t, bob, "Shared");
    await share(t, bob, shared.id as string, { [alice.accountId]: rights("mayReadItems") });
    const entry = (await imap.list(id(alice))).find((e) => e.shared)!;
    const sharedRef = { accountId: entry.accountId, mailboxId: entry.mailboxId };
    assert.equal((await imap.messages(id(alice), sharedRef, [uid])).size, 1);
    await share(t, bob, shared.id as string, null);
    await assert.rejects(imap.messages(id(alice), sharedRef, [uid]), NotFoundError);
    await assert.rejects(imap.message(id(alice), sharedRef, uid), NotFoundError);
    // Bob's mailbox under Alice's account id: not a way in.
    await assert.rejects(
      imap.messages(id(bob), { ...sharedRef, accountId: id(alice) }, [uid]),
      NotFoundError,
    );
  }));

Deno.test("messages refuses what is not a UID and a batch that is too large, as client mistakes", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const imap = t.services.imapMailboxes;
    const inbox = await ref(imap, alice, "INBOX");
    for (const bad of [[0], [-1], [1.5], [Number.NaN], [2 ** 60]]) {
      await assert.rejects(imap.messages(id(alice), inbox, bad), InvalidInputError, `uids ${bad}`);
    }
    const many = Array.from({ length: MAX_MESSAGES_BATCH + 1 }, (_, i) => i + 1);
    await assert.rejects(imap.messages(id(alice), inbox, many), InvalidInputError);
    assert.equal((await imap.messages(id(alice), inbox, many.slice(1))).size, 0);
  }));

Deno.test("STORE on a set changes only what differs, moves MODSEQ in every mailbox and the unread counts", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const imap = t.services.imapMailboxes;
    await createMailbox(t, alice, { name: "Kept" });
    const inbox = await ref(imap, alice, "INBOX");
    const archive = await ref(imap, alice, "Kept");
    const [a, b, c] = [
      await append(t, alice, "INBOX", ["\\Seen"]),
      await append(t, alice, "INBOX", ["$Junk"]),
      await append(t, alice, "INBOX"),
    ];
    await imap.copy(id(alice), inbox, [[c, c]], archive);
    const before = await imap.select(id(alice), "INBOX");
    const archived = await imap.select(id(alice), "Kept");
    assert.equal((await imap.status(id(alice), "Kept")).unseen, 1);
    const added = await imap.storeFlags(id(alice), inbox, [[a, c]], { operation: "add", flags: ["\\Seen"] });
    assert.deepEqual(added.messages.map((m) => [m.uid, m.flags]), [
      [a, ["\\Seen"]],
      [b, ["\\Seen", "$Junk"]],
      [c, ["\\Seen"]],
    ]);
    // The message that already had \Seen was not written: its MODSEQ stays.
    assert.equal(added.messages[0].modseq, before.messages[0].modseq);
    assert.ok(added.messages[1].modseq > before.highestModseq);
    assert.equal((await imap.status(id(alice), "INBOX")).unseen, 0);
    assert.equal((await imap.status(id(alice), "Kept")).unseen, 0);
    const changed = await imap.changes(id(alice), archive, archived.highestModseq);
    assert.deepEqual(changed.changed.map((m) => m.flags), [["\\Seen"]]);
    const replaced = await imap.storeFlags(id(alice), inbox, [[a, c]], {
      operation: "replace",
      flags: ["\\Flagged"],
    });
    assert.deepEqual(replaced.messages.map((m) => m.flags), [["\\Flagged"], ["\\Flagged"], ["\\Flagged"]]);
    const removed = await imap.storeFlags(id(alice), inbox, [[b, c]], {
      operation: "remove",
      flags: ["\\Flagged"],
    });
    assert.deepEqual(removed.messages.map((m) => m.flags), [[], []]);
    assert.equal((await imap.status(id(alice), "INBOX")).unseen, 3);
  }));

Deno.test("STORE on a set is all or nothing: one message in a mailbox without the right refuses the whole set", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const imap = t.services.imapMailboxes;
    const team = await createMailbox(t, bob, { name: "Team" });
    await createMailbox(t, bob, { name: "Private" });
    const first = await append(t, bob, "Team");
    const second = await append(t, bob, "Team");
    const bobTeam = await ref(imap, bob, "Team");
    await imap.copy(id(bob), bobTeam, [[second, second]], await ref(imap, bob, "Private"));
    await share(t, bob, team.id as string, { [alice.accountId]: rights("mayReadItems", "maySetSeen") });
    const selected = await imap.select(id(alice), "Other Users/bob/Team");
    const before = await imap.select(id(bob), "Team");
    await assert.rejects(
      imap.storeFlags(id(alice), selected, [[first, second]], { operation: "add", flags: ["\\Seen"] }),
      ForbiddenError,
    );
    const after = await imap.select(id(bob), "Team");
    assert.deepEqual(after.messages.map((m) => m.flags), [[], []]);
    assert.equal(after.highestModseq, before.highestModseq);
    // The first alone is only in the shared mailbox: allowed.
    const one = await imap.storeFlags(id(alice), selected, [[first, first]], {
      operation: "add",
      flags: ["\\Seen"],
    });
    assert.deepEqual(one.messages.map((m) => m.flags), [["\\Seen"]]);
  }));

Deno.test("STORE on a set gives the messages it changes one MODSEQ in each of their mailboxes; JMAP sees every email", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const imap = t.services.imapMailboxes;
    await createMailbox(t, alice, { name: "Kept" });
    const inbox = await ref(imap, alice, "INBOX");
    const kept = await ref(imap, alice, "Kept");
    const [a, , c] = [
      await append(t, alice, "INBOX"),
      await append(t, alice, "INBOX", ["\\Flagged"]),
      await append(t, alice, "INBOX"),
      await append(t, alice, "INBOX"),
    ];
    await imap.copy(id(alice), inbox, [[c, c]], kept);
    const state = async () => (await mailCall(t, "Email/get", { ids: [] }, alice)).state as string;
    const jmapBefore = await state();
    const before = await imap.select(id(alice), "INBOX");
    const keptBefore = await imap.select(id(alice), "Kept");
    const stored = await imap.storeFlags(id(alice), inbox, [[a, c]], {
      operation: "add",
      flags: ["\\Flagged"],
    });
    const [ma, mb, mc] = stored.messages;
    // a and c changed: one MODSEQ for both, above everything before; b already had the flag.
    assert.equal(ma.modseq, mc.modseq);
    assert.ok(ma.modseq > before.highestModseq);
    assert.equal(mb.modseq, before.messages[1].modseq);
    const after = await imap.select(id(alice), "INBOX");
    assert.deepEqual(after.messages.map((m) => m.modseq), [
      ma.modseq,
      mb.modseq,
      ma.modseq,
      before.messages[3].modseq,
    ]);
    assert.equal(after.highestModseq, ma.modseq);
    // c's row in the other mailbox moved with it, and that mailbox's HIGHESTMODSEQ.
    const keptAfter = await imap.select(id(alice), "Kept");
    assert.equal(keptAfter.messages[0].modseq, ma.modseq);
    assert.equal(keptAfter.highestModseq, ma.modseq);
    assert.deepEqual(
      (await imap.changes(id(alice), kept, keptBefore.highestModseq)).changed.map((m) => m.uid),
      [
        keptAfter.messages[0].uid,
      ],
    );
    // JMAP: the state moved and Email/changes names both emails.
    const changes = await mailCall(t, "Email/changes", { sinceState: jmapBefore }, alice);
    assert.equal((changes.updated as string[]).length, 2);
    // A JMAP keyword write after it still takes a MODSEQ of its own (the per-row triggers are back on).
    const email = (changes.updated as string[])[0];
    await mailCall(t, "Email/set", { update: { [email]: { "keywords/$seen": true } } }, alice);
    const later = await imap.select(id(alice), "INBOX");
    assert.ok(later.highestModseq > ma.modseq);
  }));
