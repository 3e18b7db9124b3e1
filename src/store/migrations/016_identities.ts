/**
 * Identities (RFC 8621 §6): who an account sends as. Each address of the account has one made by the
 * server (may_delete 0, kept in step with the addresses); users add more for the same addresses.
 */
export const sql = `
CREATE TABLE identities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  reply_to TEXT,
  bcc TEXT,
  text_signature TEXT NOT NULL,
  html_signature TEXT NOT NULL,
  may_delete INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX identities_account ON identities(account_id);
`;
