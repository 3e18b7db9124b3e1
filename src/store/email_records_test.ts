import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Db } from "./db.ts";
import { emailsFromJson, emailsJson, MAX_JSON_EMAILS, readEmails } from "./email_records.ts";

/** The tables the read touches, with awkward values: quotes, control characters, NUL, emoji, bytes. */
function database(): Db {
  const raw = new DatabaseSync(":memory:");
  raw.exec(`
    CREATE TABLE blobs (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
    CREATE TABLE emails (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, thread_id INTEGER NOT NULL,
      blob_id INTEGER NOT NULL, size INTEGER NOT NULL, received_at INTEGER NOT NULL, sent_at TEXT,
      subject TEXT NOT NULL, has_attachment INTEGER NOT NULL, preview TEXT NOT NULL, headers TEXT NOT NULL);
    CREATE TABLE email_mailboxes (mailbox_id INTEGER, email_id INTEGER);
    CREATE TABLE email_keywords (email_id INTEGER, keyword TEXT);
  `);
  const subjects = [
    'He said "hi"\\',
    "tab\there\nline",
    "nul\u0000inside",
    "emoji 📬 ünïcødé",
    "",
    "</script>",
  ];
  for (let i = 1; i <= 30; i++) {
    raw.prepare("INSERT INTO blobs VALUES (?, ?)").run(
      i,
      new Uint8Array(32).map((_, k) => (i * 7 + k * 31) % 256),
    );
    raw.prepare("INSERT INTO emails VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").run(
      i,
      i % 3 === 0 ? 2 : 1,
      100 + (i % 4),
      i,
      1000 * i,
      1_780_000_000_000 + i,
      i % 2 ? null : "2026-01-02T03:04:05+01:00",
      subjects[i % subjects.length],
      i % 5 === 0 ? 1 : 0,
      `preview ${subjects[(i + 1) % subjects.length]}`,
      JSON.stringify({
        from: [{ name: subjects[i % subjects.length], email: `s${i}@x.org` }],
        messageId: null,
      }),
    );
    // Mailboxes and keywords inserted out of order (the read sorts them); some emails have none.
    for (const m of i % 7 === 0 ? [] : [9 + (i % 3), 3, 12]) {
      raw.prepare("INSERT INTO email_mailboxes VALUES (?, ?)").run(m, i);
    }
    for (const k of i % 4 === 0 ? [] : ["$seen", "$flagged", `tag "${i}"`].reverse()) {
      raw.prepare("INSERT INTO email_keywords VALUES (?, ?)").run(i, k);
    }
  }
  return new Db(raw, 1000);
}

Deno.test("emails read as one JSON text are the same records as rows read one by one", () => {
  const db = database();
  const ids = Array.from({ length: 32 }, (_, i) => i + 1);
  // Past MAX_JSON_EMAILS the rows are read one by one: the same emails with ids that do not exist.
  const padding = Array.from({ length: MAX_JSON_EMAILS }, (_, i) => 10_000 + i);
  for (const accountId of [1, 2, 3]) {
    const byJson = readEmails(db, { accountId, ids });
    const byRows = readEmails(db, { accountId, ids: [...ids, ...padding] });
    assert.deepEqual(byJson, byRows);
    assert.equal(byJson.length, accountId === 3 ? 0 : accountId === 1 ? 20 : 10);
  }
  const [first] = readEmails(db, { accountId: 1, ids: [1] });
  assert.equal(first.subject, "tab\there\nline");
  assert.deepEqual(first.mailboxIds, [3, 10, 12]);
  assert.deepEqual(first.keywords, ["$flagged", "$seen", 'tag "1"']);
  assert.equal(first.sentAt, null);
  assert.ok(first.blobHash instanceof Uint8Array && first.blobHash.length === 32);
  assert.equal(readEmails(db, { accountId: 1, ids: [7] })[0].mailboxIds.length, 0);
});

Deno.test("the JSON text of emails is a string a worker posts back, and an empty list for no ids", () => {
  const db = database();
  assert.equal(emailsJson(db, { accountId: 1, ids: [] }), "[]");
  assert.deepEqual(emailsFromJson(emailsJson(db, { accountId: 1, ids: [3] })), []);
  const text = emailsJson(db, { accountId: 2, ids: [3, 6] });
  assert.equal(typeof text, "string");
  assert.deepEqual(emailsFromJson(text).map((e) => e.id).sort(), [3, 6]);
  assert.throws(() =>
    emailsJson(db, { accountId: 1, ids: Array.from({ length: MAX_JSON_EMAILS + 1 }, (_, i) => i) })
  );
});
