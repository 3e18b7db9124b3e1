import assert from "node:assert/strict";
import { UnavailableError } from "../model/errors.ts";
import { openConnection } from "./connection.ts";
import { Db } from "./db.ts";
import { writersLockPathOf } from "./writers_lock.ts";

/** A connection taking the writers' lock, and the lock file opened apart (as another process holds it). */
async function lockedDb(busyTimeoutMs = 5000) {
  const dir = await Deno.makeTempDir({ prefix: "postern-writers-lock-" });
  const path = `${dir}/postern.db`;
  const db = new Db(openConnection(path), busyTimeoutMs, { writersLock: writersLockPathOf(path) });
  db.raw.exec("CREATE TABLE t (n INTEGER)");
  const other = await Deno.open(writersLockPathOf(path), { read: true, write: true });
  return {
    db,
    other,
    count: () => Number(db.get<{ n: number }>("SELECT count(*) AS n FROM t")!.n),
    async close() {
      other.close();
      db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Lets the event loop run `turns` timer turns (each after the I/O due). */
async function turns(turns: number): Promise<number> {
  let ran = 0;
  for (let i = 0; i < turns; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    ran++;
  }
  return ran;
}

Deno.test("a transaction waits for the writers' lock another process holds, with the event loop serving meanwhile, and commits once it is dropped", async () => {
  const t = await lockedDb();
  try {
    t.other.lockSync(true);
    let committed = false;
    const write = t.db.transaction(() => t.db.run("INSERT INTO t (n) VALUES (1)")).then(() =>
      committed = true
    );
    // Timers fire while the transaction waits: nothing blocks the event loop (SQLite's busy handler would).
    assert.equal(await turns(20), 20);
    assert.equal(committed, false);
    assert.equal(t.count(), 0, "nothing written before the lock was free");
    t.other.unlockSync();
    await write;
    assert.equal(t.count(), 1);
  } finally {
    await t.close();
  }
});

Deno.test("a transaction drops the writers' lock once it has committed, and once it has rolled back", async () => {
  const t = await lockedDb();
  try {
    await t.db.transaction(() => t.db.run("INSERT INTO t (n) VALUES (1)"));
    assert.equal(t.other.tryLockSync(true), true, "free after a commit");
    t.other.unlockSync();
    await assert.rejects(
      t.db.transaction(() => {
        t.db.run("INSERT INTO t (n) VALUES (2)");
        throw new Error("the body fails");
      }),
      /the body fails/,
    );
    assert.equal(t.count(), 1, "the failed body's row was rolled back");
    assert.equal(t.other.tryLockSync(true), true, "free after a rollback");
    t.other.unlockSync();
  } finally {
    await t.close();
  }
});

Deno.test("transactions of one connection queued behind the writers' lock commit in their order, each in turn", async () => {
  const t = await lockedDb();
  try {
    t.other.lockSync(true);
    const order: number[] = [];
    const writes = [1, 2, 3].map((n) =>
      t.db.transaction(() => {
        // While one holds the lock, the other process cannot take it.
        assert.equal(t.other.tryLockSync(true), false);
        t.db.run("INSERT INTO t (n) VALUES (?)", n);
        order.push(n);
      })
    );
    await turns(5);
    assert.deepEqual(order, []);
    t.other.unlockSync();
    await Promise.all(writes);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(t.count(), 3);
  } finally {
    await t.close();
  }
});

Deno.test("a holder of the writers' lock that never lets go (stopped, not dead) costs a write its busy timeout and later writes a probe, then writes go on once it lets go", async () => {
  const t = await lockedDb(200);
  try {
    t.other.lockSync(true);
    const insert = (n: number) => () => t.db.run("INSERT INTO t (n) VALUES (?)", n);
    await assert.rejects(t.db.transaction(insert(1)), UnavailableError);
    // The next writes wait only as long as a probe: a queue of them does not stall for a timeout each.
    const queued = [2, 3, 4].map((n) =>
      t.db.transaction(insert(n)).then(() => "committed", (error) => error)
    );
    for (const outcome of await Promise.all(queued)) assert.ok(outcome instanceof UnavailableError);
    assert.equal(t.count(), 0, "nothing written while the lock was held elsewhere");
    t.other.unlockSync();
    await t.db.transaction(insert(5));
    assert.equal(t.count(), 1);
    assert.equal(t.other.tryLockSync(true), true, "free after the write: no request left holding it");
    t.other.unlockSync();
  } finally {
    await t.close();
  }
});

Deno.test("a writers' lock granted after its write timed out, with no write waiting, is dropped at once", async () => {
  const t = await lockedDb(100);
  try {
    t.other.lockSync(true);
    await assert.rejects(t.db.transaction(() => t.db.run("INSERT INTO t (n) VALUES (1)")), UnavailableError);
    t.other.unlockSync();
    // The timed-out request is granted in its thread and must let go without a transaction asking.
    const released = t.other.lock(true).then(() => true);
    const stuck = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000));
    assert.equal(await Promise.race([released, stuck]), true, "the other process gets the lock");
    assert.equal(t.count(), 0);
    t.other.unlockSync();
  } finally {
    await t.close();
  }
});
