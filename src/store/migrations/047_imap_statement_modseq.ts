/**
 * One MODSEQ per STORE, not one per keyword row: RFC 7162 §3.1.3 lets every message a command
 * changes share the command's MODSEQ, and a STORE on 1,000 messages then costs one bump of the
 * account's counter instead of 1,000 (each with three UPDATEs, store/migrations/041_imap.ts).
 *
 * `imap_settings.statement_touch` is 1 only inside a set-based keyword write (store/imap_batch.ts,
 * which sets it, writes, gives the emails it changed one MODSEQ and clears it, all in its
 * transaction, so no other connection ever reads 1): meanwhile the keyword triggers leave the MODSEQ
 * to that writer. Every other keyword write (JMAP Email/set, delivery) still takes the next MODSEQ
 * per row, as before. The unread counts (014_emails.ts) stay per row either way.
 */
export const sql = `
ALTER TABLE imap_settings ADD COLUMN statement_touch INTEGER NOT NULL DEFAULT 0 CHECK (statement_touch IN (0, 1));

DROP TRIGGER imap_keyword_on;
DROP TRIGGER imap_keyword_off;
CREATE TRIGGER imap_keyword_on AFTER INSERT ON email_keywords
WHEN (SELECT statement_touch FROM imap_settings) = 0
  AND EXISTS (SELECT 1 FROM email_mailboxes WHERE email_id = NEW.email_id) BEGIN
  INSERT INTO imap_touch (email_id) VALUES (NEW.email_id);
END;
CREATE TRIGGER imap_keyword_off AFTER DELETE ON email_keywords
WHEN (SELECT statement_touch FROM imap_settings) = 0
  AND EXISTS (SELECT 1 FROM email_mailboxes WHERE email_id = OLD.email_id) BEGIN
  INSERT INTO imap_touch (email_id) VALUES (OLD.email_id);
END;
`;
