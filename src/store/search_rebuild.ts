/**
 * The rebuild of the full-text index into a new one (migrations/049_search_prefix.ts) while the old
 * one serves: claimed batches of emails, in id order, whose search text the mail layer reads from
 * their messages, then a swap once every email up to the rebuild's `end_id` is in. Emails stored
 * after the migration go into both indexes when the indexer takes them (search_index.ts), so the swap
 * loses none; a deleted email leaves both (the delete trigger of migration 049).
 *
 * A claim is a lease in the row (`claimed_until`): one worker of all processes on the database works
 * at a time, and one that crashed loses its claim when the lease ends.
 */
import type { Db } from "./db.ts";

/** The text of a message that search indexes, by field. */
export interface SearchText {
  subject: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  body: string;
  attachments: string;
}

/** Where a claimed rebuild stands. */
export interface RebuildClaim {
  /** Every email with an id up to this one is in the new index. */
  doneThrough: number;
  /** The last email the rebuild must index itself (later ones were indexed as they were stored). */
  endId: number;
}

/** Persistence of the full-text rebuild. */
export interface SearchRebuildRepository {
  /** Claims the rebuild until `until` unless another worker holds it; undefined when there is none. */
  claim(now: number, until: number): Promise<RebuildClaim | undefined>;
  /** The next emails to index, after `after` up to `through`, with their messages. */
  next(after: number, through: number, limit: number): Promise<{ id: number; message: Uint8Array }[]>;
  /**
   * Adds the batch to the new index, records it done through `doneThrough` and gives the claim up,
   * under the claim taken until `claimedUntil` (false, writing nothing, when that claim was lost to
   * another worker).
   */
  write(
    entries: readonly { id: number; search: SearchText }[],
    progress: { doneThrough: number; claimedUntil: number },
  ): Promise<boolean>;
  /** Whether a rebuild is under way. */
  pending(): Promise<boolean>;
  /** Puts the new index in the old one's place once the rebuild is done; whether it did. */
  finish(): Promise<boolean>;
}

const COLUMNS = "rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments";

/** Inserts search rows into the full-text table `table` (email_search, or email_search_next). */
export function indexInto(
  db: Db,
  table: string,
  entries: readonly { id: number; search: SearchText }[],
): void {
  for (const { id, search: s } of entries) {
    db.run(
      `INSERT INTO ${table} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      s.subject,
      s.from,
      s.to,
      s.cc,
      s.bcc,
      s.body,
      s.attachments,
    );
  }
}

/**
 * The entries whose emails are still stored. An indexer reads emails before its write transaction, and
 * one deleted in between has left the index already (its delete trigger): it must not come back.
 */
export function stillStored<E extends { id: number }>(db: Db, entries: readonly E[]): E[] {
  const kept = new Set(
    db.all<{ id: number }>(
      "SELECT id FROM emails WHERE id IN (SELECT value FROM json_each(?))",
      JSON.stringify(entries.map((e) => e.id)),
    ).map((r) => Number(r.id)),
  );
  return entries.filter((e) => kept.has(e.id));
}

/** Whether a rebuild is under way (its new index exists and takes every new email too). */
export function rebuilding(db: Db): boolean {
  return db.get("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'search_rebuild'") !== undefined;
}

/** SQLite implementation of {@link SearchRebuildRepository}. */
export function sqliteSearchRebuild(db: Db): SearchRebuildRepository {
  return {
    claim(now, until) {
      if (!rebuilding(db)) return Promise.resolve(undefined);
      return db.transaction(() => {
        const row = db.get<{ doneThrough: number; endId: number }>(
          `UPDATE search_rebuild SET claimed_until = ? WHERE id = 1 AND claimed_until <= ?
           RETURNING done_through AS doneThrough, end_id AS endId`,
          until,
          now,
        );
        return row && { doneThrough: Number(row.doneThrough), endId: Number(row.endId) };
      });
    },
    next(after, through, limit) {
      const rows = db.all<{ id: number; message: Uint8Array }>(
        `SELECT e.id AS id, b.data AS message FROM emails e JOIN blobs b ON b.id = e.blob_id
         WHERE e.id > ? AND e.id <= ? ORDER BY e.id LIMIT ?`,
        after,
        through,
        limit,
      );
      return Promise.resolve(rows.map((r) => ({ id: Number(r.id), message: r.message })));
    },
    write(entries, progress) {
      return db.transaction(() => {
        if (!rebuilding(db)) return false;
        const moved = db.run(
          "UPDATE search_rebuild SET done_through = ?, claimed_until = 0 WHERE id = 1 AND claimed_until = ? AND done_through < ?",
          progress.doneThrough,
          progress.claimedUntil,
          progress.doneThrough,
        );
        if (moved.changes === 0) return false;
        // An email deleted since it was read has left both indexes already: it must not come back.
        indexInto(db, "email_search_next", stillStored(db, entries));
        return true;
      });
    },
    pending() {
      return Promise.resolve(rebuilding(db));
    },
    finish() {
      // Read first: with no rebuild (the usual case) no write lock is asked for, so a start while
      // another process writes (a large import) is not held up by it.
      if (!rebuilding(db)) return Promise.resolve(false);
      return db.transaction(() => {
        if (!rebuilding(db)) return false;
        const row = db.get<{ done: number }>("SELECT done_through >= end_id AS done FROM search_rebuild")!;
        if (!Number(row.done)) return false;
        db.raw.exec(`
          DROP TRIGGER emails_unsearchable;
          DROP TABLE email_search;
          ALTER TABLE email_search_next RENAME TO email_search;
          CREATE TRIGGER emails_unsearchable AFTER DELETE ON emails BEGIN
            DELETE FROM email_search WHERE rowid = OLD.id;
          END;
          DROP TABLE search_rebuild;`);
        return true;
      });
    },
  };
}
