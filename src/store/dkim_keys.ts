/**
 * DKIM keys of the local domains (migration 037). Private keys arrive sealed: the store never sees
 * one in clear. Every write logs its `DkimKey` changes (directory-wide, as the other management
 * types') in its own transaction, so x:DkimKey/changes follows creation, rotation and deletion.
 */
import { sqliteChanges } from "./changes.ts";
import type { Db, Row } from "./db.ts";

/** The signature algorithms a key is for: Ed25519 (RFC 8463) or RSA (RFC 6376). */
export type DkimAlgorithm = "ed25519" | "rsa";

/** A new key, as generated and sealed. */
export interface NewDkimKey {
  selector: string;
  algorithm: DkimAlgorithm;
  /** The p= value of the DNS record: base64 of the raw Ed25519 key or of the RSA SubjectPublicKeyInfo. */
  publicKey: string;
  privateKeySealed: string;
}

/** A stored key. */
export interface DkimKeyRecord extends NewDkimKey {
  id: number;
  domainId: number;
  /** Whether it signs; a retired key stays published until removed. */
  active: boolean;
  createdAt: number;
  retiredAt: number | null;
}

/** Persistence of DKIM keys. */
export interface DkimKeyRepository {
  get(id: number): Promise<DkimKeyRecord | undefined>;
  /** Every key, by domain then age. */
  list(): Promise<DkimKeyRecord[]>;
  /** The keys of a domain, oldest first. */
  ofDomain(domainId: number): Promise<DkimKeyRecord[]>;
  /** Ids of domains lacking an active key of some algorithm. */
  domainsWithoutKeys(): Promise<number[]>;
  /**
   * Adds active keys unless the domain has an active key of that algorithm or the selector is
   * taken (INSERT OR IGNORE: of two processes adding at once, one pair is kept); how many were added.
   */
  addIfAbsent(domainId: number, keys: readonly NewDkimKey[], now: number): Promise<number>;
  /** Retires the domain's active keys and adds `keys` as the active ones, in one transaction. */
  rotate(domainId: number, keys: readonly NewDkimKey[], now: number): Promise<void>;
  /** Deletes a retired key; whether one was deleted (an active key is never deleted here). */
  deleteRetired(id: number): Promise<boolean>;
  /** Ids of a domain's keys: what a domain's rename or deletion (ON DELETE CASCADE) changes. */
  idsOfDomain(domainId: number): Promise<number[]>;
}

function toRecord(row: Row): DkimKeyRecord {
  return {
    id: Number(row.id),
    domainId: Number(row.domain_id),
    selector: String(row.selector),
    algorithm: String(row.algorithm) as DkimAlgorithm,
    publicKey: String(row.public_key),
    privateKeySealed: String(row.private_key_sealed),
    active: Number(row.active) === 1,
    createdAt: Number(row.created_at),
    retiredAt: row.retired_at === null || row.retired_at === undefined ? null : Number(row.retired_at),
  };
}

/** SQLite implementation of {@link DkimKeyRepository}. */
export function sqliteDkimKeys(db: Db): DkimKeyRepository {
  const later = <T>(body: () => T) => new Promise<T>((resolve) => resolve(body()));
  const changes = sqliteChanges(db);
  const log = (kind: "created" | "updated" | "destroyed", ids: readonly number[]) =>
    changes.append(ids.map((objectId) => ({ type: "DkimKey", objectId, kind, accountId: null })));
  /** Inserts a key unless taken; its id, or undefined. Logs the creation. */
  const insert = (domainId: number, key: NewDkimKey, now: number) => {
    const { id, changes: added } = db.run(
      `INSERT OR IGNORE INTO dkim_keys (domain_id, selector, algorithm, public_key, private_key_sealed, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      domainId,
      key.selector,
      key.algorithm,
      key.publicKey,
      key.privateKeySealed,
      now,
    );
    if (!added) return undefined;
    log("created", [id]);
    return id;
  };
  return {
    get: (id) =>
      later(() => {
        const row = db.get("SELECT * FROM dkim_keys WHERE id = ?", id);
        return row && toRecord(row);
      }),
    list: () => later(() => db.all("SELECT * FROM dkim_keys ORDER BY domain_id, id").map(toRecord)),
    ofDomain: (domainId) =>
      later(() => db.all("SELECT * FROM dkim_keys WHERE domain_id = ? ORDER BY id", domainId).map(toRecord)),
    domainsWithoutKeys: () =>
      later(() =>
        db.all(
          `SELECT id FROM domains d WHERE
             (SELECT COUNT(DISTINCT algorithm) FROM dkim_keys k WHERE k.domain_id = d.id AND k.active = 1) < 2
           ORDER BY id`,
        ).map((r) => Number(r.id))
      ),
    addIfAbsent: (domainId, keys, now) =>
      db.transaction(() => {
        if (!db.get("SELECT 1 AS x FROM domains WHERE id = ?", domainId)) return 0;
        return keys.reduce((added, key) => added + (insert(domainId, key, now) === undefined ? 0 : 1), 0);
      }),
    rotate: (domainId, keys, now) =>
      db.transaction(() => {
        const retired = db.all(
          "UPDATE dkim_keys SET active = 0, retired_at = ? WHERE domain_id = ? AND active = 1 RETURNING id",
          now,
          domainId,
        ).map((r) => Number(r.id));
        log("updated", retired);
        for (const key of keys) insert(domainId, key, now);
      }),
    deleteRetired: (id) =>
      db.transaction(() => {
        if (db.run("DELETE FROM dkim_keys WHERE id = ? AND active = 0", id).changes !== 1) return false;
        log("destroyed", [id]);
        return true;
      }),
    idsOfDomain: (domainId) =>
      later(() =>
        db.all("SELECT id FROM dkim_keys WHERE domain_id = ? ORDER BY id", domainId).map((r) => Number(r.id))
      ),
  };
}
