/** The servers running on this database, each refreshing its row while it runs. */
import type { Db } from "./db.ts";

/** A server as it registered. */
export interface ServerRecord {
  id: number;
  /** Where it answers, for a client on this machine (loopback for a wildcard address). */
  url: string;
  pid: number;
  version: string;
  startedAt: number;
  seenAt: number;
  /** Where this process alone answers, over loopback (one of several serving processes). */
  internalUrl?: string;
}

/** Registration of running servers. */
export interface ServerRegistry {
  /** Adds a running server; returns its id. Rows not seen for a day are dropped at the same time. */
  register(server: Omit<ServerRecord, "id" | "seenAt">): Promise<number>;
  /** Marks the server as still running. */
  seen(id: number, now: number): Promise<void>;
  /** Removes the server's row (it stopped). */
  unregister(id: number): Promise<void>;
  /** Servers seen since `since`, newest first. */
  running(since: number): Promise<ServerRecord[]>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** How often a running server refreshes its row; a row three beats old is a server that is gone. */
export const SERVER_HEARTBEAT_MS = 30_000;

/** SQLite implementation of {@link ServerRegistry}. */
export function sqliteServers(db: Db): ServerRegistry {
  return {
    register(server) {
      return db.transaction(() => {
        db.run("DELETE FROM servers WHERE seen_at < ?", server.startedAt - DAY_MS);
        return db.run(
          "INSERT INTO servers (url, pid, version, started_at, seen_at, internal_url) VALUES (?, ?, ?, ?, ?, ?)",
          server.url,
          server.pid,
          server.version,
          server.startedAt,
          server.startedAt,
          server.internalUrl ?? null,
        ).id;
      });
    },
    // A busy database rejects the promise (the executor's throw) rather than throwing past a .catch().
    seen(id, now) {
      return new Promise((resolve) =>
        resolve(void db.run("UPDATE servers SET seen_at = ? WHERE id = ?", now, id))
      );
    },
    unregister(id) {
      return new Promise((resolve) => resolve(void db.run("DELETE FROM servers WHERE id = ?", id)));
    },
    running(since) {
      const rows = db.all("SELECT * FROM servers WHERE seen_at >= ? ORDER BY started_at DESC", since);
      return Promise.resolve(rows.map((r) => ({
        id: Number(r.id),
        url: String(r.url),
        pid: Number(r.pid),
        version: String(r.version),
        startedAt: Number(r.started_at),
        seenAt: Number(r.seen_at),
        ...(r.internal_url ? { internalUrl: String(r.internal_url) } : {}),
      })));
    },
  };
}
