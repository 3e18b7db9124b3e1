/**
 * The full-text index keeps no copy of the text it indexes (FTS5 contentless, with deletes by rowid):
 * the text is the message's own, read from its blob when SearchSnippet marks it. A message no longer
 * stores its body text twice (the index copied it), and indexing writes less. Same columns, tokenizer and merge setting;
 * the rows of the old index move over as they are.
 */
export const sql = `
CREATE VIRTUAL TABLE email_search_contentless USING fts5(
  subject, from_text, to_text, cc_text, bcc_text, body, attachments,
  tokenize = 'unicode61 remove_diacritics 2', detail = column, content = '', contentless_delete = 1
);
INSERT INTO email_search_contentless (email_search_contentless, rank) VALUES ('automerge', 8);
INSERT INTO email_search_contentless (rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments)
  SELECT rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments FROM email_search;
DROP TRIGGER emails_unsearchable;
DROP TABLE email_search;
ALTER TABLE email_search_contentless RENAME TO email_search;
CREATE TRIGGER emails_unsearchable AFTER DELETE ON emails BEGIN
  DELETE FROM email_search WHERE rowid = OLD.id;
END;
`;
