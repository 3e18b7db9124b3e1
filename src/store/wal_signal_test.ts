import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openWalSignal } from "./wal_signal.ts";

for (const allowMapping of [true, false]) {
  const reader = allowMapping ? "mapped" : "pread";
  Deno.test(`the ${reader} change signal moves with every commit of another connection`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "postern-wal-" });
    const mine = new DatabaseSync(`${dir}/x.db`);
    mine.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x)");
    const other = new DatabaseSync(`${dir}/x.db`);
    const signal = openWalSignal(`${dir}/x.db`, { allowMapping });
    try {
      assert.equal(signal.kind, reader);
      const before = signal.read();
      assert.equal(typeof before, "number");
      assert.equal(signal.read(), before, "no commit: no movement");
      other.exec("INSERT INTO t VALUES (1)");
      const after = signal.read();
      assert.notEqual(after, before);
      other.exec("PRAGMA wal_checkpoint(RESTART)");
      other.exec("INSERT INTO t VALUES (2)");
      assert.notEqual(signal.read(), after, "still moving after the WAL restarts");
    } finally {
      // Connections first: the signal's descriptor must outlive them (closing it drops their locks).
      other.close();
      mine.close();
      signal.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("without a shared-memory file the signal is absent, never a stale number", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-wal-" });
  const signal = openWalSignal(`${dir}/missing.db`, { allowMapping: false });
  assert.equal(signal.kind, "none");
  assert.equal(signal.read(), undefined);
  signal.close();
  await Deno.remove(dir, { recursive: true });
});
