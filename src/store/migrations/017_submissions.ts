/**
 * Email submissions (RFC 8621 §7): a message sent, or to be sent at `send_at`. The identity and the
 * email are recorded as they were (not foreign keys): the email may be destroyed once sent.
 */
export const sql = `
CREATE TABLE email_submissions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  identity_id INTEGER NOT NULL,
  email_id INTEGER NOT NULL,
  thread_id INTEGER NOT NULL,
  envelope TEXT NOT NULL,
  send_at INTEGER NOT NULL,
  undo_status TEXT NOT NULL,
  delivery_status TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX email_submissions_account ON email_submissions(account_id);
CREATE INDEX email_submissions_due ON email_submissions(undo_status, send_at);
`;
