/**
 * An online copy of the database while other processes write to it, with SQLite's backup API, and a
 * copy put back in place (a restore). The copy reads one snapshot: a read transaction is held across
 * every step, so commits of other connections (which WAL lets go on meanwhile) neither restart the
 * copy nor get into it half-way.
 */
import { backup, DatabaseSync } from "node:sqlite";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../model/background.ts";
import { renewUidValidity } from "./imap.ts";

/** Pages copied per step: progress is reported after each. */
const PAGES_PER_STEP = 256;

/** What a copy holds. */
export interface DatabaseCopy {
  /** The copied database's `user_version`. */
  schemaVersion: number;
  pages: number;
}

/**
 * Copies the database at `source` to `target` (a file that must not exist) as one consistent snapshot,
 * then makes the copy a single self-contained file (rollback journal, no -wal) and checks it.
 */
export async function copyDatabase(
  source: string,
  target: string,
  options: { onProgress?: (done: number, total: number) => void } = {},
): Promise<DatabaseCopy> {
  const db = new DatabaseSync(source, { readOnly: true });
  let schemaVersion: number;
  let pages: number;
  try {
    db.exec(`PRAGMA busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
    db.exec("BEGIN");
    schemaVersion = Number(db.prepare("PRAGMA user_version").get()?.user_version);
    pages = Number(db.prepare("PRAGMA page_count").get()?.page_count);
    await backup(db, target, {
      rate: PAGES_PER_STEP,
      progress: ({ totalPages, remainingPages }) =>
        options.onProgress?.(totalPages - remainingPages, totalPages),
    });
    db.exec("COMMIT");
  } finally {
    db.close();
  }
  // The servers that ran on the original are not running on the copy (see servers.ts).
  const copy = new DatabaseSync(target);
  try {
    if (copy.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'servers'").get()) {
      copy.exec("DELETE FROM servers");
    }
  } finally {
    copy.close();
  }
  const problems = checkDatabaseFile(target, { selfContained: true });
  if (problems.length > 0) throw new Error(`The copy of ${source} failed its check: ${problems[0]}`);
  options.onProgress?.(pages, pages);
  return { schemaVersion, pages };
}

/**
 * SQLite's integrity check of a database file: an empty list when it passes. With `selfContained`
 * the file is first switched to a rollback journal, so it needs no -wal beside it.
 */
export function checkDatabaseFile(path: string, options: { selfContained?: boolean } = {}): string[] {
  const db = new DatabaseSync(path, { readOnly: !options.selfContained });
  try {
    if (options.selfContained) db.exec("PRAGMA journal_mode = DELETE");
    const rows = db.prepare("PRAGMA integrity_check").all();
    const messages = rows.map((row) => String(Object.values(row)[0]));
    return messages.length === 1 && messages[0] === "ok" ? [] : messages;
  } finally {
    db.close();
  }
}

/**
 * Puts the database file `source` in place at `databasePath`, replacing what is there. The caller
 * holds the exclusive lock (see data_lock.ts): no process has the database open. The old -wal and
 * -shm go first, since SQLite would otherwise replay the old database's log over the new one.
 */
export async function installDatabase(source: string, databasePath: string): Promise<void> {
  const temp = `${databasePath}.restoring`;
  await Deno.copyFile(source, temp);
  // UIDs handed out since the backup will be handed out again: IMAP clients must drop their caches.
  const db = new DatabaseSync(temp);
  try {
    renewUidValidity(db);
  } finally {
    db.close();
  }
  await syncFile(temp);
  for (const suffix of ["-wal", "-shm", "-journal"]) {
    await Deno.remove(databasePath + suffix).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  await Deno.rename(temp, databasePath);
}

/** Flushes a file (or a directory's entries) to disk. */
export async function syncFile(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.sync();
  } finally {
    file.close();
  }
}
