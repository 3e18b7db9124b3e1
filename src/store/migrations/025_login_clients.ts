/**
 * For the login throttle, which counts only guesses.
 *
 * Where each account has signed in from: a keyed hash of a client address or of a sign-in page's
 * browser cookie, with its last success. A correct password from a client the account knows is not
 * held back by failed logins from elsewhere (the account's throttle); at most a few dozen per account
 * are kept, the least recently successful going first.
 */
export const sql = `
CREATE TABLE login_clients (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  client_hash TEXT NOT NULL,
  last_success_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, client_hash)
) WITHOUT ROWID;

-- Keyed hashes of deleted API keys, so a client still using one is known to hold a revoked key rather
-- than to guess; kept for a year.
CREATE TABLE revoked_key_hashes (
  hash TEXT PRIMARY KEY,
  revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
