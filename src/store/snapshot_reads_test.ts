import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openWalSignal } from "./wal_signal.ts";
import { HOLD_MS, SnapshotReads } from "./snapshot_reads.ts";

/** A WAL database with one table, a second connection (another process's), and snapshot reads on it. */
async function withDatabase(
  run: (parts: { other: DatabaseSync; reads: SnapshotReads }) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "postern-snapshot-" });
  const path = `${dir}/x.db`;
  const mine = new DatabaseSync(path);
  mine.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  mine.exec("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  const other = new DatabaseSync(path);
  const signal = openWalSignal(path);
  const reads = new SnapshotReads(path, () => signal.read());
  try {
    await run({ other, reads });
  } finally {
    reads.close();
    other.close();
    mine.close();
    signal.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const SELECT = "SELECT id, v FROM t WHERE id = ?";

Deno.test("a snapshot read sees a row deleted or changed by another connection just before it", async () => {
  await withDatabase(({ other, reads }) => {
    assert.ok(reads.available());
    assert.deepEqual(reads.firstValues(SELECT, 1), [1, "one"]);
    assert.deepEqual(reads.firstValues(SELECT, 2), [2, "two"]);
    other.exec("DELETE FROM t WHERE id = 1");
    assert.equal(reads.firstValues(SELECT, 1), undefined, "the deletion is seen at once");
    other.exec("UPDATE t SET v = 'deux' WHERE id = 2");
    assert.deepEqual(reads.firstValues(SELECT, 2), [2, "deux"]);
    other.exec("INSERT INTO t VALUES (3, 'three')");
    assert.deepEqual(reads.firstValues(SELECT, 3), [3, "three"], "a new row is seen at once");
  });
});

Deno.test("a held snapshot is let go within its hold time, so a checkpoint can finish", async () => {
  await withDatabase(async ({ other, reads }) => {
    other.exec("PRAGMA busy_timeout = 0");
    other.exec("INSERT INTO t VALUES (3, 'three')");
    assert.deepEqual(reads.firstValues(SELECT, 3), [3, "three"]);
    const truncate = () =>
      Number((other.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number }).busy);
    assert.equal(truncate(), 1, "the open snapshot holds the WAL");
    let busy = 1;
    for (let waited = 0; busy && waited < 100 * HOLD_MS; waited += HOLD_MS) {
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
      busy = truncate();
    }
    assert.equal(busy, 0, "the snapshot was let go");
    assert.deepEqual(reads.firstValues(SELECT, 3), [3, "three"]);
  });
});

Deno.test("snapshot reads are unavailable without a change counter", () => {
  const reads = new SnapshotReads("/nonexistent/x.db", () => undefined);
  assert.equal(reads.available(), false);
  assert.throws(() => reads.firstValues(SELECT, 1));
  reads.close();
});
