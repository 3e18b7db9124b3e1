import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Db } from "./db.ts";
import {
  lockThreads,
  newThreadLockBuffer,
  releaseDeadHolder,
  tryLockThreads,
  unlockThreads,
} from "./thread_lock.ts";

Deno.test("the threads' lock has one holder at a time, a waiter gets it once it is given up, and a wait ends", async () => {
  const cells = new Int32Array(newThreadLockBuffer());
  const store = { cells, holder: 1 };
  const indexer = { cells, holder: 2 };
  assert.equal(tryLockThreads(indexer), true);
  assert.equal(tryLockThreads(store), false);
  assert.equal(await lockThreads(store, 30), false, "the wait ends while the other holds it");
  const waiting = lockThreads(store, 5_000);
  let timerRan = false;
  await new Promise((resolve) => setTimeout(() => resolve(timerRan = true), 5));
  assert.equal(timerRan, true, "the event loop runs while the store waits");
  unlockThreads(indexer);
  assert.equal(await waiting, true);
  assert.equal(Atomics.load(cells, 0), 1);
  // Giving up a lock one does not hold changes nothing; nor does freeing another holder's.
  unlockThreads(indexer);
  releaseDeadHolder(cells, 2);
  assert.equal(Atomics.load(cells, 0), 1);
  unlockThreads(store);
  assert.equal(Atomics.load(cells, 0), 0);
});

Deno.test("a thread that ended holding the threads' lock is freed by releaseDeadHolder", () => {
  const cells = new Int32Array(newThreadLockBuffer());
  assert.equal(tryLockThreads({ cells, holder: 2 }), true);
  releaseDeadHolder(cells, 2);
  assert.equal(tryLockThreads({ cells, holder: 1 }), true);
});

Deno.test("a transaction waits for the threads' lock without blocking, then commits; a lock never given up is unavailable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const buffer = newThreadLockBuffer();
    const raw = new DatabaseSync(`${dir}/t.db`);
    raw.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)");
    const db = new Db(raw, 200, { threadLock: { cells: new Int32Array(buffer), holder: 1 } });
    const other = { cells: new Int32Array(buffer), holder: 2 };
    assert.equal(tryLockThreads(other), true);
    const written = db.transaction(() => db.run("INSERT INTO t VALUES (1)"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(
      raw.prepare("SELECT count(*) AS n FROM t").get()!.n,
      0,
      "nothing written while the lock is held",
    );
    unlockThreads(other);
    await written;
    assert.equal(raw.prepare("SELECT count(*) AS n FROM t").get()!.n, 1);
    assert.equal(Atomics.load(other.cells, 0), 0, "given up after the commit");
    assert.equal(tryLockThreads(other), true);
    await assert.rejects(db.transaction(() => db.run("INSERT INTO t VALUES (2)")), {
      name: "UnavailableError",
    });
    unlockThreads(other);
    await db.transaction(() => db.run("INSERT INTO t VALUES (3)"));
    assert.deepEqual(raw.prepare("SELECT x FROM t ORDER BY x").all().map((r) => r.x), [1, 3]);
    raw.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
