import assert from "node:assert/strict";
import { openConnection } from "./connection.ts";
import { Db } from "./db.ts";
import { sqliteOAuth } from "./oauth.ts";
import { GRANT_COLUMNS, grantFromValues, toGrant } from "./oauth_rows.ts";

Deno.test("a token family read as column values (Db.firstValues) is the family read as a row object", async () => {
  const db = new Db(openConnection(":memory:"));
  try {
    // Foreign keys off: the family's client and account rows are not what this compares.
    db.raw.exec("PRAGMA foreign_keys = OFF");
    const oauth = sqliteOAuth(db);
    for (const withRefresh of [true, false]) {
      const id = await oauth.insertGrant({
        clientId: 7,
        accountId: 9,
        grantType: withRefresh ? "authorization_code" : "client_credentials",
        scopes: ["offline_access", "urn:ietf:params:jmap:mail"],
        authTime: 1_700_000_000_123,
        refreshGeneration: withRefresh ? 3 : 0,
        refreshIssuedAt: withRefresh ? 1_700_000_001_000 : null,
        refreshExpiresAt: withRefresh ? 1_702_592_001_000 : null,
        rotatedAt: withRefresh ? 1_700_000_001_000 : null,
        expiresAt: 1_702_592_001_000,
      });
      const row = toGrant(db.get("SELECT * FROM oauth_grants WHERE id = ?", id)!);
      assert.equal(row.refreshIssuedAt === null, !withRefresh);
      assert.deepEqual(
        grantFromValues(db.firstValues(`SELECT ${GRANT_COLUMNS} FROM oauth_grants WHERE id = ?`, id)!),
        row,
      );
      assert.deepEqual(await oauth.grant(id), row);
    }
    assert.equal(await oauth.grant(999_999), undefined);
    assert.equal(db.firstValues("SELECT id FROM oauth_grants WHERE id = ?", 999_999), undefined);
  } finally {
    db.raw.close();
  }
});
