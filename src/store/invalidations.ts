import { closeSync, openSync, readSync } from "node:fs";
import type { InvalidationEvent } from "../model/types.ts";
import type { Db } from "./db.ts";

/** How long invalidation rows are kept: far longer than any process can lag behind. */
const RETENTION_MS = 24 * 60 * 60 * 1000;

/** The cross-process invalidation log. */
export interface InvalidationLog {
  /** Appends events; call inside the transaction of the write they describe. */
  append(events: InvalidationEvent[]): Promise<void>;
  /** Events after `afterId`, oldest first, with the id of the last one. */
  since(afterId: number): { lastId: number; events: InvalidationEvent[] };
  /** The newest id, so a new process starts from now. */
  lastId(): number;
  /**
   * SQLite's `data_version`: it changes when another connection commits. One cheap call that tells
   * whether the log may have grown.
   */
  dataVersion(): number;
  /**
   * The WAL-index change counter (`iChange`, https://www.sqlite.org/walformat.html): SQLite bumps it
   * in the shared-memory file with every commit of any connection. One read of 48 bytes, no locks;
   * undefined when there is no shared-memory file (in-memory databases).
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
  const header = new Uint8Array(48);
  const view = new DataView(header.buffer);
  let shm: number | undefined | null = path === ":memory:" ? null : undefined;
  return {
    changeSignal() {
      if (shm === null) return undefined;
      try {
        shm ??= openSync(`${path}-shm`, "r");
        // The header is in the host's byte order; only equality matters, so any order will do.
        return readSync(shm, header, 0, 48, 0) === 48 ? view.getUint32(8, true) : undefined;
      } catch {
        shm = null;
        return undefined;
      }
    },
    close() {
      if (typeof shm === "number") closeSync(shm);
      shm = null;
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
      return {
        lastId: rows.length ? Number(rows[rows.length - 1].id) : afterId,
        events: rows.map((r) => JSON.parse(r.event) as InvalidationEvent),
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
