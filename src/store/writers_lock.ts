/**
 * The writers' lock beside the database (`postern.db.writers`), for processes that all write the
 * same database at once (`postern serve --processes N`): each transaction takes it (flock, exclusive)
 * before BEGIN IMMEDIATE and drops it after COMMIT (store/db.ts), so they take turns in the kernel's
 * order instead of in SQLite's busy handler.
 *
 * Why: SQLite's busy handler polls, sleeping 1, 2, 5, 10 … then 100 ms between tries, on the event
 * loop. A process that writes all the time (an MX storing hundreds of messages a second) takes the
 * lock again within microseconds of its COMMIT, so the other one, asleep, rarely finds it free: under
 * the inbound benchmark (scripts/bench/mx_inbound.ts --processes 2, one process slowed by a profiler)
 * it waited out the whole busy timeout and answered "451 4.3.0 Local error" for messages it had
 * received. A flock waiter is woken when the lock is dropped, and waits in a thread of its own, so
 * its event loop goes on serving meanwhile. A holder that dies, however it dies, drops it (the kernel).
 *
 * Only the serving processes take it: a CLI or admin UI in local mode writes as before (busy timeout,
 * then UnavailableError), and a serving process that waits for such a write still gets the busy
 * timeout's answer, while holding this lock, so the others wait at most as long.
 */

/** The writers' lock file of the database at `databasePath`. */
export function writersLockPathOf(databasePath: string): string {
  return `${databasePath}.writers`;
}

/** Opens (creating) the lock file at `path`; store/db.ts locks and unlocks it around each transaction. */
export function openWritersLock(path: string): Deno.FsFile {
  return Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
}
