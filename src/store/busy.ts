/** SQLite's "database is locked" (SQLITE_BUSY): another connection holds the write lock past the busy timeout. */
import { UnavailableError } from "../model/errors.ts";

/** SQLITE_BUSY; extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT) share its low byte. */
const SQLITE_BUSY = 5;

/**
 * How long a client is told to wait (`Retry-After`, seconds) when the database is busy: long enough for a
 * `postern apply` or `db check --repair` batch to move on, short enough that nobody waits for nothing.
 */
export const BUSY_RETRY_AFTER_SECONDS = 2;

/** Whether `error` is SQLite's SQLITE_BUSY, as node:sqlite throws it (`exec` carries only the message). */
export function isBusyError(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== "ERR_SQLITE_ERROR") return false;
  const errcode = (error as { errcode?: unknown }).errcode;
  if (typeof errcode === "number") return (errcode & 0xff) === SQLITE_BUSY;
  return error.message.startsWith("database is locked");
}

/** `error` as an {@link UnavailableError} when it is SQLITE_BUSY, else unchanged. */
export function busyAsUnavailable(error: unknown): unknown {
  if (error instanceof UnavailableError || !isBusyError(error)) return error;
  return busyError();
}

/** The answer to a write that waited its whole busy timeout for another process's lock. */
export function busyError(): UnavailableError {
  return new UnavailableError(
    "The database is busy with another process's write (a large import or repair); retry shortly",
    BUSY_RETRY_AFTER_SECONDS,
  );
}
