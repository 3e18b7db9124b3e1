import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate } from "./connection.ts";
import { MIGRATIONS } from "./migrations/mod.ts";
import { SCHEMA_VERSION } from "../version.ts";

Deno.test("migration 020 (contentless search): the search rows of a database made before it are found after it, and deleted by rowid", () => {
  const db = new DatabaseSync(":memory:");
  try {
    const before = MIGRATIONS.indexOf(MIGRATIONS.find((sql) => sql.includes("contentless_delete"))!);
    for (const sql of MIGRATIONS.slice(0, before)) db.exec(sql);
    db.exec(`PRAGMA user_version = ${before}`);
    db.exec(
      `INSERT INTO email_search (rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments)
       VALUES (7, 'Café plans', 'Ann ann@example.org', '', '', '', 'Meet at the quay', 'map.pdf')`,
    );
    assert.equal(migrate(db), MIGRATIONS.length);
    const found = (match: string) =>
      db.prepare("SELECT rowid AS id FROM email_search WHERE email_search MATCH ?").all(match).map((r) =>
        Number(r.id)
      );
    assert.deepEqual(found('subject : "cafe"*'), [7]);
    assert.deepEqual(found('{subject body} : "quay"*'), [7]);
    assert.deepEqual(found('from_text : "ann"*'), [7]);
    assert.deepEqual(found('subject : "quay"*'), []);
    // No copy of the text is kept any more.
    assert.equal(db.prepare("SELECT subject FROM email_search WHERE rowid = 7").get()?.subject, null);
    const trigger = db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'emails_unsearchable'").get();
    assert.match(String(trigger?.sql), /DELETE FROM email_search WHERE rowid = OLD\.id/);
    db.exec("DELETE FROM email_search WHERE rowid = 7");
    assert.deepEqual(found('subject : "cafe"*'), []);
  } finally {
    db.close();
  }
});

Deno.test("SCHEMA_VERSION (shown by --version) is the number of migrations", () => {
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
});
