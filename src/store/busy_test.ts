import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { UnavailableError } from "../model/errors.ts";
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
