import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "./mod.ts";

/**
 * A store on a file with a domain and an account with an Inbox, and another connection (as another
 * process would be) that changes them behind the store's back.
 */
async function setUp() {
  const dir = await Deno.makeTempDir({ prefix: "postern-memo-reads-" });
  const path = `${dir}/postern.db`;
  const store = openStore(path);
  const domainId = await store.domains.insert({ name: "example.org", description: null });
  const other = new DatabaseSync(path);
  other.exec("PRAGMA busy_timeout = 5000");
  const accountId = Number(
    other.prepare(
      `INSERT INTO accounts (type, name, domain_id, description, locale, roles, quotas, enabled, secret,
         created_at, updated_at) VALUES ('User', 'a', ?, NULL, NULL, '[]', '{}', 1, x'00', 0, 0)`,
    ).run(domainId).lastInsertRowid,
  );
  const inbox = await store.mailboxes.insert({
    accountId,
    parentId: null,
    name: "Inbox",
    role: "inbox",
    sortOrder: 0,
  });
  return {
    store,
    other,
    accountId,
    inbox,
    async close() {
      other.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a domain read again by name shows what another connection committed since, and a copy of it is the caller's own", async () => {
  const s = await setUp();
  try {
    const first = await s.store.domains.getByName("example.org");
    assert.equal(first?.catchAll, null);
    first!.catchAll = "changed@by.the.caller";
    assert.equal(
      (await s.store.domains.getByName("example.org"))?.catchAll,
      null,
      "the caller's change is its own",
    );
    s.other.exec("UPDATE domains SET catch_all = 'all@example.org' WHERE name = 'example.org'");
    assert.equal((await s.store.domains.getByName("example.org"))?.catchAll, "all@example.org");
    s.other.exec("DELETE FROM domains WHERE name = 'example.org' AND NOT EXISTS (SELECT 1 FROM accounts)");
    s.other.exec(
      "INSERT INTO domains (name, description, dmarc_enforcement, created_at) VALUES ('new.example', NULL, 'enforce', 0)",
    );
    assert.equal(
      (await s.store.domains.getByName("new.example"))?.name,
      "new.example",
      "a name unknown before is found",
    );
  } finally {
    await s.close();
  }
});

Deno.test("the mailbox of a role read again shows another connection's change of roles", async () => {
  const s = await setUp();
  try {
    assert.deepEqual((await s.store.mailboxes.withRoles(s.accountId, ["inbox"])).map((m) => m.id), [s.inbox]);
    assert.deepEqual(await s.store.mailboxes.withRoles(s.accountId, ["junk"]), []);
    s.other.exec(`UPDATE mailboxes SET role = 'junk' WHERE id = ${s.inbox}`);
    assert.deepEqual(await s.store.mailboxes.withRoles(s.accountId, ["inbox"]), []);
    assert.deepEqual((await s.store.mailboxes.withRoles(s.accountId, ["junk"])).map((m) => m.id), [s.inbox]);
  } finally {
    await s.close();
  }
});

Deno.test("a vacation response read again shows another connection's change", async () => {
  const s = await setUp();
  try {
    assert.equal(await s.store.vacation.get(s.accountId), undefined);
    await s.store.vacation.put({
      accountId: s.accountId,
      isEnabled: false,
      fromDate: null,
      toDate: null,
      subject: null,
      textBody: null,
      htmlBody: null,
      period: 1,
    });
    assert.equal((await s.store.vacation.get(s.accountId))?.isEnabled, false, "this connection's own write");
    s.other.exec(`UPDATE vacation_responses SET is_enabled = 1 WHERE account_id = ${s.accountId}`);
    assert.equal((await s.store.vacation.get(s.accountId))?.isEnabled, true, "another connection's write");
  } finally {
    await s.close();
  }
});
