/**
 * The outbound queue: every message leaving this server for another one (a submission's remote
 * recipients, a vacation reply to a remote sender, a bounce) is a `queue_messages` row holding the
 * message as it goes on the wire (DKIM-signed, no Bcc) and one `queue_recipients` row per recipient
 * with its state: `queued` (never tried), `deferred` (tried, temporary failure: tried again at
 * `next_attempt_at`), `delivered`, `failed` (permanent failure or expired) or `canceled`.
 *
 * A delivery worker claims the due recipients of one (message, domain) in one UPDATE that sets
 * `claimed_until` only where it has run out, so of two workers or processes exactly one gets them; a
 * worker that dies mid-delivery leaves a claim that expires, and they are tried again.
 *
 * A message references its sender account (cascade: a deleted account's queue goes with it) and its
 * EmailSubmission when it has one (set null: forgetting a submission does not unsend it). Finished
 * messages stay for their status until the operator deletes them.
 *
 * `email_submissions.in_queue` marks a submission handed whole to the queue (no local recipient is
 * left to deliver): the due-submission loop leaves it alone and canceling it cancels its queue rows.
 *
 * The `Outbound` settings' route defaults to "mx"; a server that relays through a smarthost today
 * keeps doing so ("smarthost").
 */
export const sql = `
CREATE TABLE queue_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  submission_id INTEGER REFERENCES email_submissions(id) ON DELETE SET NULL,
  kind TEXT NOT NULL CHECK (kind IN ('submission', 'vacation', 'bounce', 'report')),
  mail_from TEXT NOT NULL,
  envelope_id TEXT,
  message BLOB NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  delay_notified_at INTEGER,
  bounced_at INTEGER
);
CREATE INDEX queue_messages_account ON queue_messages (account_id);
CREATE INDEX queue_messages_submission ON queue_messages (submission_id) WHERE submission_id IS NOT NULL;

CREATE TABLE queue_recipients (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
  recipient TEXT NOT NULL,
  domain TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'deferred', 'delivered', 'failed', 'canceled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_reply TEXT,
  remote_mta TEXT,
  -- When a bounce named it (failed recipients are reported once, as soon as they fail).
  reported_at INTEGER,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  UNIQUE (message_id, recipient)
);
CREATE INDEX queue_recipients_message_domain ON queue_recipients (message_id, domain);
CREATE INDEX queue_recipients_due ON queue_recipients (next_attempt_at)
  WHERE state IN ('queued', 'deferred');
CREATE INDEX queue_recipients_domain ON queue_recipients (domain, state);

ALTER TABLE email_submissions ADD COLUMN in_queue INTEGER NOT NULL DEFAULT 0;

INSERT INTO settings (key, value, updated_at)
SELECT 'Outbound', json_object('route', 'smarthost'), CAST(unixepoch('subsec') * 1000 AS INTEGER)
WHERE EXISTS (
  SELECT 1 FROM settings WHERE key = 'Smarthost' AND COALESCE(json_extract(value, '$.host'), '') <> ''
);
`;
