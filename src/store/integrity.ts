import type { Db } from "./db.ts";

/** One row that references something that no longer exists. */
export interface DanglingRow {
  table: string;
  rowid: number | null;
  references: string;
  detail: string;
}

/** An account whose stored usage (account_usage, kept by triggers) differs from a recount. */
export interface UsageMismatch {
  accountId: number;
  /** What account_usage holds (what quotas read). */
  recorded: number;
  /** What its emails and uploads come to (migrations/046_email_copies.ts). */
  counted: number;
  detail: string;
}

/** The outcome of a database check. */
export interface IntegrityReport {
  ok: boolean;
  integrity: string[];
  dangling: DanglingRow[];
  /** Accounts whose used bytes are wrong (before a repair set them right). */
  usage: UsageMismatch[];
  repaired: number;
}

/** Integrity checks behind startup and `postern db check`. */
export interface IntegrityChecker {
  /**
   * Runs SQLite's integrity check, the foreign-key check and a recount of every account's used
   * bytes; with `repair`, deletes dangling rows and sets wrong used bytes to the recount.
   */
  check(options?: { repair?: boolean }): Promise<IntegrityReport>;
}

/**
 * Each account's used bytes recounted from its emails and uploads (each email's blob, and each blob
 * it uploaded that no email of it files), where account_usage says otherwise.
 */
const USAGE_MISMATCHES = `
WITH counted (account_id, bytes) AS (
  SELECT account_id, sum(size) FROM (
    SELECT e.account_id, b.size FROM emails e JOIN blobs b ON b.id = e.blob_id
    UNION ALL
    SELECT l.account_id, b.size FROM (SELECT DISTINCT account_id, blob_id FROM uploads) l
      JOIN blobs b ON b.id = l.blob_id
    WHERE NOT EXISTS (SELECT 1 FROM emails e WHERE e.account_id = l.account_id AND e.blob_id = l.blob_id))
  GROUP BY account_id)
SELECT a.id AS account_id, coalesce(u.bytes, 0) AS recorded, coalesce(c.bytes, 0) AS counted
FROM accounts a LEFT JOIN account_usage u ON u.account_id = a.id LEFT JOIN counted c ON c.account_id = a.id
WHERE coalesce(u.bytes, 0) <> coalesce(c.bytes, 0)`;

/** One row of `PRAGMA foreign_key_check`. */
export interface ForeignKeyViolation {
  table: string;
  rowid: number | null;
  parent: string;
  fkid: number;
}

/** The part of a SQLite connection the checks use (node:sqlite's DatabaseSync has it). */
export interface CheckedConnection {
  prepare(sql: string): {
    all(...params: (number | string)[]): unknown[];
    get(...params: (number | string)[]): unknown;
    run(...params: (number | string)[]): { changes: number | bigint };
  };
  exec(sql: string): void;
}

/**
 * SQLite's integrity check and the foreign-key check on `raw`, read only: what
 * {@link IntegrityChecker.check} reports without repairing. Also run by the start's background check
 * (integrity_worker.ts) on a connection of its own.
 */
export function findProblems(raw: CheckedConnection): {
  integrity: string[];
  violations: ForeignKeyViolation[];
  dangling: DanglingRow[];
  usage: UsageMismatch[];
} {
  const describe = (v: ForeignKeyViolation): DanglingRow => {
    const fk = raw.prepare(`PRAGMA foreign_key_list(${quoteIdent(v.table)})`).all() as {
      id: number;
      from: string;
      to: string;
    }[];
    const columns = fk.filter((f) => f.id === v.fkid).map((f) => f.from);
    let detail = `${v.table} row ${v.rowid ?? "?"} references a missing ${v.parent}`;
    if (v.rowid !== null && columns.length) {
      const row = raw.prepare(
        `SELECT ${columns.map(quoteIdent).join(", ")} FROM ${quoteIdent(v.table)} WHERE rowid = ?`,
      ).get(v.rowid) as Record<string, unknown> | undefined;
      if (row) detail += ` (${columns.map((c) => `${c}=${row[c]}`).join(", ")})`;
    }
    return { table: v.table, rowid: v.rowid, references: v.parent, detail };
  };
  const integrity = (raw.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[])
    .map((r) => r.integrity_check)
    .filter((m) => m !== "ok");
  const violations = raw.prepare("PRAGMA foreign_key_check").all() as ForeignKeyViolation[];
  const usage = (raw.prepare(USAGE_MISMATCHES).all() as {
    account_id: number;
    recorded: number;
    counted: number;
  }[])
    .map((r): UsageMismatch => ({
      accountId: Number(r.account_id),
      recorded: Number(r.recorded),
      counted: Number(r.counted),
      detail:
        `account ${r.account_id} is recorded as using ${r.recorded} bytes; its mail and uploads come to ${r.counted}`,
    }));
  return { integrity, violations, dangling: violations.map(describe), usage };
}

/** SQLite implementation of {@link IntegrityChecker}. */
export function sqliteIntegrity(db: Db): IntegrityChecker {
  return {
    check(options = {}) {
      const { integrity, violations, dangling, usage } = findProblems(db.raw);
      let repaired = 0;
      if (options.repair && (violations.length || usage.length)) {
        db.raw.exec("BEGIN IMMEDIATE");
        try {
          for (const v of violations) {
            if (v.rowid !== null) {
              repaired += Number(
                db.raw.prepare(`DELETE FROM ${quoteIdent(v.table)} WHERE rowid = ?`).run(v.rowid).changes,
              );
            }
          }
          // WITHOUT ROWID tables report no rowid: remove their orphans by their keys.
          repaired += Number(
            db.raw.prepare(
              `DELETE FROM group_members WHERE group_id NOT IN (SELECT id FROM accounts)
               OR member_id NOT IN (SELECT id FROM accounts)`,
            ).run().changes,
          );
          const setUsage = db.raw.prepare(
            `INSERT INTO account_usage (account_id, bytes) VALUES (?, ?)
             ON CONFLICT (account_id) DO UPDATE SET bytes = excluded.bytes`,
          );
          for (const u of usage) repaired += Number(setUsage.run(u.accountId, u.counted).changes);
          db.raw.exec("COMMIT");
        } catch (error) {
          db.raw.exec("ROLLBACK");
          throw error;
        }
      }
      return Promise.resolve({
        ok: integrity.length === 0 && dangling.length === 0 && usage.length === 0,
        integrity,
        dangling,
        usage,
        repaired,
      });
    },
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
