/**
 * The change log behind JMAP state strings: one row per created, updated or destroyed object.
 * `account_id` scopes per-account data (mailboxes, emails); directory-wide types use NULL.
 */
export const sql = `
CREATE TABLE changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  object_id INTEGER NOT NULL,
  kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),
  created_at INTEGER NOT NULL
);
CREATE INDEX changes_scope ON changes(type, account_id, id);
`;
