import type { Db } from "./db.ts";

/** One row that references something that no longer exists. */
export interface DanglingRow {
  table: string;
  rowid: number | null;
  references: string;
  detail: string;
}

/** The outcome of a database check. */
export interface IntegrityReport {
  ok: boolean;
  integrity: string[];
  dangling: DanglingRow[];
  repaired: number;
}

/** Integrity checks behind startup and `postern db check`. */
export interface IntegrityChecker {
  /** Runs SQLite's integrity check and the foreign-key check; with `repair`, deletes dangling rows. */
  check(options?: { repair?: boolean }): Promise<IntegrityReport>;
}

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
  return { integrity, violations, dangling: violations.map(describe) };
}

/** SQLite implementation of {@link IntegrityChecker}. */
export function sqliteIntegrity(db: Db): IntegrityChecker {
  return {
    check(options = {}) {
      const { integrity, violations, dangling } = findProblems(db.raw);
      let repaired = 0;
      if (options.repair && violations.length) {
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
          db.raw.exec("COMMIT");
        } catch (error) {
          db.raw.exec("ROLLBACK");
          throw error;
        }
      }
      return Promise.resolve({
        ok: integrity.length === 0 && dangling.length === 0,
        integrity,
        dangling,
        repaired,
      });
    },
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
