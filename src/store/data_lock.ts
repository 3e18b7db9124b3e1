/**
 * The lock file beside the database (`postern.db.lock`): every process that opens the database holds a
 * shared lock on it for as long as it has it open, and `postern restore` takes it exclusively. The
 * locks are flock(2) locks, which the kernel drops when a process ends however it ends (kill -9
 * included), so a lock file left behind is never mistaken for a running server.
 */
import { MisconfigurationError } from "../model/errors.ts";

/** The lock file of the database at `databasePath`. */
export function lockPathOf(databasePath: string): string {
  return `${databasePath}.lock`;
}

/** A held lock; close() releases it. */
export interface DataLock {
  close(): void;
}

/** Holds the shared lock of an open database; refused while a restore replaces the database. */
export function holdSharedLock(databasePath: string): DataLock {
  const file = openLockFile(databasePath);
  if (!file.tryLockSync(false)) {
    file.close();
    throw new MisconfigurationError(
      `Database ${databasePath} is being restored (postern restore holds ${lockPathOf(databasePath)}); ` +
        "start again when it has finished",
    );
  }
  return file;
}

/** The exclusive lock, or undefined while any process (a server, the CLI, the admin UI) has the database open. */
export function tryExclusiveLock(databasePath: string): DataLock | undefined {
  const file = openLockFile(databasePath);
  if (file.tryLockSync(true)) return file;
  file.close();
  return undefined;
}

function openLockFile(databasePath: string): Deno.FsFile {
  return Deno.openSync(lockPathOf(databasePath), { read: true, write: true, create: true, mode: 0o600 });
}
