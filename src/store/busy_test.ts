import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { UnavailableError } from "../model/errors.ts";
import { openConnection } from "./connection.ts";
import { BUSY_PROBE_TIMEOUT_MS, Db } from "./db.ts";
import { openStore } from "./mod.ts";

/** A store on a file, and a second connection (as another process would be) that can hold the write lock. */
async function lockedStore() {
  const dir = await Deno.makeTempDir({ prefix: "postern-busy-store-" });
  const path = `${dir}/postern.db`;
  const store = openStore(path, { busyTimeoutMs: 20 });
  const other = new DatabaseSync(path);
  return {
    store,
    lock: () => other.exec("BEGIN IMMEDIATE"),
    release: () => other.exec("COMMIT"),
    async close() {
      if (other.isTransaction) other.exec("ROLLBACK");
      other.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("while another connection holds the write lock, the heartbeat rejects (never throws) with UnavailableError and reads still answer", async () => {
  const t = await lockedStore();
  try {
    const id = await t.store.servers.register({ url: "http://a", pid: 1, version: "1", startedAt: 1000 });
    t.lock();
    let beat: Promise<void> | undefined;
    // The report's crash: this call threw synchronously, outside the promise its .catch() guarded.
    assert.doesNotThrow(() => beat = t.store.servers.seen(id, 5000));
    await assert.rejects(beat!, UnavailableError);
    await assert.rejects(t.store.servers.unregister(id), UnavailableError);
    await assert.rejects(t.store.transaction(() => t.store.servers.seen(id, 6000)), UnavailableError);
    assert.throws(() => t.store.invalidations.prune(Date.now()), UnavailableError);
    assert.deepEqual((await t.store.servers.running(0)).map((s) => s.seenAt), [1000]);
    t.release();
    await t.store.servers.seen(id, 7000);
    assert.deepEqual((await t.store.servers.running(0)).map((s) => s.seenAt), [7000]);
  } finally {
    await t.close();
  }
});

Deno.test("after one write waited the whole busy timeout, later writes only probe for the lock until one gets it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-busy-db-" });
  const path = `${dir}/postern.db`;
  const db = new Db(openConnection(path, { busyTimeoutMs: 300 }), 300);
  const other = new DatabaseSync(path);
  const timeout = () => Number(db.get<{ timeout: number }>("PRAGMA busy_timeout")?.timeout);
  try {
    assert.equal(timeout(), 300);
    other.exec("BEGIN IMMEDIATE");
    assert.throws(() => db.run("UPDATE servers SET seen_at = 1"), UnavailableError);
    // The event loop is not held for the full timeout by every write while the lock stays taken.
    assert.equal(timeout(), BUSY_PROBE_TIMEOUT_MS);
    await assert.rejects(db.transaction(() => db.run("UPDATE servers SET seen_at = 2")), UnavailableError);
    assert.equal(timeout(), BUSY_PROBE_TIMEOUT_MS);
    other.exec("COMMIT");
    await db.transaction(() => db.run("UPDATE servers SET seen_at = 3"));
    assert.equal(timeout(), 300);
    other.exec("BEGIN IMMEDIATE");
    assert.throws(() => db.run("UPDATE servers SET seen_at = 4"), UnavailableError);
    other.exec("COMMIT");
    db.run("UPDATE servers SET seen_at = 5");
    assert.equal(timeout(), 300);
  } finally {
    if (other.isTransaction) other.exec("ROLLBACK");
    other.close();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
