/**
 * The OAuth / OpenID Connect provider: clients, token families (grants), authorization codes, device
 * codes, sign-in flows in progress, browser sessions, remembered consents and ID-token signing keys.
 * Every account and client reference cascades: deleting either removes what it issued.
 */
export const sql = `
CREATE TABLE oauth_clients (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('Confidential', 'Public')),
  secret_hash TEXT,
  owner_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  redirect_uris TEXT NOT NULL DEFAULT '[]',
  post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
  grant_types TEXT NOT NULL,
  scopes TEXT NOT NULL,
  require_consent INTEGER NOT NULL DEFAULT 1,
  dynamic INTEGER NOT NULL DEFAULT 0,
  description TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX oauth_clients_owner ON oauth_clients(owner_id);

CREATE TABLE oauth_grants (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  grant_type TEXT NOT NULL,
  scopes TEXT NOT NULL,
  auth_time INTEGER NOT NULL,
  refresh_generation INTEGER NOT NULL DEFAULT 0,
  refresh_issued_at INTEGER,
  refresh_expires_at INTEGER,
  rotated_at INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX oauth_grants_account ON oauth_grants(account_id);
CREATE INDEX oauth_grants_client ON oauth_grants(client_id);
CREATE INDEX oauth_grants_expiry ON oauth_grants(expires_at);

CREATE TABLE oauth_codes (
  code_hash TEXT PRIMARY KEY,
  client_id INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  redirect_uri TEXT NOT NULL,
  scopes TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  nonce TEXT,
  auth_time INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  grant_id INTEGER REFERENCES oauth_grants(id) ON DELETE SET NULL
) WITHOUT ROWID;
CREATE INDEX oauth_codes_expiry ON oauth_codes(expires_at);

CREATE TABLE oauth_device_codes (
  device_code_hash TEXT PRIMARY KEY,
  user_code TEXT NOT NULL UNIQUE,
  client_id INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  scopes TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'used')),
  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  auth_time INTEGER,
  interval_seconds INTEGER NOT NULL,
  last_poll_at INTEGER,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_device_codes_expiry ON oauth_device_codes(expires_at);

CREATE TABLE oauth_flows (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('authorize', 'device')),
  client_id INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  params TEXT NOT NULL,
  csrf TEXT NOT NULL,
  account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  auth_time INTEGER,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_flows_expiry ON oauth_flows(expires_at);

CREATE TABLE oauth_sessions (
  id_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  credential_tag TEXT NOT NULL,
  auth_time INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_sessions_account ON oauth_sessions(account_id);

CREATE TABLE oauth_consents (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  client_id INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
  scopes TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, client_id)
) WITHOUT ROWID;

CREATE TABLE oauth_signing_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kid TEXT NOT NULL UNIQUE,
  alg TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
`;
