/** Core directory tables: every account reference cascades, a domain in use cannot be deleted. */
export const sql = `
CREATE TABLE domains (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL COLLATE NOCASE UNIQUE,
  description TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL CHECK (type IN ('User', 'Group')),
  name TEXT NOT NULL COLLATE NOCASE,
  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
  description TEXT,
  locale TEXT,
  roles TEXT NOT NULL DEFAULT '[]',
  quotas TEXT NOT NULL DEFAULT '{}',
  enabled INTEGER NOT NULL DEFAULT 1,
  secret BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (name, domain_id)
);
CREATE INDEX accounts_domain ON accounts(domain_id);

CREATE TABLE addresses (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  local_part TEXT NOT NULL COLLATE NOCASE,
  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  is_primary INTEGER NOT NULL DEFAULT 0,
  UNIQUE (local_part, domain_id)
);
CREATE INDEX addresses_account ON addresses(account_id);
CREATE INDEX addresses_domain ON addresses(domain_id);

CREATE TABLE credentials (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('Password', 'AppPassword', 'ApiKey')),
  description TEXT,
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER
);
CREATE INDEX credentials_account ON credentials(account_id, type);
CREATE UNIQUE INDEX credentials_key_hash ON credentials(hash) WHERE type <> 'Password';

CREATE TABLE group_members (
  group_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  member_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX group_members_member ON group_members(member_id);

CREATE TABLE acl (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  grantee_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  object_type TEXT NOT NULL,
  object_id INTEGER NOT NULL DEFAULT 0,
  rights INTEGER NOT NULL,
  UNIQUE (grantee_id, owner_id, object_type, object_id)
);
CREATE INDEX acl_owner ON acl(owner_id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE invalidations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  event TEXT NOT NULL
);
`;
