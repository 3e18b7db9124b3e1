import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "./migrations/mod.ts";
import { renewUidValidity } from "./imap.ts";

const IMAP = MIGRATIONS.findIndex((sql) => sql.includes("CREATE TABLE imap_settings"));

/** A database one migration before IMAP's, with one account, two mailboxes and two emails filed. */
function beforeImap(): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  db.exec("PRAGMA foreign_keys = ON");
  for (const sql of MIGRATIONS.slice(0, IMAP)) db.exec(sql);
  db.exec(`
    INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
    INSERT INTO accounts (id, name, type, domain_id, secret, created_at, updated_at)
    VALUES (1, 'alice', 'User', 1, x'00', 0, 0);
    INSERT INTO mailboxes (id, account_id, name, created_at, updated_at) VALUES (101, 1, 'In', 0, 0), (102, 1, 'B', 0, 0);
    INSERT INTO threads (id, account_id) VALUES (1, 1);
    INSERT INTO blobs (id, hash, size, data, created_at) VALUES (1, x'01', 1, x'00', 0), (2, x'02', 1, x'00', 0),
      (3, x'03', 1, x'00', 0);
    INSERT INTO emails (id, account_id, thread_id, blob_id, size, received_at, subject, base_subject, from_sort,
      to_sort, has_attachment, preview, headers, created_at)
    VALUES (1, 1, 1, 1, 1, 200, '', '', '', '', 0, '', '{}', 0), (2, 1, 1, 2, 1, 100, '', '', '', '', 0, '', '{}', 0);
    INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (101, 1, 200), (101, 2, 100), (102, 1, 200);
  `);
  return db;
}

function rows(db: DatabaseSync, sql: string): Record<string, unknown>[] {
  return db.prepare(sql).all().map((row) => ({ ...row }));
}

Deno.test("the IMAP migration numbers existing mail in received order and gives each mailbox its UIDVALIDITY", () => {
  const db = beforeImap();
  db.exec(MIGRATIONS[IMAP]);
  assert.deepEqual(rows(db, "SELECT mailbox_id, email_id, uid, modseq FROM email_mailboxes ORDER BY 1, 3"), [
    { mailbox_id: 101, email_id: 2, uid: 1, modseq: 1 },
    { mailbox_id: 101, email_id: 1, uid: 2, modseq: 1 },
    { mailbox_id: 102, email_id: 1, uid: 1, modseq: 1 },
  ]);
  const boxes = rows(db, "SELECT mailbox_id, uid_validity, uid_next FROM imap_mailboxes ORDER BY 1");
  assert.deepEqual(boxes.map((b) => b.uid_next), [3, 2]);
  assert.notEqual(boxes[0].uid_validity, boxes[1].uid_validity);
  const last = rows(db, "SELECT last_uid_validity FROM imap_settings")[0].last_uid_validity;
  assert.ok(Number(last) >= Math.max(...boxes.map((b) => Number(b.uid_validity))));
  db.close();
});

Deno.test("one statement filing an email in several mailboxes gives it a new UID in each and one MODSEQ", () => {
  const db = beforeImap();
  db.exec(MIGRATIONS[IMAP]);
  db.exec(`
    INSERT INTO emails (id, account_id, thread_id, blob_id, size, received_at, subject, base_subject, from_sort,
      to_sort, has_attachment, preview, headers, created_at)
    VALUES (3, 1, 1, 3, 1, 300, '', '', '', '', 0, '', '{}', 0);
    INSERT INTO email_keywords VALUES (3, '$seen');
    INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) SELECT id, 3, 300 FROM mailboxes;
  `);
  assert.deepEqual(
    rows(db, "SELECT mailbox_id, uid, modseq FROM email_mailboxes WHERE email_id = 3 ORDER BY 1"),
    [
      { mailbox_id: 101, uid: 3, modseq: 3 },
      { mailbox_id: 102, uid: 2, modseq: 3 },
    ],
  );
  assert.deepEqual(rows(db, "SELECT highest_modseq FROM imap_mailboxes ORDER BY mailbox_id"), [
    { highest_modseq: 3 },
    { highest_modseq: 3 },
  ]);
  db.close();
});

Deno.test("a keyword, an expunge and a mailbox's deletion move MODSEQ; the deleted mailbox logs no expunges", () => {
  const db = beforeImap();
  db.exec(MIGRATIONS[IMAP]);
  db.exec("INSERT INTO email_keywords VALUES (1, '$flagged')");
  assert.deepEqual(rows(db, "SELECT modseq FROM email_mailboxes WHERE email_id = 1"), [{ modseq: 2 }, {
    modseq: 2,
  }]);
  db.exec("DELETE FROM email_mailboxes WHERE mailbox_id = 101 AND email_id = 2");
  assert.deepEqual(rows(db, "SELECT mailbox_id, modseq, uid FROM imap_expunges"), [
    { mailbox_id: 101, modseq: 3, uid: 1 },
  ]);
  db.exec("DELETE FROM mailboxes WHERE id = 102");
  assert.deepEqual(rows(db, "SELECT mailbox_id FROM imap_expunges"), [{ mailbox_id: 101 }]);
  // Email 1 left mailbox 102: its row in 101 changed.
  assert.deepEqual(rows(db, "SELECT modseq FROM email_mailboxes WHERE email_id = 1"), [{ modseq: 4 }]);
  assert.deepEqual(rows(db, "SELECT highest_modseq FROM imap_mailboxes WHERE mailbox_id = 101"), [{
    highest_modseq: 4,
  }]);
  db.exec("INSERT INTO mailboxes (id, account_id, name, created_at, updated_at) VALUES (103, 1, 'B', 0, 0)");
  const [b] = rows(db, "SELECT uid_validity, uid_next FROM imap_mailboxes WHERE mailbox_id = 103");
  assert.equal(b.uid_next, 1);
  const others = rows(db, "SELECT uid_validity FROM imap_mailboxes WHERE mailbox_id <> 103");
  assert.ok(others.every((o) => Number(o.uid_validity) < Number(b.uid_validity)));
  db.exec("DELETE FROM accounts WHERE id = 1");
  for (const table of ["imap_accounts", "imap_mailboxes", "imap_expunges", "email_mailboxes"]) {
    assert.deepEqual(rows(db, `SELECT count(*) AS n FROM ${table}`), [{ n: 0 }], table);
  }
  assert.deepEqual(rows(db, "PRAGMA foreign_key_check"), []);
  db.close();
});

Deno.test("renewing UIDVALIDITY (a restore) gives every mailbox a value above any handed out before", () => {
  const db = beforeImap();
  db.exec(MIGRATIONS[IMAP]);
  const before = rows(db, "SELECT mailbox_id, uid_validity FROM imap_mailboxes ORDER BY 1");
  const lastBefore = Number(rows(db, "SELECT last_uid_validity AS n FROM imap_settings")[0].n);
  renewUidValidity(db);
  const after = rows(db, "SELECT mailbox_id, uid_validity FROM imap_mailboxes ORDER BY 1");
  assert.ok(after.every((a) => Number(a.uid_validity) > lastBefore));
  assert.equal(new Set(after.map((a) => a.uid_validity)).size, after.length);
  assert.notDeepEqual(after, before);
  db.exec("INSERT INTO mailboxes (id, account_id, name, created_at, updated_at) VALUES (104, 1, 'C', 0, 0)");
  const [created] = rows(db, "SELECT uid_validity FROM imap_mailboxes WHERE mailbox_id = 104");
  assert.ok(after.every((a) => Number(a.uid_validity) < Number(created.uid_validity)));
  // A database from before IMAP is left alone (its migration assigns fresh values).
  const old = beforeImap();
  renewUidValidity(old);
  old.close();
  db.close();
});
