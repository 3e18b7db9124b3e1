import type { Credential, CredentialType } from "../model/types.ts";
import type { Db, Row } from "./db.ts";

/** Persistence of passwords, app passwords and API keys (hashes only). */
export interface CredentialRepository {
  insert(credential: Omit<Credential, "id" | "createdAt" | "lastUsedAt">): Promise<number>;
  get(id: number): Promise<Credential | undefined>;
  listByAccount(accountId: number, type?: CredentialType): Promise<Credential[]>;
  /** The app password or API key with this keyed hash. */
  findByKeyHash(hash: string): Promise<Credential | undefined>;
  /** Replaces the account's password hash (removing it when `hash` is null). */
  setPassword(accountId: number, hash: string | null): Promise<void>;
  delete(id: number): Promise<boolean>;
  deleteByAccount(accountId: number, type: CredentialType): Promise<number>;
  touch(id: number, at: number): Promise<void>;
  /**
   * The Argon2 parameters (`m=…,t=…,p=…`) most stored passwords are hashed with, or undefined when
   * no account has a password.
   */
  commonPasswordParameters(): Promise<string | undefined>;
}

function toCredential(row: Row): Credential {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    type: row.type as CredentialType,
    description: row.description === null ? null : String(row.description),
    hash: String(row.hash),
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** SQLite implementation of {@link CredentialRepository}. */
export function sqliteCredentials(db: Db): CredentialRepository {
  return {
    insert(c) {
      const { id } = db.run(
        `INSERT INTO credentials (account_id, type, description, hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        c.accountId,
        c.type,
        c.description,
        c.hash,
        Date.now(),
        c.expiresAt,
      );
      return Promise.resolve(id);
    },
    get(id) {
      const row = db.get("SELECT * FROM credentials WHERE id = ?", id);
      return Promise.resolve(row && toCredential(row));
    },
    listByAccount(accountId, type) {
      const rows = type
        ? db.all("SELECT * FROM credentials WHERE account_id = ? AND type = ? ORDER BY id", accountId, type)
        : db.all("SELECT * FROM credentials WHERE account_id = ? ORDER BY id", accountId);
      return Promise.resolve(rows.map(toCredential));
    },
    findByKeyHash(hash) {
      const row = db.get("SELECT * FROM credentials WHERE hash = ? AND type <> 'Password'", hash);
      return Promise.resolve(row && toCredential(row));
    },
    setPassword(accountId, hash) {
      db.run("DELETE FROM credentials WHERE account_id = ? AND type = 'Password'", accountId);
      if (hash !== null) {
        db.run(
          `INSERT INTO credentials (account_id, type, description, hash, created_at)
           VALUES (?, 'Password', NULL, ?, ?)`,
          accountId,
          hash,
          Date.now(),
        );
      }
      return Promise.resolve();
    },
    delete(id) {
      return Promise.resolve(db.run("DELETE FROM credentials WHERE id = ?", id).changes > 0);
    },
    deleteByAccount(accountId, type) {
      return Promise.resolve(
        db.run("DELETE FROM credentials WHERE account_id = ? AND type = ?", accountId, type).changes,
      );
    },
    touch(id, at) {
      db.run("UPDATE credentials SET last_used_at = ? WHERE id = ?", at, id);
      return Promise.resolve();
    },
    commonPasswordParameters() {
      // A PHC string is "$argon2id$v=19$" (15 characters), then the parameters up to the next "$".
      const row = db.get<{ parameters: string }>(
        `SELECT substr(hash, 16, instr(substr(hash, 16), '$') - 1) AS parameters FROM credentials
         WHERE type = 'Password' AND hash LIKE '$argon2id$v=19$%'
         GROUP BY parameters ORDER BY count(*) DESC, max(id) DESC LIMIT 1`,
      );
      return Promise.resolve(row?.parameters);
    },
  };
}
