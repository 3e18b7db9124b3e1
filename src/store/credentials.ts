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
  /** Replaces the keyed hash of an app password or API key (restoring a snapshot). */
  setKeyHash(id: number, hash: string): Promise<boolean>;
  delete(id: number): Promise<boolean>;
  deleteByAccount(accountId: number, type: CredentialType): Promise<number>;
  touch(id: number, at: number): Promise<void>;
  /**
   * The Argon2 parameters (`m=…,t=…,p=…`) most stored passwords are hashed with, or undefined when
   * no account has a password.
   */
  commonPasswordParameters(): Promise<string | undefined>;
  /** Notes a successful login of `accountId` from `clientHash`, keeping the `keep` most recent. */
  rememberLoginClient(
    accountId: number,
    clientHash: string,
    options: { at: number; keep: number },
  ): Promise<void>;
  /** Whether `accountId` has logged in successfully from `clientHash` before. */
  isLoginClient(accountId: number, clientHash: string): Promise<boolean>;
  /** Notes keyed hashes of API keys revoked at `at` (those revoked over a year before are forgotten). */
  noteRevokedKeys(hashes: string[], at: number): Promise<void>;
  /** Whether a keyed hash is that of a revoked API key. */
  wasRevoked(hash: string): Promise<boolean>;
}

/** How long a revoked API key is told from a guess: clients forgotten for longer count as guessing. */
const REVOKED_KEY_MEMORY_MS = 365 * 86_400_000;

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
    setKeyHash(id, hash) {
      return Promise.resolve(
        db.run("UPDATE credentials SET hash = ? WHERE id = ? AND type <> 'Password'", hash, id).changes > 0,
      );
    },
    setPassword(accountId, hash) {
      // Replaced in place: a new row would use up an id a restored snapshot may need for a key. What hangs
      // on the old password (push subscriptions made with it, src/mail/push_subscriptions.ts) goes, as the
      // deleted row's cascade would take it: a new password is a new credential.
      if (hash !== null) {
        db.run(
          `DELETE FROM push_subscriptions WHERE credential_id IN
             (SELECT id FROM credentials WHERE account_id = ? AND type = 'Password')`,
          accountId,
        );
      }
      if (
        hash !== null &&
        db.run(
            "UPDATE credentials SET hash = ?, created_at = ? WHERE account_id = ? AND type = 'Password'",
            hash,
            Date.now(),
            accountId,
          ).changes > 0
      ) return Promise.resolve();
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
    rememberLoginClient(accountId, clientHash, { at, keep }) {
      db.run(
        `INSERT INTO login_clients (account_id, client_hash, last_success_at) VALUES (?, ?, ?)
         ON CONFLICT (account_id, client_hash) DO UPDATE SET last_success_at = excluded.last_success_at`,
        accountId,
        clientHash,
        at,
      );
      const row = db.get<{ known: number }>(
        "SELECT count(*) AS known FROM login_clients WHERE account_id = ?",
        accountId,
      );
      if (Number(row?.known ?? 0) > keep) {
        db.run(
          `DELETE FROM login_clients WHERE account_id = ? AND client_hash NOT IN (
             SELECT client_hash FROM login_clients WHERE account_id = ?
             ORDER BY last_success_at DESC LIMIT ?)`,
          accountId,
          accountId,
          keep,
        );
      }
      return Promise.resolve();
    },
    noteRevokedKeys(hashes, at) {
      if (hashes.length === 0) return Promise.resolve();
      db.run("DELETE FROM revoked_key_hashes WHERE revoked_at < ?", at - REVOKED_KEY_MEMORY_MS);
      for (const hash of hashes) {
        db.run("INSERT OR REPLACE INTO revoked_key_hashes (hash, revoked_at) VALUES (?, ?)", hash, at);
      }
      return Promise.resolve();
    },
    wasRevoked(hash) {
      return Promise.resolve(db.get("SELECT 1 FROM revoked_key_hashes WHERE hash = ?", hash) !== undefined);
    },
    isLoginClient(accountId, clientHash) {
      const row = db.get(
        "SELECT 1 FROM login_clients WHERE account_id = ? AND client_hash = ?",
        accountId,
        clientHash,
      );
      return Promise.resolve(row !== undefined);
    },
  };
}
