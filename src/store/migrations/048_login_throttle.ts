/**
 * Several serving processes on one database (`postern serve --processes N`).
 *
 * Failed-login throttling shared by every process on the database (auth/shared_rate_limiter.ts): with
 * several serving processes (`postern serve --processes N`) a count kept in each process's memory would
 * give an attacker N times the attempts. One row per throttled key (`ip:…`, `account:…`, `userCode:…`),
 * the same fields the in-memory limiter keeps; `last_at` orders eviction beyond the key limit.
 */
export const sql = `
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL,
  last_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_throttle_last_at ON login_throttle (last_at);
-- Where each process answers its siblings over loopback (its /metrics, see http/metrics_merge.ts).
ALTER TABLE servers ADD COLUMN internal_url TEXT;
`;
