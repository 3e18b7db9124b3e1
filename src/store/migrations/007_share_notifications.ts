/**
 * ShareNotification (RFC 9670): one row per change of a user's rights on a shared object, kept
 * until that user dismisses it. Only the notified account is a foreign key (its notifications go
 * with it). The object, its owner and the author of the change are snapshots, not foreign keys: a
 * notification must outlive the mailbox it tells about, and ids are never reused, so a stale id can
 * never name a newer object.
 */
export const sql = `
CREATE TABLE share_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  changed_by_id INTEGER,
  changed_by_name TEXT NOT NULL,
  changed_by_email TEXT,
  object_type TEXT NOT NULL,
  object_account_id INTEGER NOT NULL,
  object_id INTEGER NOT NULL,
  old_rights INTEGER NOT NULL,
  new_rights INTEGER NOT NULL,
  name TEXT NOT NULL
);
CREATE INDEX share_notifications_account ON share_notifications(account_id, created_at);
`;
