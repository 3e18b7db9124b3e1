import type { InvalidationEvent } from "../model/types.ts";
import type { Db } from "./db.ts";
import { openWalSignal, type WalSignal } from "./wal_signal.ts";

/** How long invalidation rows are kept: far longer than any process can lag behind. */
const RETENTION_MS = 24 * 60 * 60 * 1000;

/** The cross-process invalidation log. */
export interface InvalidationLog {
  /** Appends events; call inside the transaction of the write they describe. */
  append(events: InvalidationEvent[]): Promise<void>;
  /**
   * Events after `afterId`, oldest first, with the id of the last one; `gap` when rows after
   * `afterId` were already pruned (the reader must then drop everything it caches).
   */
  since(afterId: number): { lastId: number; events: InvalidationEvent[]; gap: boolean };
  /** The newest id, so a new process starts from now. */
  lastId(): number;
  /**
   * SQLite's `data_version`: it changes when another connection commits. One cheap call that tells
   * whether the log may have grown.
   */
  dataVersion(): number;
  /**
   * SQLite's WAL-index change counter: it moves with every commit of any connection and is read
   * without locks (see wal_signal.ts); undefined for in-memory databases.
   */
  changeSignal(): number | undefined;
  /** Releases the shared-memory file handle. */
  close(): void;
  /** Removes rows older than the retention period. */
  prune(now?: number): number;
}

/** SQLite implementation of {@link InvalidationLog}. */
export function sqliteInvalidations(db: Db, path: string): InvalidationLog {
  const versionStatement = db.statement("PRAGMA data_version");
  // Opened on first use: the -shm file exists once the connection has read the database.
  let signal: WalSignal | undefined = path === ":memory:"
    ? { kind: "none", read: () => undefined, close() {} }
    : undefined;
  return {
    changeSignal() {
      signal ??= openWalSignal(path);
      return signal.read();
    },
    close() {
      signal?.close();
      signal = { kind: "none", read: () => undefined, close() {} };
    },
    append(events) {
      const now = Date.now();
      for (const event of events) {
        db.run("INSERT INTO invalidations (created_at, event) VALUES (?, ?)", now, JSON.stringify(event));
      }
      return Promise.resolve();
    },
    since(afterId) {
      const rows = db.all<{ id: number; event: string }>(
        "SELECT id, event FROM invalidations WHERE id > ? ORDER BY id",
        afterId,
      );
      const oldest = Number(
        db.get<{ id: number | null }>("SELECT min(id) AS id FROM invalidations")?.id ?? 0,
      );
      return {
        lastId: rows.length ? Number(rows[rows.length - 1].id) : afterId,
        events: rows.map((r) => JSON.parse(r.event) as InvalidationEvent),
        gap: oldest > afterId + 1,
      };
    },
    lastId() {
      return Number(db.get<{ id: number }>("SELECT coalesce(max(id), 0) AS id FROM invalidations")?.id ?? 0);
    },
    dataVersion() {
      return Number((versionStatement.get() as { data_version: number }).data_version);
    },
    prune(now = Date.now()) {
      return db.run("DELETE FROM invalidations WHERE created_at < ?", now - RETENTION_MS).changes;
    },
  };
}
