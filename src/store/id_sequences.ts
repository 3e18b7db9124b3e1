import type { Db } from "./db.ts";

/** The tables whose ids a snapshot can carry over to another data directory. */
export type SequencedTable = "domains" | "accounts" | "credentials" | "oauth_clients";

/** The AUTOINCREMENT counters, moved forward only (ids are never reused). */
export interface IdSequences {
  /**
   * Makes `next` the id of the table's next row, when no row ever had that id or a later one;
   * false (and nothing changed) otherwise.
   */
  advanceTo(table: SequencedTable, next: number): Promise<boolean>;
}

/** SQLite implementation of {@link IdSequences}. */
export function sqliteIdSequences(db: Db): IdSequences {
  return {
    advanceTo(table, next) {
      const row = db.get<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = ?", table);
      const current = row?.seq ?? 0;
      if (current >= next) return Promise.resolve(false);
      if (row) db.run("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", next - 1, table);
      else db.run("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", table, next - 1);
      return Promise.resolve(true);
    },
  };
}
