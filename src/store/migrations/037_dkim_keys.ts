/**
 * DKIM keys of the local domains (RFC 6376, RFC 8463): per domain an Ed25519 and an RSA key, each
 * under its selector, the private key sealed under the encryption key. `active` keys sign (at most
 * one per algorithm and domain, which the partial unique index enforces, so two processes creating
 * a domain's first keys at once keep one pair); retired keys (`active` 0) sign no more but stay
 * published in DNS until the operator removes them. A migration cannot generate keys: the server
 * creates them at start for domains without any (src/mail/dkim_keys.ts).
 */
export const sql = `
CREATE TABLE dkim_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
  public_key TEXT NOT NULL,
  private_key_sealed TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  retired_at INTEGER,
  UNIQUE (domain_id, selector)
);
CREATE UNIQUE INDEX dkim_keys_active ON dkim_keys (domain_id, algorithm) WHERE active = 1;
`;
