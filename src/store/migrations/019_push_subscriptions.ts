/**
 * Push subscriptions (RFC 8620 §7.2): where a user's devices want StateChange pushes, the code the
 * server sent to prove the URL is theirs, and whether the client has sent it back.
 */
export const sql = `
CREATE TABLE push_subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  device_client_id TEXT NOT NULL,
  url TEXT NOT NULL,
  p256dh TEXT,
  auth TEXT,
  verification_code TEXT NOT NULL,
  verified INTEGER NOT NULL DEFAULT 0,
  expires INTEGER NOT NULL,
  types TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions(account_id);
`;
