import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startCheckpointer } from "./checkpointer.ts";

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

Deno.test("the checkpointer copies committed pages from the WAL into the database off the main connection", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-checkpoint-" });
  const path = `${dir}/x.db`;
  const db = new DatabaseSync(path);
  try {
    // No automatic checkpoints: only the worker's can move the pages.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x)");
    db.exec("INSERT INTO t VALUES (randomblob(1000000))");
    const before = Deno.statSync(path).size;
    assert.ok(before < 100_000, `the megabyte is still only in the WAL (${before} bytes)`);
    const checkpointer = startCheckpointer(path, 20);
    try {
      await until(() => Deno.statSync(path).size >= 1_000_000, "the database file to hold the row");
      // The main connection goes on writing while the worker checkpoints.
      db.exec("INSERT INTO t VALUES (randomblob(1000))");
      assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 2);
    } finally {
      await checkpointer.close();
    }
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpointer whose database cannot be opened closes cleanly and leaves the server running", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-checkpoint-" });
  try {
    const checkpointer = startCheckpointer(`${dir}/missing/dir/x.db`, 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await checkpointer.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
