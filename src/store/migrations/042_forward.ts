/**
 * Forwarding: an account's incoming mail copied to addresses elsewhere (`forward_to`, a JSON array;
 * `forward_keep_copy` 0 when the forward replaces the local copy), and the queue kind "forward" for
 * the copies, and for bounces of forwarded mail relayed back to their sender (reverse SRS).
 *
 * SQLite cannot change a CHECK in place, and a defensive connection may not edit the schema table:
 * both queue tables are rebuilt. The recipients go first, so dropping the old messages table cascades
 * into nothing; renaming the new messages table points the new recipients' foreign key at it.
 */
export const sql = `
ALTER TABLE accounts ADD COLUMN forward_to TEXT NOT NULL DEFAULT '[]';
ALTER TABLE accounts ADD COLUMN forward_keep_copy INTEGER NOT NULL DEFAULT 1 CHECK (forward_keep_copy IN (0, 1));

CREATE TABLE queue_messages_042 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  submission_id INTEGER REFERENCES email_submissions(id) ON DELETE SET NULL,
  kind TEXT NOT NULL CHECK (kind IN ('submission', 'vacation', 'bounce', 'report', 'forward')),
  mail_from TEXT NOT NULL,
  envelope_id TEXT,
  message BLOB NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  delay_notified_at INTEGER,
  bounced_at INTEGER
);
INSERT INTO queue_messages_042 SELECT id, account_id, submission_id, kind, mail_from, envelope_id, message,
  size, created_at, delay_notified_at, bounced_at FROM queue_messages;

CREATE TABLE queue_recipients_042 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL REFERENCES queue_messages_042(id) ON DELETE CASCADE,
  recipient TEXT NOT NULL,
  domain TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'deferred', 'delivered', 'failed', 'canceled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_reply TEXT,
  remote_mta TEXT,
  reported_at INTEGER,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  UNIQUE (message_id, recipient)
);
INSERT INTO queue_recipients_042 SELECT id, message_id, recipient, domain, state, attempts, next_attempt_at,
  last_reply, remote_mta, reported_at, claimed_until, updated_at FROM queue_recipients;

-- Ids are never reused: the new tables go on from where the old ones' counters stood.
DELETE FROM sqlite_sequence WHERE name IN ('queue_messages_042', 'queue_recipients_042');
INSERT INTO sqlite_sequence (name, seq)
  SELECT name || '_042', seq FROM sqlite_sequence WHERE name IN ('queue_messages', 'queue_recipients');

DROP TABLE queue_recipients;
DROP TABLE queue_messages;
ALTER TABLE queue_messages_042 RENAME TO queue_messages;
ALTER TABLE queue_recipients_042 RENAME TO queue_recipients;

CREATE INDEX queue_messages_account ON queue_messages (account_id);
CREATE INDEX queue_messages_submission ON queue_messages (submission_id) WHERE submission_id IS NOT NULL;
CREATE INDEX queue_recipients_message_domain ON queue_recipients (message_id, domain);
CREATE INDEX queue_recipients_due ON queue_recipients (next_attempt_at)
  WHERE state IN ('queued', 'deferred');
CREATE INDEX queue_recipients_domain ON queue_recipients (domain, state);
`;
