import type { DmarcEnforcement, Domain, MtaStsMode } from "../model/types.ts";
import { CommitMemo } from "./commit_memo.ts";
import type { Db, Row } from "./db.ts";

/** Persistence of domains. */
export interface DomainRepository {
  insert(
    domain: {
      name: string;
      description: string | null;
      dmarcEnforcement?: DmarcEnforcement;
      catchAll?: string | null;
      mtaStsMode?: MtaStsMode;
    },
  ): Promise<number>;
  get(id: number): Promise<Domain | undefined>;
  getByName(name: string): Promise<Domain | undefined>;
  list(): Promise<Domain[]>;
  update(id: number, fields: DomainFields): Promise<void>;
  /** Names of the accounts and addresses that keep this domain in use. */
  usage(id: number): Promise<string[]>;
  delete(id: number): Promise<boolean>;
}

/** The changeable fields of a domain. */
export interface DomainFields {
  name?: string;
  description?: string | null;
  catchAll?: string | null;
  dmarcEnforcement?: DmarcEnforcement;
  mtaStsMode?: MtaStsMode;
}

function toDomain(row: Row): Domain {
  return {
    id: Number(row.id),
    name: String(row.name),
    description: row.description === null ? null : String(row.description),
    dmarcEnforcement: String(row.dmarc_enforcement) as DmarcEnforcement,
    catchAll: row.catch_all === null || row.catch_all === undefined ? null : String(row.catch_all),
    mtaStsMode: String(row.mta_sts_mode ?? "testing") as MtaStsMode,
    createdAt: Number(row.created_at),
  };
}

/** SQLite implementation of {@link DomainRepository}. */
export function sqliteDomains(
  db: Db,
  changeSignal: () => number | undefined = () => undefined,
): DomainRepository {
  // A domain by name, read again only after a commit (commit_memo.ts): the MX looks up the domain of
  // every recipient. Each caller gets its own copy.
  const byName = new CommitMemo<string, Domain | undefined>(db, changeSignal);
  return {
    insert(domain) {
      const { id } = db.run(
        "INSERT INTO domains (name, description, dmarc_enforcement, catch_all, mta_sts_mode, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        domain.name,
        domain.description,
        domain.dmarcEnforcement ?? "enforce",
        domain.catchAll ?? null,
        domain.mtaStsMode ?? "testing",
        Date.now(),
      );
      return Promise.resolve(id);
    },
    get(id) {
      const row = db.get("SELECT * FROM domains WHERE id = ?", id);
      return Promise.resolve(row && toDomain(row));
    },
    getByName(name) {
      const domain = byName.get(name, () => {
        const row = db.get("SELECT * FROM domains WHERE name = ?", name);
        return row && toDomain(row);
      });
      return Promise.resolve(domain && { ...domain });
    },
    list() {
      return Promise.resolve(db.all("SELECT * FROM domains ORDER BY id").map(toDomain));
    },
    update(id, fields) {
      if (fields.name !== undefined) db.run("UPDATE domains SET name = ? WHERE id = ?", fields.name, id);
      if (fields.description !== undefined) {
        db.run("UPDATE domains SET description = ? WHERE id = ?", fields.description, id);
      }
      if (fields.dmarcEnforcement !== undefined) {
        db.run("UPDATE domains SET dmarc_enforcement = ? WHERE id = ?", fields.dmarcEnforcement, id);
      }
      if (fields.catchAll !== undefined) {
        db.run("UPDATE domains SET catch_all = ? WHERE id = ?", fields.catchAll, id);
      }
      if (fields.mtaStsMode !== undefined) {
        db.run("UPDATE domains SET mta_sts_mode = ? WHERE id = ?", fields.mtaStsMode, id);
      }
      return Promise.resolve();
    },
    usage(id) {
      const rows = db.all<{ address: string }>(
        `SELECT a.local_part || '@' || d.name AS address FROM addresses a JOIN domains d ON d.id = a.domain_id
         WHERE a.domain_id = ?1
         UNION SELECT ac.name || '@' || d.name FROM accounts ac JOIN domains d ON d.id = ac.domain_id
         WHERE ac.domain_id = ?1 ORDER BY 1 LIMIT 20`,
        id,
      );
      return Promise.resolve(rows.map((r) => r.address));
    },
    delete(id) {
      return Promise.resolve(db.run("DELETE FROM domains WHERE id = ?", id).changes > 0);
    },
  };
}
