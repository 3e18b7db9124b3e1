/**
 * A new email's IMAP UID and MODSEQ written with its mailbox rows, not by triggers afterwards. The
 * membership trigger of migration 041 ran six statements per row (bump the mailbox's UIDNEXT, write
 * the UID into the row, then through imap_touch: bump the account's MODSEQ, write it into every row of
 * the email, raise each of its mailboxes' HIGHESTMODSEQ); store/imap_membership.ts gives a new email
 * the same UIDs, MODSEQ and HIGHESTMODSEQs in three (one bump of the account's counter for all its
 * mailboxes, one UPDATE … RETURNING per mailbox, the INSERT with both values).
 *
 * The trigger now stands aside for a row inserted with its UID (UIDs start at 1, so 0 is "none yet"):
 * every other membership insert (Email/set mailboxIds, COPY, MOVE) still takes it from the trigger.
 */
export const sql = `
DROP TRIGGER imap_membership_in;
CREATE TRIGGER imap_membership_in AFTER INSERT ON email_mailboxes WHEN NEW.uid = 0 BEGIN
  UPDATE imap_mailboxes SET uid_next = uid_next + 1 WHERE mailbox_id = NEW.mailbox_id;
  UPDATE email_mailboxes SET uid = (SELECT uid_next - 1 FROM imap_mailboxes WHERE mailbox_id = NEW.mailbox_id)
  WHERE mailbox_id = NEW.mailbox_id AND email_id = NEW.email_id;
  INSERT INTO imap_touch (email_id) VALUES (NEW.email_id);
END;
`;
