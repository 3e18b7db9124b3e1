import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate } from "../connection.ts";
import { MIGRATIONS } from "./mod.ts";

Deno.test("migration 042 (forward): queued mail survives the queue rebuild, ids are not reused, and 'forward' is a kind", () => {
  const db = new DatabaseSync(":memory:", { enableForeignKeyConstraints: true });
  try {
    const before = MIGRATIONS.findIndex((sql) => sql.includes("queue_messages_042"));
    for (const sql of MIGRATIONS.slice(0, before)) db.exec(sql);
    db.exec(`PRAGMA user_version = ${before}`);
    const insert = (id: number) => {
      db.exec(`INSERT INTO queue_messages (id, kind, mail_from, message, size, created_at)
        VALUES (${id}, 'report', 'a@b.example', x'41', 1, 0)`);
      db.exec(
        `INSERT INTO queue_recipients (message_id, recipient, domain, state, next_attempt_at, updated_at)
        VALUES (${id}, 'r${id}@c.example', 'c.example', 'queued', 0, 0)`,
      );
    };
    insert(1);
    insert(2);
    db.exec("DELETE FROM queue_messages WHERE id = 2");
    assert.equal(migrate(db), MIGRATIONS.length);
    const rows = db.prepare(
      "SELECT m.id, r.recipient FROM queue_messages m JOIN queue_recipients r ON r.message_id = m.id",
    )
      .all();
    assert.deepEqual(rows.map((r) => [r.id, r.recipient]), [[1, "r1@c.example"]]);
    const id = db.prepare(`INSERT INTO queue_messages (kind, mail_from, message, size, created_at)
      VALUES ('forward', '', x'41', 1, 0) RETURNING id`).get()?.id;
    assert.equal(id, 3);
    // The recipients still cascade with their message.
    db.exec("DELETE FROM queue_messages WHERE id = 1");
    assert.equal(db.prepare("SELECT count(*) AS n FROM queue_recipients").get()?.n, 0);
    assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
    assert.throws(() =>
      db.exec(`INSERT INTO queue_messages (kind, mail_from, message, size, created_at)
      VALUES ('other', '', x'41', 1, 0)`)
    );
  } finally {
    db.close();
  }
});

Deno.test("migration 051 (forward): the full-text watermark starts at the newest email, with no lease", () => {
  const db = new DatabaseSync(":memory:", { enableForeignKeyConstraints: false });
  try {
    const before = MIGRATIONS.findIndex((sql) => sql.includes("CREATE TABLE search_index"));
    for (const sql of MIGRATIONS.slice(0, before)) db.exec(sql);
    db.exec(`PRAGMA user_version = ${before}`);
    // Rows with every required column (the test is about ids only; foreign keys are off).
    const required = db.prepare("PRAGMA table_info(emails)").all()
      .filter((c) => c.notnull && c.dflt_value === null && !c.pk).map((c) => String(c.name));
    const insert = (id: number) =>
      db.exec(`INSERT INTO emails (id, ${required.join(", ")}) VALUES (${id}, ${required.map(() => "0")})`);
    // Without the emails' triggers (counts, usage), put back before the migration.
    const triggers = db.prepare(
      "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'emails'",
    )
      .all();
    for (const t of triggers) db.exec(`DROP TRIGGER ${t.name}`);
    insert(3);
    insert(7);
    insert(9);
    db.exec("DELETE FROM emails WHERE id = 9");
    for (const t of triggers) db.exec(String(t.sql));
    assert.equal(migrate(db), MIGRATIONS.length);
    assert.deepEqual({ ...db.prepare("SELECT indexed_through, claimed_until FROM search_index").get() }, {
      indexed_through: 7,
      claimed_until: 0,
    });
    // One row only.
    assert.throws(() => db.exec("INSERT INTO search_index (id, indexed_through) VALUES (2, 0)"));
  } finally {
    db.close();
  }
});
