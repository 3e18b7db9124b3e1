import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Db } from "./db.ts";

function numbersDb(): { db: Db; rows: () => number[] } {
  const db = new Db(new DatabaseSync(":memory:"));
  db.raw.exec("CREATE TABLE numbers (n INTEGER)");
  return { db, rows: () => db.all<{ n: number }>("SELECT n FROM numbers ORDER BY n").map((r) => r.n) };
}

Deno.test("a transaction started while another one awaits waits for it, and is not rolled back with it", async () => {
  const { db, rows } = numbersDb();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let entered!: () => void;
  const opened = new Promise<void>((resolve) => entered = resolve);
  const failing = db.transaction(async () => {
    db.run("INSERT INTO numbers VALUES (1)");
    entered();
    await gate;
    throw new Error("the first body fails after it awaited");
  });
  await opened;
  // Another caller (a request, a background job) writes while the first body is suspended.
  let committed = false;
  const other = db.transaction(() => db.run("INSERT INTO numbers VALUES (2)")).then(() => committed = true);
  // Before the fix this call joined the open transaction and resolved at once.
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(committed, false, "told committed while another body was still open");
  release();
  await assert.rejects(failing, /the first body fails/);
  await other;
  assert.deepEqual(rows(), [2], "the second caller's write survives the first one's rollback");
  db.close();
});

Deno.test("a transaction called from inside a body joins it: committed and rolled back together", async () => {
  const { db, rows } = numbersDb();
  await assert.rejects(
    db.transaction(async () => {
      await db.transaction(() => db.run("INSERT INTO numbers VALUES (1)"));
      await Promise.resolve();
      throw new Error("outer fails");
    }),
    /outer fails/,
  );
  assert.deepEqual(rows(), []);
  await db.transaction(async () => {
    await db.transaction(async () => {
      await Promise.resolve();
      db.run("INSERT INTO numbers VALUES (3)");
    });
    db.run("INSERT INTO numbers VALUES (4)");
  });
  assert.deepEqual(rows(), [3, 4]);
  db.close();
});

Deno.test("work a body starts but does not await runs in its own transaction after the body ends", async () => {
  const { db, rows } = numbersDb();
  let later: Promise<unknown> | undefined;
  await db.transaction(() => {
    db.run("INSERT INTO numbers VALUES (1)");
    // A follow-up scheduled from the body (say, a background job it kicks off) must not deadlock on
    // or join the transaction that has since committed.
    later = new Promise((resolve) => setTimeout(resolve, 0)).then(() =>
      db.transaction(() => db.run("INSERT INTO numbers VALUES (2)"))
    );
  });
  await later;
  assert.deepEqual(rows(), [1, 2]);
  db.close();
});
