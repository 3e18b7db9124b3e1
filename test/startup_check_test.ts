/**
 * The start's database check runs in a worker while the server serves (src/store/startup_check.ts):
 * it finds what `postern db check` finds, on its own read-only connection, and `postern serve` logs the
 * problems after its start line instead of reading the whole file before listening.
 */
import assert from "node:assert/strict";
import { openStore, startupCheck } from "../src/store/mod.ts";
import { startServerProcess, until, withTempDir } from "./helpers.ts";

/** A database file with two grants whose owners (39 and 40) and mailboxes do not exist: four dangling references. */
function withDanglingGrants(path: string): void {
  const store = openStore(path);
  try {
    store.unsafeExec(`PRAGMA foreign_keys = OFF;
      INSERT INTO acl (grantee_id, owner_id, object_type, object_id, rights, mailbox_id)
      VALUES (1, 39, 'Mailbox', 9039, 1, 9039), (1, 40, 'Mailbox', 9040, 1023, 9040);
      PRAGMA foreign_keys = ON;`);
  } finally {
    store.close();
  }
}

Deno.test("the background check finds the same dangling rows as db check, and a clean file passes", () =>
  withTempDir("postern-startup-check-", async (dir) => {
    const path = `${dir}/postern.db`;
    const store = openStore(path);
    try {
      const clean = await startupCheck(path, store.integrity).report;
      assert.deepEqual(clean, { ok: true, integrity: [], dangling: [], usage: [], repaired: 0 });
    } finally {
      store.close();
    }
    withDanglingGrants(path);
    const reopened = openStore(path);
    try {
      const background = await startupCheck(path, reopened.integrity).report;
      const inline = await reopened.integrity.check();
      assert.equal(background.ok, false);
      assert.deepEqual(background.dangling, inline.dangling);
      assert.ok(background.dangling.some((d) => d.table === "acl" && /owner_id=39/.test(d.detail)));
      // Read only: the rows it reports are still there for `db check --repair`.
      assert.equal((await reopened.integrity.check()).dangling.length, inline.dangling.length);
    } finally {
      reopened.close();
    }
  }));

Deno.test("a database only in memory is checked inline; a file that is not a database is a reason, not a crash", () =>
  withTempDir("postern-startup-check-", async (dir) => {
    const store = openStore(":memory:");
    try {
      assert.equal((await startupCheck(":memory:", store.integrity).report).ok, true);
    } finally {
      store.close();
    }
    const junk = `${dir}/junk.db`;
    await Deno.writeTextFile(junk, "this is not a SQLite database ".repeat(200));
    const memory = openStore(":memory:");
    try {
      await assert.rejects(startupCheck(junk, memory.integrity).report, /not a database|malformed|file/i);
    } finally {
      memory.close();
    }
  }));

Deno.test("postern serve logs the problems its background database check finds, and keeps serving", () =>
  withTempDir("postern-startup-check-", async (dir) => {
    const data = `${dir}/data`;
    const first = await startServerProcess(data);
    await first.stop();
    withDanglingGrants(`${data}/postern.db`);
    const server = await startServerProcess(data);
    try {
      // The warning comes whenever the worker has read the file (on a file this small, maybe before the start
      // line: the start does not wait for it, which the 1.2 GB measurement in the README shows).
      await until(() => server.stderr().includes("Database check found"), "the check's warning");
      assert.match(server.stderr(), /Database check found 4 problems; run `postern db check --repair`/);
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      await server.stop();
    }
    assert.equal(server.exitCode, 0);
  }));
