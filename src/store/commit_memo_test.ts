import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { CommitMemo } from "./commit_memo.ts";
import { Db } from "./db.ts";
import { openWalSignal } from "./wal_signal.ts";

/** A WAL database with one value, this connection's Db over it, another connection, and the signal. */
async function setUp() {
  const dir = await Deno.makeTempDir({ prefix: "postern-memo-" });
  const raw = new DatabaseSync(`${dir}/x.db`);
  raw.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v); INSERT INTO t VALUES (1)");
  const db = new Db(raw);
  const other = new DatabaseSync(`${dir}/x.db`);
  const signal = openWalSignal(`${dir}/x.db`);
  let reads = 0;
  const read = () => {
    reads++;
    return Number(db.get<{ v: number }>("SELECT v FROM t")!.v);
  };
  return {
    db,
    other,
    signal,
    read,
    get reads() {
      return reads;
    },
    async close() {
      other.close();
      raw.close();
      signal.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a remembered read is answered from memory until a commit of this or another connection", async () => {
  const s = await setUp();
  try {
    const memo = new CommitMemo<string, number>(s.db, () => s.signal.read());
    assert.equal(memo.get("v", s.read), 1);
    assert.equal(memo.get("v", s.read), 1);
    assert.equal(s.reads, 1, "nothing committed: no second read");
    s.db.run("UPDATE t SET v = 2");
    assert.equal(memo.get("v", s.read), 2, "this connection's commit is seen");
    s.other.exec("UPDATE t SET v = 3");
    assert.equal(memo.get("v", s.read), 3, "another connection's commit is seen");
    s.other.exec("PRAGMA wal_checkpoint(RESTART)");
    s.other.exec("UPDATE t SET v = 4");
    assert.equal(memo.get("v", s.read), 4, "a commit after the WAL restarted is seen");
  } finally {
    await s.close();
  }
});

Deno.test("inside a transaction the memo reads through, and a rollback leaves nothing remembered", async () => {
  const s = await setUp();
  try {
    const memo = new CommitMemo<string, number>(s.db, () => s.signal.read());
    assert.equal(memo.get("v", s.read), 1);
    await assert.rejects(s.db.transaction(() => {
      s.db.run("UPDATE t SET v = 9");
      assert.equal(memo.get("v", s.read), 9, "the transaction sees its own write");
      throw new Error("roll back");
    }));
    assert.equal(memo.get("v", s.read), 1, "the rolled-back value was not remembered");
  } finally {
    await s.close();
  }
});

Deno.test("without a change counter, or past the age bound, every get reads", async () => {
  const s = await setUp();
  try {
    const blind = new CommitMemo<string, number>(s.db, () => undefined);
    blind.get("v", s.read);
    blind.get("v", s.read);
    assert.equal(s.reads, 2);
    const aging = new CommitMemo<string, number>(s.db, () => s.signal.read(), { maxAgeMs: 0 });
    aging.get("v", s.read);
    aging.get("v", s.read);
    assert.equal(s.reads, 4);
  } finally {
    await s.close();
  }
});

Deno.test("the memo keeps at most maxEntries keys, dropping the oldest", async () => {
  const s = await setUp();
  try {
    const memo = new CommitMemo<number, number>(s.db, () => s.signal.read(), { maxEntries: 2 });
    for (const key of [1, 2, 3]) memo.get(key, s.read);
    assert.equal(s.reads, 3);
    memo.get(3, s.read);
    memo.get(2, s.read);
    assert.equal(s.reads, 3, "the two newest are kept");
    memo.get(1, s.read);
    assert.equal(s.reads, 4, "the oldest was dropped");
  } finally {
    await s.close();
  }
});

Deno.test("a read that races another connection's commit is not remembered past it", async () => {
  const s = await setUp();
  try {
    const memo = new CommitMemo<string, number>(s.db, () => s.signal.read());
    // The value is read, then another process commits before the memo stores it: what was read is
    // already out of date, and the next get must not answer it.
    const racing = () => {
      const value = s.read();
      s.other.exec("UPDATE t SET v = 2");
      return value;
    };
    assert.equal(memo.get("v", racing), 1);
    assert.equal(memo.get("v", s.read), 2, "the commit during the first read is seen");
  } finally {
    await s.close();
  }
});
