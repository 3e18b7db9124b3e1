/**
 * Servers running on this database: where each listens, so the admin UI in local mode can tell
 * whether one runs and ask it (over loopback) for its health and counters. A server refreshes its
 * row while it runs and removes it when it stops; a row left by a crash simply stops being fresh.
 */
export const sql = `
CREATE TABLE servers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL,
  pid INTEGER NOT NULL,
  version TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  seen_at INTEGER NOT NULL
);
`;
