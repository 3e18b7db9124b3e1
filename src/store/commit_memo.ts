/**
 * Small reads remembered until the next commit: a hot read (an IMAP mailbox's state, once per IMAP
 * command) is answered from memory while SQLite's WAL-index change counter (wal_signal.ts), which
 * every commit of any connection and process moves, has not moved since it was read.
 *
 * Each statement outside a transaction takes and drops SQLite's read lock on the WAL index, which
 * costs more than the lookup itself; a look at the counter is one memory read.
 *
 * Never trusted where the counter cannot tell: inside a transaction of this connection (its
 * uncommitted writes do not move the counter, and a rollback would leave a remembered value wrong),
 * without a counter (an in-memory database), or past `maxAgeMs` (the same bound as the directory
 * caches' full check, for a -shm file replaced behind SQLite's back). The counter is read before
 * the query, so a commit racing the read only makes the next look read again.
 */
import type { Db } from "./db.ts";

/** A memo of reads by key, valid while nothing was committed. */
export class CommitMemo<K, V> {
  readonly #entries = new Map<K, { signal: number; at: number; value: V }>();

  constructor(
    private readonly db: Db,
    /** The WAL-index change counter, or undefined when there is none to read. */
    private readonly signal: () => number | undefined,
    private readonly options: { maxAgeMs?: number; maxEntries?: number } = {},
  ) {}

  /** The value of `key`: remembered if nothing was committed since it was read, else `read()`. */
  get(key: K, read: () => V): V {
    if (this.db.raw.isTransaction) return read();
    const signal = this.signal();
    if (signal === undefined) return read();
    const now = performance.now();
    const kept = this.#entries.get(key);
    if (kept && kept.signal === signal && now - kept.at < (this.options.maxAgeMs ?? 250)) return kept.value;
    const value = read();
    if (kept) this.#entries.delete(key);
    else if (this.#entries.size >= (this.options.maxEntries ?? 1000)) {
      // The oldest entry goes (Map order is insertion order; an entry read again moves to the end).
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, { signal, at: now, value });
    return value;
  }
}
