/**
 * The full-text index rebuilt from the messages after migration 049 (a prefix index): what a database
 * stored before it is found again once the claimed background job has run, an email stored or deleted
 * meanwhile is kept right in both indexes, and the work is claimed so only one worker does a batch.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { bootstrap } from "../src/directory/mod.ts";
import { openServices, type Services } from "../src/services.ts";
import { sql as searchPrefix } from "../src/store/migrations/049_search_prefix.ts";
import { distinctMessage } from "./email_helpers.ts";

async function withServices(
  body: (services: Services, ctx: { admin: number; inbox: number }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const options = { databasePath: `${dir}/postern.db`, encryptionKey: new Uint8Array(64), hashWorkers: 1 };
  const services = await openServices(options);
  try {
    await bootstrap(services, { domain: "example.org", adminPassword: "admin password for tests" });
    const [admin] = await services.accounts.query({});
    const inbox = (await services.mailboxes.list(admin, admin)).find((m) => m.role === "inbox")!.id;
    await body(services, { admin, inbox });
  } finally {
    await services.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function importText(services: Services, ctx: { admin: number; inbox: number }, subject: string) {
  const upload = await services.blobs.upload(ctx.admin, ctx.admin, {
    data: distinctMessage(subject, "quarterly figures"),
    type: "message/rfc822",
  });
  const [result] = await services.emails.import(ctx.admin, ctx.admin, [
    { blobId: upload.blobId, mailboxIds: [ctx.inbox], keywords: [] },
  ]);
  if ("type" in result) throw new Error(JSON.stringify(result));
  return result.id;
}

/** The ids a text query finds, in id order. */
async function search(services: Services, admin: number, text: string): Promise<number[]> {
  const result = await services.emails.query(admin, admin, {
    filter: { condition: { text: [text] } },
    sort: [{ property: "receivedAt", isAscending: false }],
    position: 0,
    limit: 50,
    collapseThreads: false,
    calculateTotal: false,
  });
  return [...result.ids].sort((a, b) => a - b);
}

/** Takes the database back to before migration 049 (its index as it was), then runs 049 on it. */
function upgradeAgain(services: Services) {
  services.store.unsafeExec(searchPrefix);
}

/** The rows of the full-text index that match an FTS5 expression, read from a connection of its own. */
function indexedIds(services: Services, expression: string): number[] {
  const db = new DatabaseSync(services.store.path, { readOnly: true });
  try {
    return db.prepare("SELECT rowid AS id FROM email_search WHERE email_search MATCH ? ORDER BY rowid")
      .all(expression).map((r) => Number(r.id));
  } finally {
    db.close();
  }
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
  withServices(async (services) => {
    assert.equal(await services.searchRebuild.pending(), false);
    assert.match(indexSql(services), /prefix = '3'/);
    assert.equal(await services.searchRebuild.runBatch(), "none");
  }));

Deno.test("emails stored before the migration are found by every prefix once the index is rebuilt from their messages", () =>
  withServices(async (services, ctx) => {
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
  withServices(async (services, ctx) => {
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
  withServices(async (services, ctx) => {
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
