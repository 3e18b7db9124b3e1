/**
 * The mailbox rows of a new email with their IMAP UID and MODSEQ (migrations/050_imap_membership_fold.ts).
 * What the triggers of migration 041 left after inserting a new email into n mailboxes one by one:
 * each row has its mailbox's next UID, the account's MODSEQ went up n times, and every row of the email
 * and each of its mailboxes' HIGHESTMODSEQ hold the last value. This writes exactly that, in one
 * statement for the account's counter and two per mailbox instead of seven.
 */
import type { Db } from "./db.ts";

/** A new email's place in its mailboxes. */
export interface NewMemberships {
  accountId: number;
  emailId: number;
  /** Distinct mailbox ids. */
  mailboxIds: readonly number[];
  receivedAt: number;
}

const INSERT =
  "INSERT INTO email_mailboxes (mailbox_id, email_id, received_at, uid, modseq) VALUES (?, ?, ?, ?, ?)";
/** Without a UID: the trigger gives it (and the MODSEQ), as for any other membership insert. */
const INSERT_BY_TRIGGER = "INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (?, ?, ?)";

/** Puts a new email (no mailbox rows yet) into its mailboxes, with UIDs and one MODSEQ. */
export function insertNewMemberships(db: Db, m: NewMemberships): void {
  if (m.mailboxIds.length === 0) return;
  const modseq = db.firstValues(
    "UPDATE imap_accounts SET modseq = modseq + ? WHERE account_id = ? RETURNING modseq",
    m.mailboxIds.length,
    m.accountId,
  )?.[0];
  for (const mailboxId of m.mailboxIds) {
    const uid = modseq === undefined ? undefined : db.firstValues(
      "UPDATE imap_mailboxes SET uid_next = uid_next + 1, highest_modseq = ? WHERE mailbox_id = ? RETURNING uid_next - 1",
      modseq as number,
      mailboxId,
    )?.[0];
    // Without the IMAP rows (an account or mailbox on its way out), the triggers decide, as before.
    if (uid === undefined) db.run(INSERT_BY_TRIGGER, mailboxId, m.emailId, m.receivedAt);
    else db.run(INSERT, mailboxId, m.emailId, m.receivedAt, uid as number, modseq as number);
  }
}
