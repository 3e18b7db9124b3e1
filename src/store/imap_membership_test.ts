import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Db } from "./db.ts";
import { insertNewMemberships } from "./imap_membership.ts";
import { MIGRATIONS } from "./migrations/mod.ts";

/** A current database with one account, three mailboxes and two emails already filed (by the triggers). */
function filled(): Db {
  const raw = new DatabaseSync(":memory:");
  raw.exec("PRAGMA foreign_keys = ON");
  for (const sql of MIGRATIONS) raw.exec(sql);
  raw.exec(`
    INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
    INSERT INTO accounts (id, name, type, domain_id, secret, created_at, updated_at)
    VALUES (1, 'alice', 'User', 1, x'00', 0, 0);
    INSERT INTO mailboxes (id, account_id, name, created_at, updated_at)
    VALUES (101, 1, 'In', 0, 0), (102, 1, 'B', 0, 0), (103, 1, 'C', 0, 0);
    INSERT INTO threads (id, account_id) VALUES (1, 1);
    INSERT INTO blobs (id, hash, size, data, created_at)
    VALUES (1, x'01', 1, x'00', 0), (2, x'02', 1, x'00', 0), (3, x'03', 1, x'00', 0);
    INSERT INTO emails (id, account_id, thread_id, blob_id, size, received_at, subject, base_subject, from_sort,
      to_sort, has_attachment, preview, headers, created_at)
    VALUES (1, 1, 1, 1, 1, 200, '', '', '', '', 0, '', '{}', 0), (2, 1, 1, 2, 1, 100, '', '', '', '', 0, '', '{}', 0);
    INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (101, 1, 200), (101, 2, 100), (102, 1, 200);
    INSERT INTO email_keywords VALUES (2, '$flagged');
    INSERT INTO emails (id, account_id, thread_id, blob_id, size, received_at, subject, base_subject, from_sort,
      to_sort, has_attachment, preview, headers, created_at)
    VALUES (3, 1, 1, 3, 1, 300, '', '', '', '', 0, '', '{}', 0);
    INSERT INTO email_keywords VALUES (3, '$seen');
  `);
  return new Db(raw);
}

/** Everything IMAP and the mailbox counts keep, as rows. */
function state(db: Db): unknown {
  const rows = (sql: string) => db.all(sql).map((row) => ({ ...row }));
  return {
    memberships: rows("SELECT * FROM email_mailboxes ORDER BY mailbox_id, email_id"),
    // Not uid_validity: each database takes it from the clock when its mailbox is made.
    mailboxes: rows(
      "SELECT mailbox_id, uid_next, highest_modseq, expunges, purged_modseq FROM imap_mailboxes ORDER BY 1",
    ),
    accounts: rows("SELECT * FROM imap_accounts ORDER BY account_id"),
    counts: rows("SELECT * FROM mailbox_counts ORDER BY mailbox_id"),
    threads: rows("SELECT * FROM mailbox_threads ORDER BY mailbox_id, thread_id"),
  };
}

for (const mailboxIds of [[101], [103], [102, 101], [101, 102, 103]]) {
  Deno.test(`a new email filed in ${mailboxIds.join(", ")} gets the UIDs and MODSEQ the triggers gave it`, async () => {
    const byTriggers = filled();
    const folded = filled();
    try {
      await byTriggers.transaction(() => {
        for (const mailboxId of mailboxIds) {
          byTriggers.run(
            "INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (?, ?, 300)",
            mailboxId,
            3,
          );
        }
      });
      await folded.transaction(() =>
        insertNewMemberships(folded, { accountId: 1, emailId: 3, mailboxIds, receivedAt: 300 })
      );
      const expected = state(byTriggers) as { memberships: { email_id: number; uid: number }[] };
      // The triggers did number the rows (the comparison is not of two untouched tables).
      const filed = expected.memberships.filter((m) => m.email_id === 3);
      assert.equal(filed.length, mailboxIds.length);
      assert.ok(filed.every((m) => m.uid > 0));
      assert.deepEqual(state(folded), expected);
    } finally {
      byTriggers.close();
      folded.close();
    }
  });
}

Deno.test("a mailbox without its IMAP row refuses the email as the triggers did, and nothing stays written", async () => {
  const byTriggers = filled();
  const folded = filled();
  try {
    for (const db of [byTriggers, folded]) db.run("DELETE FROM imap_mailboxes WHERE mailbox_id = 103");
    const refused = /NOT NULL constraint failed: email_mailboxes.uid/;
    await assert.rejects(
      byTriggers.transaction(() => {
        for (const mailboxId of [101, 103]) {
          byTriggers.run(
            "INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (?, ?, 300)",
            mailboxId,
            3,
          );
        }
      }),
      refused,
    );
    await assert.rejects(
      folded.transaction(() =>
        insertNewMemberships(folded, { accountId: 1, emailId: 3, mailboxIds: [101, 103], receivedAt: 300 })
      ),
      refused,
    );
    assert.deepEqual(state(folded), state(byTriggers));
  } finally {
    byTriggers.close();
    folded.close();
  }
});
