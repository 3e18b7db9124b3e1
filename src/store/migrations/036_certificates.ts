/**
 * TLS certificates obtained with ACME (RFC 8555), shared by every process on the database: the
 * certificate chain, its private key sealed under the encryption key, and the renewal's claim
 * (`claimed_until`: a worker ordering holds it; a crashed worker's claim runs out and another orders)
 * and backoff (`next_attempt_at`, `failures`, `last_error`). `acme_accounts` keeps the account key
 * per directory (sealed); `acme_challenges` the HTTP-01 answers pending, so any process on the
 * database answers the CA's validation request.
 */
export const sql = `
CREATE TABLE certificates (
  name TEXT PRIMARY KEY,
  domains TEXT NOT NULL,
  cert_pem TEXT NOT NULL DEFAULT '',
  key_sealed TEXT NOT NULL DEFAULT '',
  not_after INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE acme_accounts (
  directory_url TEXT PRIMARY KEY,
  key_sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE acme_challenges (
  token TEXT PRIMARY KEY,
  key_authorization TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`;
