/**
 * Vacation responses (RFC 8621 §8): one per account, absent until first set (then read as disabled),
 * and the senders already answered in the current period (reset whenever the response is changed).
 */
export const sql = `
CREATE TABLE vacation_responses (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  is_enabled INTEGER NOT NULL,
  from_date INTEGER,
  to_date INTEGER,
  subject TEXT,
  text_body TEXT,
  html_body TEXT,
  period INTEGER NOT NULL
);
CREATE TABLE vacation_replies (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sender TEXT NOT NULL,
  period INTEGER NOT NULL,
  replied_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, sender)
) WITHOUT ROWID;
`;
