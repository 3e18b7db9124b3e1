/** Counts for the admin dashboard: failed logins per minute, and how much the store holds. */
import type { Db } from "./db.ts";

const MINUTE_MS = 60_000;
/** Minutes of failures kept: the dashboard reads one hour; the rest is margin for clocks and readers. */
const RETENTION_MINUTES = 2 * 24 * 60;

/** What the store holds, counted. */
export interface StoreCounts {
  mailboxes: number;
  messages: number;
}

/** Activity counters kept in the database, shared by every process on it. */
export interface ActivityLog {
  /** Counts one failed login at `at` (ms since the epoch). */
  recordLoginFailure(at: number): Promise<void>;
  /** Failed logins from the minute of `since` until now. */
  loginFailuresSince(since: number): Promise<number>;
  /** Rows of the tables the dashboard counts beyond the directory (which the object layer counts). */
  counts(): Promise<StoreCounts>;
}

/** SQLite implementation of {@link ActivityLog}. */
export function sqliteActivity(db: Db): ActivityLog {
  return {
    recordLoginFailure(at) {
      const minute = Math.floor(at / MINUTE_MS);
      const row = db.get<{ count: number }>(
        `INSERT INTO login_failures (minute, count) VALUES (?, 1)
         ON CONFLICT (minute) DO UPDATE SET count = count + 1 RETURNING count`,
        minute,
      );
      // The first failure of a minute prunes, so pruning costs one indexed delete per minute at most.
      if (row?.count === 1) db.run("DELETE FROM login_failures WHERE minute < ?", minute - RETENTION_MINUTES);
      return Promise.resolve();
    },
    loginFailuresSince(since) {
      const row = db.get<{ n: number | null }>(
        "SELECT sum(count) AS n FROM login_failures WHERE minute >= ?",
        Math.floor(since / MINUTE_MS),
      );
      return Promise.resolve(Number(row?.n ?? 0));
    },
    counts() {
      const count = (table: string) =>
        Number(db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)?.n ?? 0);
      return Promise.resolve({ mailboxes: count("mailboxes"), messages: count("emails") });
    },
  };
}
