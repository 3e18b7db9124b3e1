/** Failed-login counts shared by every process on the database (migrations/048_login_throttle.ts). */
import type { Db } from "./db.ts";

/** One key's failures, as the rate limiter keeps them (auth/rate_limiter.ts). */
export interface ThrottleEntry {
  count: number;
  firstAt: number;
  blockedUntil: number;
}

/** How a failure is counted. */
export interface FailureRule {
  /** A key's count starts again once this long has passed since its first failure (and no block holds). */
  windowMs: number;
  /** The block a failure count imposes (0: none). */
  delayFor(count: number): number;
  /** Keys kept at most; the least recently failed are dropped beyond. */
  maxKeys: number;
}

/** The shared throttle's rows. */
export interface LoginThrottleStore {
  /** The key's failures, or undefined. */
  get(key: string): Promise<ThrottleEntry | undefined>;
  /** Counts a failure of `key` at `now` under `rule`, in one transaction; the entry after it. */
  fail(key: string, now: number, rule: FailureRule): Promise<ThrottleEntry>;
  /** Forgets the key. */
  delete(key: string): Promise<void>;
  /** Keys kept and keys blocked at `now`. */
  stats(now: number): Promise<{ trackedKeys: number; blocked: number }>;
}

interface Row {
  count: number;
  first_at: number;
  blocked_until: number;
}

const entry = (row: Row): ThrottleEntry => ({
  count: row.count,
  firstAt: row.first_at,
  blockedUntil: row.blocked_until,
});

/** SQLite implementation of {@link LoginThrottleStore}. */
export function sqliteLoginThrottle(db: Db): LoginThrottleStore {
  return {
    get(key) {
      const row = db.get<Row>("SELECT count, first_at, blocked_until FROM login_throttle WHERE key = ?", key);
      return Promise.resolve(row ? entry(row) : undefined);
    },
    fail(key, now, rule) {
      return db.transaction(() => {
        // A count whose window closed (and whose block ended) starts again at this failure.
        const row = db.get<Row>(
          `INSERT INTO login_throttle (key, count, first_at, blocked_until, last_at) VALUES (?1, 1, ?2, 0, ?2)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN ?2 - first_at >= ?3 AND ?2 >= blocked_until THEN 1 ELSE count + 1 END,
             first_at = CASE WHEN ?2 - first_at >= ?3 AND ?2 >= blocked_until THEN ?2 ELSE first_at END,
             blocked_until = CASE WHEN ?2 - first_at >= ?3 AND ?2 >= blocked_until THEN 0 ELSE blocked_until END,
             last_at = ?2
           RETURNING count, first_at, blocked_until`,
          key,
          now,
          rule.windowMs,
        )!;
        const delay = rule.delayFor(row.count);
        if (delay > 0) {
          row.blocked_until = Math.max(row.blocked_until, now + delay);
          db.run("UPDATE login_throttle SET blocked_until = ? WHERE key = ?", row.blocked_until, key);
        }
        // Expired keys, and beyond the limit the least recently failed (a few at a time).
        db.run(
          `DELETE FROM login_throttle WHERE key IN (
             SELECT key FROM login_throttle WHERE last_at < ?1 - ?2 AND blocked_until <= ?1 ORDER BY last_at LIMIT 64)`,
          now,
          rule.windowMs,
        );
        const over = Number(db.get<{ n: number }>("SELECT count(*) AS n FROM login_throttle")?.n ?? 0) -
          rule.maxKeys;
        if (over > 0) {
          db.run(
            "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle ORDER BY last_at LIMIT ?)",
            over,
          );
        }
        return entry(row);
      });
    },
    delete(key) {
      db.run("DELETE FROM login_throttle WHERE key = ?", key);
      return Promise.resolve();
    },
    stats(now) {
      const row = db.get<{ n: number; blocked: number | null }>(
        "SELECT count(*) AS n, sum(blocked_until > ?) AS blocked FROM login_throttle",
        now,
      );
      return Promise.resolve({ trackedKeys: Number(row?.n ?? 0), blocked: Number(row?.blocked ?? 0) });
    },
  };
}
