import assert from "node:assert/strict";
import { MisconfigurationError } from "../model/errors.ts";
import { tryExclusiveLock } from "./data_lock.ts";
import { openStore } from "./mod.ts";

Deno.test("a restore's exclusive lock and an open database exclude each other, and closing releases both", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-lock-" });
  const path = `${dir}/postern.db`;
  try {
    const store = openStore(path);
    assert.equal(tryExclusiveLock(path), undefined, "taken while the database is open");
    const second = openStore(path);
    store.close();
    assert.equal(tryExclusiveLock(path), undefined, "taken while a second store has it open");
    second.close();
    const lock = tryExclusiveLock(path);
    assert.ok(lock, "free once every store is closed");
    assert.throws(() => openStore(path), (error) => {
      assert.ok(error instanceof MisconfigurationError);
      assert.match(error.message, /is being restored \(postern restore holds .*postern\.db\.lock\)/);
      return true;
    });
    lock.close();
    openStore(path).close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
