/**
 * The full-text index filled after the commit instead of inside it (src/store/search_index.ts): storing
 * an email no longer writes the index; a background indexer (src/mail/search_indexer.ts) indexes the
 * emails after a watermark in id order and moves it. `emails.id` is AUTOINCREMENT and writes are
 * serialized, so ids grow in commit order and the emails not yet indexed are exactly those with an id
 * past `indexed_through`. Every email stored so far was indexed in its own transaction, so the
 * watermark starts at the last one. `claimed_until` is the indexer's lease, like search_rebuild's: one
 * indexer of all processes works at a time, and a crashed one's lease lapses.
 */
export const sql = `
CREATE TABLE search_index (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_through INTEGER NOT NULL,
  claimed_until INTEGER NOT NULL DEFAULT 0
);
INSERT INTO search_index (id, indexed_through) SELECT 1, coalesce(max(id), 0) FROM emails;
`;
