/**
 * The full-text index rebuilt from the messages after migration 049 (a prefix index): what a database
 * stored before it is found again once the claimed background job has run, an email stored or deleted
 * meanwhile is kept right in both indexes, and the work is claimed so only one worker does a batch.
 */
import assert from "node:assert/strict";
import { importText, indexedIds, search, withSearchServices } from "./search_helpers.ts";
import { DatabaseSync } from "node:sqlite";
import type { Services } from "../src/services.ts";
import { sql as searchPrefix } from "../src/store/migrations/049_search_prefix.ts";

/** Takes the database back to before migration 049 (its index as it was), then runs 049 on it. */
function upgradeAgain(services: Services) {
  services.store.unsafeExec(searchPrefix);
}

/** The definition of the full-text index that queries read, from a connection of its own. */
function indexSql(services: Services): string {
  const db = new DatabaseSync(services.store.path, { readOnly: true });
  try {
    return String(db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'email_search'").get()!.sql);
  } finally {
    db.close();
  }
}

Deno.test("a new database has the prefix index at once, with no rebuild pending", () =>
  withSearchServices(async (services) => {
    assert.equal(await services.searchRebuild.pending(), false);
    assert.match(indexSql(services), /prefix = '3'/);
    assert.equal(await services.searchRebuild.runBatch(), "none");
  }));

Deno.test("emails stored before the migration are found by every prefix once the index is rebuilt from their messages", () =>
  withSearchServices(async (services, ctx) => {
    const before = [];
    for (let i = 0; i < 5; i++) before.push(await importText(services, ctx, `Invoice ${i}`));
    upgradeAgain(services);
    assert.equal(await services.searchRebuild.pending(), true);
    // Meanwhile: one email more (into both indexes) and one deleted (out of both).
    const during = await importText(services, ctx, "Invoice late");
    await services.emails.destroy(ctx.admin, ctx.admin, before[0]);
    const expected = [...before.slice(1), during];
    assert.deepEqual(await search(services, ctx.admin, "inv"), expected, "the old index serves meanwhile");
    const steps = [];
    for (let i = 0; i < 10 && await services.searchRebuild.pending(); i++) {
      steps.push(await services.searchRebuild.runBatch(Date.now(), 2));
    }
    assert.deepEqual(steps, ["indexed", "indexed", "finished"]);
    assert.match(indexSql(services), /prefix = '3'/);
    assert.deepEqual(await search(services, ctx.admin, "inv"), expected);
    assert.deepEqual(await search(services, ctx.admin, "quarterly"), expected);
    assert.deepEqual(await search(services, ctx.admin, "figures"), expected);
    assert.deepEqual(await search(services, ctx.admin, "nothere"), []);
    // The swapped index still loses a deleted email.
    await services.emails.destroy(ctx.admin, ctx.admin, during);
    assert.deepEqual(await search(services, ctx.admin, "inv"), expected.slice(0, -1));
  }));

Deno.test("a rebuild batch is claimed: a second worker waits, and takes over once a crashed worker's claim lapses", () =>
  withSearchServices(async (services, ctx) => {
    for (let i = 0; i < 3; i++) await importText(services, ctx, `Memo ${i}`);
    upgradeAgain(services);
    const now = Date.now();
    const claim = await services.store.searchRebuild.claim(now, now + 60_000);
    assert.ok(claim, "the first worker claims it");
    assert.equal(await services.searchRebuild.runBatch(now + 1_000), "claimed elsewhere");
    // The first worker crashed without writing: after its lease another one does the work.
    assert.equal(await services.searchRebuild.runBatch(now + 61_000, 10), "indexed");
    // The crashed worker's late write is refused (its claim was lost), and writes nothing.
    assert.equal(
      await services.store.searchRebuild.write([], { doneThrough: claim.endId, claimedUntil: now + 60_000 }),
      false,
    );
    assert.equal(await services.searchRebuild.runBatch(now + 62_000), "finished");
    assert.equal((await search(services, ctx.admin, "mem")).length, 3);
  }));

Deno.test("an email deleted after the rebuild read it is not indexed again", () =>
  withSearchServices(async (services, ctx) => {
    const first = await importText(services, ctx, "Receipt one");
    const second = await importText(services, ctx, "Receipt two");
    upgradeAgain(services);
    const now = Date.now();
    const claim = (await services.store.searchRebuild.claim(now, now + 60_000))!;
    const read = await services.store.searchRebuild.next(claim.doneThrough, claim.endId, 10);
    assert.deepEqual(read.map((e) => e.id), [first, second]);
    await services.emails.destroy(ctx.admin, ctx.admin, first);
    const text = { subject: "receipt", from: "", to: "", cc: "", bcc: "", body: "", attachments: "" };
    const written = await services.store.searchRebuild.write(read.map((e) => ({ id: e.id, search: text })), {
      doneThrough: second,
      claimedUntil: now + 60_000,
    });
    assert.equal(written, true);
    assert.equal(await services.searchRebuild.runBatch(now + 1), "finished");
    assert.deepEqual(await search(services, ctx.admin, "rec"), [second]);
    assert.deepEqual(indexedIds(services, '"rec"*'), [second], "the index itself has no row for it");
  }));
