import assert from "node:assert/strict";
import { openStore } from "./mod.ts";

// A directory-wide change (no account): nothing else needs to exist.
const change = { type: "Domain", objectId: 1, kind: "created" as const, accountId: null };

Deno.test("a change listener is told after the commit, sees the committed rows, and hears nothing of a rollback", async () => {
  const store = openStore(":memory:");
  try {
    const seen: number[] = [];
    let inTransaction = false;
    const stop = store.changes.onAppended(() => {
      assert.equal(inTransaction, false, "told only once the transaction is over");
      void store.changes.lastId().then((id) => seen.push(id));
    });
    await store.transaction(async () => {
      inTransaction = true;
      await store.changes.append([change]);
      await store.changes.append([change]);
      inTransaction = false;
    });
    assert.equal(seen.length, 2);
    assert.ok(seen.every((id) => id === 2), "both rows were readable when the listener ran");
    await assert.rejects(
      store.transaction(async () => {
        await store.changes.append([change]);
        throw new Error("rolled back");
      }),
      /rolled back/,
    );
    assert.equal(seen.length, 2, "a rolled-back append is not announced");
    // Outside a transaction each statement commits itself: told on the next microtask.
    await store.changes.append([change]);
    await Promise.resolve();
    assert.equal(seen.length, 3);
    stop();
    await store.changes.append([change]);
    await Promise.resolve();
    assert.equal(seen.length, 3, "a stopped listener hears nothing");
  } finally {
    store.close();
  }
});

Deno.test("a listener that throws does not turn a committed write into an error", async () => {
  const store = openStore(":memory:");
  try {
    store.changes.onAppended(() => {
      throw new Error("listener broke");
    });
    await store.transaction(() => store.changes.append([change]));
    assert.equal(await store.changes.lastId(), 1);
  } finally {
    store.close();
  }
});

Deno.test("changes appended together keep their order and fields, a run of alike ones written at once", async () => {
  const store = openStore(":memory:");
  try {
    const domain = (objectId: number, kind: "created" | "updated" | "destroyed") => ({
      type: "Domain",
      objectId,
      kind,
      accountId: null,
    });
    const written = [
      domain(5, "updated"),
      domain(3, "updated"),
      domain(9, "updated"),
      domain(3, "destroyed"),
      domain(7, "created"),
      domain(8, "created"),
    ];
    await store.changes.append(written);
    const read = await store.changes.since("Domain", null, 0, { limit: 10 });
    assert.deepEqual(read.map((c) => [c.objectId, c.kind]), written.map((c) => [c.objectId, c.kind]));
    assert.deepEqual(read.map((c) => c.id), [1, 2, 3, 4, 5, 6]);
    assert.equal(await store.changes.position("Domain", null), 6);
  } finally {
    store.close();
  }
});
