/**
 * The full-text index filled after the commit (migrations/051_search_watermark.ts): storing an email
 * does not write `email_search`; an indexer reads the emails after the watermark in id order, with
 * their messages, and adds them in one short transaction that moves the watermark. Emails with an id
 * past `indexed_through` are exactly those not indexed yet (ids grow in commit order), so a query
 * that first waits for the watermark to reach the newest email misses none.
 *
 * Two indexers (two processes, or a worker and the thread that could not wait for it) never index a
 * batch twice: a batch is written only if the watermark is still where its indexer read it
 * (compare-and-set in the write transaction). The lease (`claimed_until`) keeps the others from
 * parsing the same messages for nothing; it is taken by a write of its own only when it was free or
 * lapsed, and renewed by each batch, so a busy indexer commits once per batch.
 */
import type { Db } from "./db.ts";
import { indexInto, rebuilding, type SearchText, stillStored } from "./search_rebuild.ts";

/** Where the index stands. */
export interface SearchIndexState {
  /** Every email with an id up to this one is in the index. */
  indexedThrough: number;
  /** The newest email stored (0 when there is none). */
  latest: number;
  /** The indexer's lease, in ms since the epoch (free once past). */
  claimedUntil: number;
}

/** A stored email to index: its message (null when its blob is gone). */
export interface UnindexedEmail {
  id: number;
  message: Uint8Array | null;
}

/** How a batch moves the watermark and the lease. */
export interface IndexProgress {
  /** The watermark the batch was read after: nothing is written if it moved meanwhile. */
  from: number;
  /** The watermark after the batch (its last email). */
  through: number;
  /** The lease the indexer holds; undefined: write regardless of the lease (the watermark still decides). */
  claimedUntil: number | undefined;
  /** The lease's new end. */
  until: number;
}

/** Persistence of the watermark, the lease and the batches. */
export interface SearchIndexRepository {
  /** The watermark, the newest email and the lease (one read). */
  state(): Promise<SearchIndexState>;
  /** Takes the lease until `until` if it still ends at `seen` (free or lapsed); whether it did. */
  claim(seen: number, until: number): Promise<boolean>;
  /** Gives the lease up if it is still the one taken until `until` (an indexer that stops). */
  release(until: number): Promise<void>;
  /** The next emails after `after`, in id order: at most `limit`, and past the first, at most `bytes`. */
  next(after: number, limit: { emails: number; bytes: number }): Promise<UnindexedEmail[]>;
  /**
   * Adds the batch to the index (and to the new one while a rebuild runs), leaving out emails deleted
   * since they were read, and moves the watermark; false, writing nothing, when the watermark or the
   * lease is no longer what the indexer read.
   */
  write(entries: readonly { id: number; search: SearchText }[], progress: IndexProgress): Promise<boolean>;
}

/** What the emails repository tells the indexer and asks of it; the mail layer sets both. */
export interface SearchIndexHooks {
  /** Called after each commit that stored emails. */
  stored(): void;
  /** Resolves once every email committed before the call is in the index. */
  caughtUp(): Promise<void>;
}

/** SQLite implementation of {@link SearchIndexRepository}. */
export function sqliteSearchIndex(db: Db): SearchIndexRepository {
  const readNext = (after: number, limit: { emails: number; bytes: number }) => {
    const out: UnindexedEmail[] = [];
    let bytes = 0;
    for (
      const row of db.iterate<{ id: number; message: Uint8Array | null }>(
        `SELECT e.id AS id, b.data AS message FROM emails e LEFT JOIN blobs b ON b.id = e.blob_id
         WHERE e.id > ? ORDER BY e.id LIMIT ?`,
        after,
        limit.emails,
      )
    ) {
      out.push({ id: Number(row.id), message: row.message });
      bytes += row.message?.length ?? 0;
      if (bytes >= limit.bytes) break;
    }
    return out;
  };
  return {
    state() {
      const row = db.get<{ through: number; latest: number; until: number }>(
        `SELECT indexed_through AS through, claimed_until AS until,
         (SELECT coalesce(max(id), 0) FROM emails) AS latest FROM search_index WHERE id = 1`,
      )!;
      return Promise.resolve({
        indexedThrough: Number(row.through),
        latest: Number(row.latest),
        claimedUntil: Number(row.until),
      });
    },
    claim(seen, until) {
      return db.transaction(() =>
        db.run("UPDATE search_index SET claimed_until = ? WHERE id = 1 AND claimed_until = ?", until, seen)
          .changes === 1
      );
    },
    release(until) {
      return db.transaction(() => {
        db.run("UPDATE search_index SET claimed_until = 0 WHERE id = 1 AND claimed_until = ?", until);
      });
    },
    next(after, limit) {
      // A read on this connection while one of its transactions is open would see that transaction's
      // emails before their commit; a rollback then frees their ids for others, which the watermark
      // would already have passed. So such a read waits for the transaction (or, called from inside
      // it, joins it, and the batch's write commits or rolls back with those emails).
      return db.inTransaction
        ? db.transaction(() => readNext(after, limit))
        : Promise.resolve(readNext(after, limit));
    },
    write(entries, progress) {
      return db.transaction(() => {
        const moved = progress.claimedUntil === undefined
          ? db.run(
            "UPDATE search_index SET indexed_through = ? WHERE id = 1 AND indexed_through = ?",
            progress.through,
            progress.from,
          )
          : db.run(
            `UPDATE search_index SET indexed_through = ?, claimed_until = ?
             WHERE id = 1 AND indexed_through = ? AND claimed_until = ?`,
            progress.through,
            progress.until,
            progress.from,
            progress.claimedUntil,
          );
        if (moved.changes === 0) return false;
        const indexed = stillStored(db, entries);
        indexInto(db, "email_search", indexed);
        // While the index is rebuilt (search_rebuild.ts), the new one gets the emails past the
        // rebuild's own end too.
        if (rebuilding(db)) {
          const end = Number(db.get<{ end: number }>("SELECT end_id AS end FROM search_rebuild")!.end);
          indexInto(db, "email_search_next", indexed.filter((e) => e.id > end));
        }
        return true;
      });
    },
  };
}
