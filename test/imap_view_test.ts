/**
 * The IMAP mail service's shared mailbox views (src/mail/imap_views.ts): a write by another process
 * is seen at the next SELECT; expunges and appends between two views; sessions sharing one view
 * each get their own EXPUNGE numbering and give their copy back once they have caught up; a write
 * committing while a view is being read is never lost; a view read inside an open write transaction
 * is not kept; who may look at a view. Real store on a temporary database.
 */
import assert from "node:assert/strict";
import { ImapMetrics } from "../src/imap/metrics.ts";
import { decodeId } from "../src/model/ids.ts";
import { NotFoundError } from "../src/model/errors.ts";
import type { ImapMailboxRef } from "../src/mail/mod.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createMailbox, createUsers, rights, share, type Who } from "./mail_helpers.ts";
import { imapMailboxes } from "../src/imap_listener.ts";
import { selectedSession } from "./imap_fetch_helpers.ts";

const id = (who: Who) => decodeId(who.accountId)!;
const encoder = new TextEncoder();

function mail(i: number): Uint8Array<ArrayBuffer> {
  return encoder.encode(
    `From: carol@example.net\r\nSubject: view ${i}\r\nMessage-ID: <${crypto.randomUUID()}@example.net>\r\n\r\nBody ${i}\r\n`,
  );
}

async function inboxOf(t: TestApp, who: Who): Promise<ImapMailboxRef> {
  const entry = (await t.services.imapMailboxes.resolve(id(who), "INBOX"))!;
  return { accountId: entry.accountId, mailboxId: entry.mailboxId };
}

async function fill(t: TestApp, who: Who, count: number): Promise<number[]> {
  const inbox = await inboxOf(t, who);
  const uids: number[] = [];
  for (let i = 0; i < count; i++) {
    uids.push((await t.services.imapMailboxes.append(id(who), inbox, { message: mail(i) })).uid);
  }
  return uids;
}

/** Appends `count` messages from another process on the same database file (test/imap_append_child.ts). */
async function appendElsewhere(t: TestApp, who: Who, count: number): Promise<number[]> {
  const inbox = await inboxOf(t, who);
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./imap_append_child.ts", import.meta.url).pathname,
      t.dataDir,
      String(id(who)),
      String(inbox.accountId),
      String(inbox.mailboxId),
      String(count),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(code, 0);
  return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").pop()!);
}

function withAlice(body: (t: TestApp, alice: Who, bob: Who) => Promise<void>): Promise<void> {
  return withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await body(t, alice, bob);
  });
}

Deno.test("a write by another process is seen at the next SELECT, by reading only what changed", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const mine = await fill(t, alice, 3);
    assert.deepEqual((await imap.select(id(alice), "INBOX")).messages.map((m) => m.uid), mine);
    const before = imap.views.stats();
    const theirs = await appendElsewhere(t, alice, 2);
    const after = await imap.select(id(alice), "INBOX");
    assert.deepEqual(after.messages.map((m) => m.uid), [...mine, ...theirs]);
    assert.equal(after.uidNext, theirs[1] + 1);
    const stats = imap.views.stats();
    assert.equal(stats.loads, before.loads, "no second read of every row");
    assert.equal(stats.refreshes, before.refreshes + 1);
    // Nothing changed since: the view is used as it is.
    await imap.select(id(alice), "INBOX");
    assert.equal(imap.views.stats().hits, stats.hits + 1);
    const samples = new ImapMetrics(() => imap.views.stats()).samples();
    const refreshes = samples.find((s) =>
      s.name === "postern_imap_views_total" && s.labels?.event === "refresh"
    );
    assert.equal(refreshes?.value, stats.refreshes, "the counters reach /metrics");
  }));

Deno.test("expunges and appends between two views: the session is told, and catches up with the view", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await inboxOf(t, alice);
    const uids = await fill(t, alice, 5);
    const s = await selectedSession(t, alice);
    assert.ok(s.session.selected!.shared, "a freshly selected session holds the shared view's arrays");
    await imap.storeFlags(id(alice), inbox, [[uids[1], uids[1]], [uids[3], uids[3]]], {
      operation: "add",
      flags: ["\\Deleted"],
    });
    await imap.expunge(id(alice), inbox);
    const [added] = await fill(t, alice, 1);
    const out = await s.run("a NOOP");
    assert.match(out, /^\* 4 EXPUNGE\r\n\* 2 EXPUNGE\r\n\* 4 EXISTS\r\n/m);
    assert.deepEqual(s.session.selected!.uids, [uids[0], uids[2], uids[4], added]);
    const view = await imap.view(id(alice), inbox);
    assert.equal(s.session.selected!.shared, view, "after telling everything, the view's arrays again");
    assert.deepEqual(view.uids, [uids[0], uids[2], uids[4], added]);
    assert.match(await s.run("b FETCH 1:* (UID FLAGS)"), /^\* 4 FETCH \(UID \d+ FLAGS \(\)\)\r\nb OK/m);
  }));

Deno.test("two sessions sharing one view each get their own EXPUNGE numbering", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await inboxOf(t, alice);
    const uids = await fill(t, alice, 5);
    const a = await selectedSession(t, alice);
    const b = await selectedSession(t, alice);
    assert.ok(a.session.selected!.shared);
    assert.equal(a.session.selected!.shared, b.session.selected!.shared, "one view, not two copies");
    await imap.storeFlags(id(alice), inbox, [[uids[1], uids[1]], [uids[3], uids[3]]], {
      operation: "add",
      flags: ["\\Deleted"],
    });
    await imap.expunge(id(alice), inbox);
    assert.match(await a.run("a1 NOOP"), /^\* 4 EXPUNGE\r\n\* 2 EXPUNGE\r\n/m);
    assert.equal(a.session.selected!.exists, 3);
    // FETCH may not tell expunges: b keeps its five numbers, the gone ones answered EXPUNGEISSUED.
    const fetched = await b.run("b1 FETCH 1:* (UID)");
    assert.equal(fetched.match(/^\* \d FETCH/gm)?.length, 3);
    assert.match(fetched, /^\* 5 FETCH \(UID \d+\)\r\n/m);
    assert.match(fetched, /^b1 OK \[EXPUNGEISSUED\]/m);
    assert.equal(b.session.selected!.exists, 5);
    assert.match(await b.run("b2 NOOP"), /^\* 4 EXPUNGE\r\n\* 2 EXPUNGE\r\n/m);
    assert.equal(a.session.selected!.shared, b.session.selected!.shared, "both back on one view");
    assert.deepEqual(b.session.selected!.uids, [uids[0], uids[2], uids[4]]);
  }));

Deno.test("a write committing while a view is being read is seen at the next use", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await inboxOf(t, alice);
    const [first] = await fill(t, alice, 2);
    const repository = t.services.store.imap;
    const read = repository.viewRead;
    let wrote = false;
    repository.viewRead = async (...args) => {
      const result = await read.apply(repository, args);
      // Between the view's read and its being kept, another write commits.
      if (!wrote) {
        wrote = true;
        await imap.storeFlags(id(alice), inbox, [[first, first]], { operation: "add", flags: ["\\Flagged"] });
      }
      return result;
    };
    try {
      const stale = await imap.select(id(alice), "INBOX");
      assert.deepEqual(stale.messages[0].flags, [], "the read before the write");
    } finally {
      repository.viewRead = read;
    }
    assert.ok(wrote);
    const next = await imap.select(id(alice), "INBOX");
    assert.deepEqual(next.messages[0].flags, ["\\Flagged"]);
  }));

Deno.test("a view read inside this process's open write transaction is not kept (a rollback leaves no trace)", () =>
  withAlice(async (t, alice) => {
    const imap = t.services.imapMailboxes;
    const inbox = await inboxOf(t, alice);
    const [first] = await fill(t, alice, 1);
    const emailId = (await imap.select(id(alice), "INBOX")).messages[0].emailId;
    await assert.rejects(
      t.services.store.transaction(async () => {
        await t.services.store.imap.setKeywords([emailId], { add: ["$flagged"] });
        const inside = await imap.view(id(alice), inbox);
        assert.deepEqual(inside.flags[inside.indexOf(first)], ["\\Flagged"]);
        throw new Error("rolled back");
      }),
      /rolled back/,
    );
    const view = await imap.view(id(alice), inbox);
    assert.deepEqual(view.flags[view.indexOf(first)], []);
  }));

Deno.test("a mailbox's view is the viewer's only with the right to read it; a bad mailbox is not found", () =>
  withAlice(async (t, alice, bob) => {
    const imap = t.services.imapMailboxes;
    const inbox = await inboxOf(t, alice);
    await fill(t, alice, 1);
    await assert.rejects(imap.view(id(bob), inbox), NotFoundError);
    await assert.rejects(imap.view(id(alice), { ...inbox, mailboxId: 999_999 }), NotFoundError);
    await assert.rejects(imap.view(id(alice), { ...inbox, accountId: id(bob) }), NotFoundError);
    assert.equal((await imap.view(id(alice), inbox)).exists, 1);
  }));

Deno.test("SELECT finds the viewer's own mailboxes without reading sharers, and a sharer's under Other Users/", () =>
  withAlice(async (t, alice, bob) => {
    const team = await createMailbox(t, bob, { name: "Team" });
    await share(t, bob, team.id as string, { [alice.accountId]: rights("mayReadItems") });
    const own = await createMailbox(t, alice, { name: "Other Users" });
    await createMailbox(t, alice, { name: "x", parentId: own.id });
    const s = await selectedSession(t, alice);
    const sharers = { count: 0 };
    const mailboxes = imapMailboxes(t.services);
    s.session.deps.mailboxes = {
      ...mailboxes,
      sharers: (viewerId) => {
        sharers.count++;
        return mailboxes.sharers(viewerId);
      },
    };
    assert.match(await s.run("a SELECT INBOX"), /^a OK \[READ-WRITE\]/m);
    assert.equal(sharers.count, 0, "INBOX is the viewer's own: no sharer read");
    assert.match(await s.run('b EXAMINE "Other Users/bob/Team"'), /^b OK \[READ-ONLY\]/m);
    assert.equal(sharers.count, 1);
    assert.match(
      await s.run('c SELECT "Other Users/x"'),
      /^c OK \[READ-WRITE\]/m,
      "an own mailbox named Other Users",
    );
    assert.match(await s.run('d SELECT "Other Users/bob/Nothing"'), /^d NO \[NONEXISTENT\]/m);
  }));
