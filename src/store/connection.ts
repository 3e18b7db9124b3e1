import { copyStamp, pruneCopies } from "./backup_files.ts";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../model/background.ts";
import { MisconfigurationError } from "../model/errors.ts";
import { MIGRATIONS } from "./migrations/mod.ts";

/** How hard SQLite syncs to disk: NORMAL is safe with WAL; FULL survives power loss mid-commit. */
export type SynchronousMode = "NORMAL" | "FULL";

/** Options for opening the database file. */
export interface ConnectionOptions {
  synchronous?: SynchronousMode;
  busyTimeoutMs?: number;
  /** Copy a database that holds data next to itself before migrating it (default true; --no-backup). */
  migrationBackup?: boolean;
  /** Told after an upgrade of a database that held data: the versions and where the copy went (if made). */
  onMigration?: (step: { from: number; to: number; backup: string | undefined }) => void;
}

/** Opens (creating if needed) the database with Postern's pragmas and brings its schema up to date. */
export function openConnection(path: string, options: ConnectionOptions = {}): DatabaseSync {
  // A database of a newer Postern is refused before any write (even the journal-mode pragma).
  if (path !== ":memory:") refuseNewerSchema(storedSchemaVersion(path), path);
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
    if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${options.synchronous === "FULL" ? "FULL" : "NORMAL"}`);
    db.exec("PRAGMA foreign_keys = ON");
    // Checkpoint every 64 MB of WAL rather than 4 MB: mail imports write much, and each checkpoint syncs
    // (figure 11 of `deno task bench --only email` imports 10 KB messages).
    db.exec("PRAGMA wal_autocheckpoint = 16384");
    upgrade(db, path, options);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** The schema version (`user_version`) of the database file at `path`, read without writing; 0 if absent. */
export function storedSchemaVersion(path: string): number {
  try {
    Deno.statSync(path);
  } catch {
    return 0;
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  } finally {
    db.close();
  }
}

function refuseNewerSchema(version: number, path?: string): void {
  if (version > MIGRATIONS.length) {
    throw new MisconfigurationError(
      `Database ${path ?? ""}`.trimEnd() +
        ` has schema version ${version}, newer than this Postern knows (${MIGRATIONS.length}); ` +
        "run the newer Postern that wrote it or restore a backup",
    );
  }
}

/** Migrates `db`, copying it first when it holds data; a failed migration is one line naming it. */
function upgrade(db: DatabaseSync, path: string, options: ConnectionOptions): void {
  const from = schemaVersion(db);
  if (from === MIGRATIONS.length) return;
  let backup: string | undefined;
  if (from > 0 && path !== ":memory:" && options.migrationBackup !== false) {
    backup = `${path}.schema-${from}.${copyStamp()}.bak`;
    db.prepare("VACUUM INTO ?").run(backup);
    const file = Deno.openSync(backup, { read: true });
    try {
      file.syncSync();
    } finally {
      file.close();
    }
  }
  try {
    migrate(db);
  } catch (error) {
    const at = schemaVersion(db);
    // SQLite quotes the failing statement after " in " (several lines): the cause alone keeps one line.
    const cause = (error instanceof Error ? error.message : String(error)).split(/ in \n|\n/)[0];
    throw new MisconfigurationError(
      `Cannot upgrade database ${path} from schema ${from} to ${MIGRATIONS.length}: migration ${at + 1} ` +
        `failed (${cause}); the database stays at schema ${at}` +
        (backup ? `, copy of schema ${from} at ${backup}` : ""),
    );
  }
  // The newest copies stay; older ones go once this upgrade has worked.
  if (backup) pruneCopies(path, "schema");
  if (from > 0) options.onMigration?.({ from, to: MIGRATIONS.length, backup });
}

function schemaVersion(db: DatabaseSync): number {
  return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
}

/** Applies every migration newer than the database's `user_version`, each in its own transaction. */
export function migrate(db: DatabaseSync): number {
  let version = schemaVersion(db);
  refuseNewerSchema(version);
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
