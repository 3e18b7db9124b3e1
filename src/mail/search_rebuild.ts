/**
 * The worker that fills a new full-text index from the messages themselves (the index is contentless:
 * it keeps no text to rebuild from), after a migration changed how the index is built
 * (store/migrations/049_search_prefix.ts). Background work as rows: each call claims the rebuild in
 * the database, indexes one batch of emails in id order and records how far it got, so the work is
 * done once by one process of several, resumes where it stopped after a restart, and a crashed
 * worker's claim lapses for another to take. The old index serves every query until the new one
 * holds every email; then the store swaps them.
 */
import type { Store } from "../store/mod.ts";
import { searchTextOf } from "./search_index.ts";

/** How long a claim holds: far longer than a batch takes. */
export const REBUILD_LEASE_MS = 60_000;
/** Emails indexed per call: a batch is one short transaction, so the server keeps answering meanwhile. */
export const REBUILD_BATCH = 100;

/** What one call of {@link SearchRebuild.runBatch} did. */
export type RebuildStep = "none" | "claimed elsewhere" | "indexed" | "finished";

/** Rebuilds the full-text index in claimed batches; server.ts wakes it, tests call it. */
export class SearchRebuild {
  constructor(private readonly store: Store) {}

  /** Indexes the next batch, or swaps the indexes once all are in. */
  async runBatch(now = Date.now(), limit = REBUILD_BATCH): Promise<RebuildStep> {
    const until = now + REBUILD_LEASE_MS;
    const claim = await this.store.searchRebuild.claim(now, until);
    if (!claim) return await this.pending() ? "claimed elsewhere" : "none";
    const emails = await this.store.searchRebuild.next(claim.doneThrough, claim.endId, limit);
    if (emails.length === 0) {
      await this.store.searchRebuild.write([], { doneThrough: claim.endId, claimedUntil: until });
      return await this.store.searchRebuild.finish() ? "finished" : "claimed elsewhere";
    }
    const entries = [];
    for (const email of emails) {
      entries.push({ id: email.id, search: await searchTextOf(email) });
    }
    const written = await this.store.searchRebuild.write(entries, {
      doneThrough: emails.at(-1)!.id,
      claimedUntil: until,
    });
    return written ? "indexed" : "claimed elsewhere";
  }

  /** Whether a rebuild is under way. */
  pending(): Promise<boolean> {
    return this.store.searchRebuild.pending();
  }
}
