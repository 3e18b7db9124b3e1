/**
 * The full-text index filled after the commit (src/store/search_index.ts, src/mail/search_indexer.ts):
 * a search right after an import or an MX delivery finds the email, with the indexer's worker thread of
 * a real server; two indexers never write the same batch and a lapsed lease is taken over; a batch that
 * races a delete does not bring the email back; an email whose indexer died before indexing it is
 * indexed by the next one; a message that cannot be read does not hold the watermark back; a rebuild
 * of the index (migration 049) still ends with every email in the new one.
 */
import assert from "node:assert/strict";
import { importText, indexedIds, search, withSearchServices } from "./search_helpers.ts";
import { INDEX_LEASE_MS, indexBatch, type IndexLease } from "../src/mail/mod.ts";
import { sql as searchPrefix } from "../src/store/migrations/049_search_prefix.ts";
import { distinctMessage, imported } from "./email_helpers.ts";
import { createUsers, mailCall, serverTarget, type Who } from "./mail_helpers.ts";
import { rawDialogue, smtpMessage, startMxProcess } from "./smtp_helpers.ts";

async function textQuery(target: ReturnType<typeof serverTarget>, who: Who, text: string): Promise<string[]> {
  const { ids } = await mailCall(target, "Email/query", { filter: { text } }, who);
  return ids as string[];
}

Deno.test("a search right after an import or an MX delivery finds the email (real server, indexer thread)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-search-index-" });
  const server = await startMxProcess(dataDir);
  try {
    const target = serverTarget(server.url);
    const [alice] = await createUsers(target, ["alice"]);
    for (let round = 0; round < 5; round++) {
      const word = `zebrafinch${round}x`;
      const email = await imported(target, alice, distinctMessage(`import ${word}`));
      assert.deepEqual(await textQuery(target, alice, word), [email.id]);
      const snippets = await mailCall(target, "SearchSnippet/get", {
        emailIds: [email.id],
        filter: { text: word },
      }, alice);
      assert.match(String((snippets.list as { subject: string }[])[0].subject), /<mark>/);

      const delivered = `kingfisher${round}y`;
      const reply = await rawDialogue(server.smtpPort, [
        "EHLO client.test\r\n",
        "MAIL FROM:<sender@remote.test>\r\n",
        "RCPT TO:<alice@example.org>\r\n",
        "DATA\r\n",
        smtpMessage(`delivered ${delivered}`, `body ${delivered}`) + ".\r\n",
        "QUIT\r\n",
      ]);
      assert.match(reply, /^250 2\.6\.0 /m, reply);
      assert.equal((await textQuery(target, alice, delivered)).length, 1);
    }
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a search right after an import finds the email with the indexer thread of openServices", async () => {
  await withSearchServices(async (services, ctx) => {
    assert.ok(services.searchIndexer.threaded);
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await importText(services, ctx, `heron${i}q`));
    for (let i = 0; i < 20; i++) assert.deepEqual(await search(services, ctx.admin, `heron${i}q`), [ids[i]]);
  }, { searchIndexWorker: true });
});

Deno.test("two indexers: one indexes each batch under the lease; a lapsed lease is taken over", async () => {
  await withSearchServices(async (services, ctx) => {
    const index = services.store.searchIndex;
    const first: IndexLease = { until: 0 };
    const second: IndexLease = { until: 0 };
    const a = await importText(services, ctx, "plover");
    const now = Date.now();
    assert.equal((await indexBatch(index, first, { now })).kind, "indexed");
    const b = await importText(services, ctx, "plover");
    // The first holds the lease: the second parses nothing and writes nothing.
    assert.deepEqual(await indexBatch(index, second, { now: now + 1 }), {
      kind: "claimed elsewhere",
      through: a,
      latest: b,
    });
    assert.deepEqual(indexedIds(services, "plover"), [a]);
    // Both read the same watermark: only one batch is written (the watermark's compare-and-set).
    const read = await index.state();
    const batch = await index.next(read.indexedThrough, { emails: 10, bytes: 1 << 20 });
    const text = { subject: "plover", from: "", to: "", cc: "", bcc: "", body: "", attachments: "" };
    const entries = batch.map((e) => ({ id: e.id, search: text }));
    const progress = { from: read.indexedThrough, through: b, until: now + 5 };
    assert.equal(await index.write(entries, { ...progress, claimedUntil: first.until }), true);
    assert.equal(await index.write(entries, { ...progress, claimedUntil: undefined }), false);
    assert.deepEqual(indexedIds(services, "plover"), [a, b]);
    // The first stops; once its lease lapses, the second takes it over.
    const c = await importText(services, ctx, "plover");
    assert.equal((await indexBatch(index, second, { now: now + 4 })).kind, "claimed elsewhere");
    const later = now + 6 + INDEX_LEASE_MS;
    assert.deepEqual(await indexBatch(index, second, { now: later }), {
      kind: "indexed",
      through: c,
      latest: c,
    });
    assert.equal(second.until, later + INDEX_LEASE_MS);
    assert.equal((await indexBatch(index, first, { now: later + 1 })).kind, "caught up");
    assert.deepEqual(indexedIds(services, "plover"), [a, b, c]);
    assert.deepEqual(await search(services, ctx.admin, "plover"), [a, b, c]);
  });
});

Deno.test("a batch that races a delete does not bring the deleted email back", async () => {
  await withSearchServices(async (services, ctx) => {
    const index = services.store.searchIndex;
    const kept = await importText(services, ctx, "avocet");
    const gone = await importText(services, ctx, "avocet");
    const read = await index.state();
    const batch = await index.next(read.indexedThrough, { emails: 10, bytes: 1 << 20 });
    assert.deepEqual(batch.map((e) => e.id), [kept, gone]);
    // Deleted after the indexer read it, before its write.
    const [record] = await services.store.emails.get(ctx.admin, [gone]);
    await services.store.transaction(() => services.store.emails.delete(record));
    const text = { subject: "avocet", from: "", to: "", cc: "", bcc: "", body: "", attachments: "" };
    const written = await index.write(batch.map((e) => ({ id: e.id, search: text })), {
      from: read.indexedThrough,
      through: gone,
      claimedUntil: undefined,
      until: 0,
    });
    assert.equal(written, true);
    assert.deepEqual(indexedIds(services, "avocet"), [kept]);
    assert.equal((await index.state()).indexedThrough, gone);
    assert.deepEqual(await search(services, ctx.admin, "avocet"), [kept]);
  });
});

Deno.test("an email stored while the indexer thread was dead is indexed by the next indexer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let id = 0;
    await withSearchServices(async (services, ctx) => {
      // As a crash between the store's commit and the index would leave it: stored, never indexed.
      services.searchIndexer.terminateWorker();
      services.store.indexWith({ stored() {}, caughtUp: () => Promise.resolve() });
      id = await importText(services, ctx, "dunlin");
      assert.deepEqual(indexedIds(services, "dunlin"), []);
    }, { searchIndexWorker: true, dir });
    await withSearchServices(async (services, ctx) => {
      assert.deepEqual(await search(services, ctx.admin, "dunlin"), [id]);
      assert.deepEqual(indexedIds(services, "dunlin"), [id]);
    }, { searchIndexWorker: true, dir });
    // And the worker of a server catches up by itself, with no query to wait for it.
    let other = 0;
    await withSearchServices(async (services, ctx) => {
      services.searchIndexer.terminateWorker();
      services.store.indexWith({ stored() {}, caughtUp: () => Promise.resolve() });
      other = await importText(services, ctx, "sanderling");
    }, { searchIndexWorker: true, dir });
    await withSearchServices(async (services) => {
      // Up to 60 s: a worker thread starts slowly on a loaded machine; the loop ends once it has indexed.
      for (let i = 0; i < 1200 && indexedIds(services, "sanderling").length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(indexedIds(services, "sanderling"), [other]);
    }, { searchIndexWorker: true, dir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an email whose message cannot be read is indexed without text and does not stall the index", async () => {
  await withSearchServices(async (services, ctx) => {
    const lost = await importText(services, ctx, "curlew");
    const after = await importText(services, ctx, "curlew");
    // Its message gone (foreign keys off, as only damage could do it).
    services.store.unsafeExec(`PRAGMA foreign_keys = OFF;
      DELETE FROM blobs WHERE id = (SELECT blob_id FROM emails WHERE id = ${lost});
      PRAGMA foreign_keys = ON;`);
    assert.deepEqual(await search(services, ctx.admin, "curlew"), [after]);
    const state = await services.store.searchIndex.state();
    assert.equal(state.indexedThrough, after);
  });
});

Deno.test("with the indexer's thread, a rebuild of the index (049) ends with every email in the new one", async () => {
  await withSearchServices(async (services, ctx) => {
    const before = [];
    for (let i = 0; i < 5; i++) before.push(await importText(services, ctx, `Invoice ${i}`));
    // Caught up first: the migration runs here as separate statements, not in one transaction.
    await services.searchIndexer.caughtUp();
    services.store.unsafeExec(searchPrefix);
    assert.equal(await services.searchRebuild.pending(), true);
    const during = [];
    for (let i = 0; i < 3; i++) during.push(await importText(services, ctx, `Invoice late ${i}`));
    assert.deepEqual(await search(services, ctx.admin, "invoice"), [...before, ...during]);
    for (let i = 0; i < 20 && await services.searchRebuild.pending(); i++) {
      await services.searchRebuild.runBatch(Date.now(), 2);
    }
    assert.equal(await services.searchRebuild.pending(), false);
    const after = await importText(services, ctx, "Invoice after");
    assert.deepEqual(await search(services, ctx.admin, "inv"), [...before, ...during, after]);
    assert.deepEqual(await search(services, ctx.admin, "quarterly"), [...before, ...during, after]);
  }, { searchIndexWorker: true });
});

Deno.test("a search while a transaction that stored an email is still open waits for it; after its rollback, the email stored next under the same id is found", async () => {
  await withSearchServices(async (services, ctx) => {
    // This thread holds the lease (a search indexed on it), so its next batch reads at once.
    const first = await importText(services, ctx, "egret");
    assert.deepEqual(await search(services, ctx.admin, "egret"), [first]);
    const upload = await services.blobs.upload(ctx.admin, ctx.admin, {
      data: distinctMessage("egret", "rolled back"),
      type: "message/rfc822",
    });
    let stored!: () => void;
    let release!: () => void;
    const inside = new Promise<void>((resolve) => stored = resolve);
    const held = new Promise<void>((resolve) => release = resolve);
    const failing = services.store.transaction(async () => {
      await services.emails.import(ctx.admin, ctx.admin, [
        { blobId: upload.blobId, mailboxIds: [ctx.inbox], keywords: [] },
      ]);
      stored();
      await held;
      throw new Error("rolled back");
    });
    await inside;
    const searching = search(services, ctx.admin, "egret");
    // Time for the search's batch to read what it can before the transaction ends.
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await assert.rejects(failing, /rolled back/);
    assert.deepEqual(await searching, [first]);
    const next = await importText(services, ctx, "egret");
    assert.deepEqual(await search(services, ctx.admin, "egret"), [first, next]);
  });
});
