import { DatabaseSync } from "node:sqlite";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../model/background.ts";
import { MIGRATIONS } from "./migrations/mod.ts";

/** How hard SQLite syncs to disk: NORMAL is safe with WAL; FULL survives power loss mid-commit. */
export type SynchronousMode = "NORMAL" | "FULL";

/** Options for opening the database file. */
export interface ConnectionOptions {
  synchronous?: SynchronousMode;
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) the database with Postern's pragmas and brings its schema up to date. */
export function openConnection(path: string, options: ConnectionOptions = {}): DatabaseSync {
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
  if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${options.synchronous === "FULL" ? "FULL" : "NORMAL"}`);
  db.exec("PRAGMA foreign_keys = ON");
  // Checkpoint every 64 MB of WAL rather than 4 MB: mail imports write much, and each checkpoint syncs
  // (figure 11 of `deno task bench --only email` imports 10 KB messages).
  db.exec("PRAGMA wal_autocheckpoint = 16384");
  migrate(db);
  return db;
}

/** Applies every migration newer than the database's `user_version`, each in its own transaction. */
export function migrate(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  let version = row.user_version;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `Database schema version ${version} is newer than this Postern (${MIGRATIONS.length}); upgrade Postern`,
    );
  }
  while (version < MIGRATIONS.length) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[version]);
      version++;
      db.exec(`PRAGMA user_version = ${version}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
  return version;
}
