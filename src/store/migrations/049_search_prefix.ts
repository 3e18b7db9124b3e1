/**
 * A prefix index in the full-text index (FTS5 `prefix = '3'`): a query word of three letters, which
 * every word of Email/query is taken as (each word "starts a token"), reads one list of the rows
 * whose tokens start with it instead of merging the list of every such token in full (31 ms → under
 * 1 ms at 100,000 messages; scripts/bench/fts_prefix_experiment.ts).
 *
 * The index is contentless, so it cannot rebuild itself: the new one is filled from the messages.
 * This migration only creates it empty, with the row of that work (src/store/search_rebuild.ts):
 * emails up to `end_id` are indexed into it by a claimed background job (src/mail/search_rebuild.ts),
 * later ones by every insert into both, and once the job has reached `end_id` the new index replaces
 * the old. Until then queries read the old one, so nothing is ever missing from a search.
 */
export const sql = `
CREATE VIRTUAL TABLE email_search_next USING fts5(
  subject, from_text, to_text, cc_text, bcc_text, body, attachments,
  tokenize = 'unicode61 remove_diacritics 2', detail = column, content = '', contentless_delete = 1,
  prefix = '3'
);
INSERT INTO email_search_next (email_search_next, rank) VALUES ('automerge', 8);
CREATE TABLE search_rebuild (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  end_id INTEGER NOT NULL,
  done_through INTEGER NOT NULL DEFAULT 0,
  claimed_until INTEGER NOT NULL DEFAULT 0
);
INSERT INTO search_rebuild (id, end_id) SELECT 1, coalesce(max(id), 0) FROM emails;
DROP TRIGGER emails_unsearchable;
CREATE TRIGGER emails_unsearchable AFTER DELETE ON emails BEGIN
  DELETE FROM email_search WHERE rowid = OLD.id;
  DELETE FROM email_search_next WHERE rowid = OLD.id;
END;
`;
