/**
 * An Email/query with the account's Email state read in the same snapshot, so that the ids and total
 * it returns and the queryState the response carries describe one database: on a read worker
 * (read_worker.ts) both reads run in one read transaction; on the main thread, where a transaction
 * cannot be opened at will, both run in one synchronous step (nothing of this process writes between
 * them).
 */
import { emailChangePosition } from "./changes.ts";
import type { Db } from "./db.ts";
import { listedMailbox, runEmailQuery } from "./email_query.ts";
import type { EmailFilter, EmailQuery, EmailQueryResult } from "./email_query_types.ts";

/** The query and the state in one read transaction (a connection of a read worker, never in a transaction). */
export function snapshotEmailQuery(db: Db, query: EmailQuery): EmailQueryResult {
  db.raw.exec("BEGIN");
  try {
    // A deferred transaction takes its snapshot at its first read: this one.
    const state = emailChangePosition(db, query.accountId);
    return { ...runEmailQuery(db, query), state };
  } finally {
    db.raw.exec("COMMIT");
  }
}

/** The query and the state on the main connection, in one synchronous step. */
export function mainThreadEmailQuery(db: Db, query: EmailQuery): EmailQueryResult {
  const state = emailChangePosition(db, query.accountId);
  return { ...runEmailQuery(db, query), state };
}

/**
 * Whether the query runs on the main thread rather than a read worker:
 *
 * - a `header` condition calls a function of the mail service (the MIME parser) that only the main
 *   connection has;
 * - a mailbox listed by date reads only its window from the mailbox's date index (tens of
 *   microseconds): handing it to a worker and back cost more CPU than it saves, measured with
 *   scripts/bench/cores.ts (mailbox listing).
 */
export function staysOnMainThread(query: EmailQuery): boolean {
  const uses = (filter: EmailFilter): boolean =>
    "condition" in filter ? filter.condition.header !== undefined : filter.conditions.some(uses);
  return (query.filter !== null && uses(query.filter)) || listedMailbox(query) !== undefined;
}
