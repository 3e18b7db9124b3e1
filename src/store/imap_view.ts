/**
 * The read behind the IMAP mail service's shared mailbox views (src/mail/imap_views.ts): a mailbox's
 * state and either all its rows or only those changed since a MODSEQ, with the UIDs expunged since
 * then, in ONE read transaction. The view takes its MODSEQ from the state read here, so a write that
 * commits just after this read has a higher MODSEQ and is seen at the view's next refresh, never
 * lost between the rows and the MODSEQ that claims to cover them.
 *
 * Rows come as columns (no object per row): a SELECT of 100,000 messages builds four arrays.
 */
import { busyAsUnavailable } from "./busy.ts";
import type { Db } from "./db.ts";
import { arrayRows, KEYWORDS } from "./imap_batch.ts";

/** A mailbox's IMAP state (RFC 9051 §2.3.1.1, RFC 7162 §3.1.1). */
export interface ImapMailboxState {
  mailboxId: number;
  accountId: number;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Expunges at or below this MODSEQ were purged from the log (0: none ever were). */
  purgedModseq: number;
}

/** A mailbox's rows as columns, by ascending UID; `keywords` is space-separated, unordered, or null. */
export interface ImapViewColumns {
  uids: number[];
  emailIds: number[];
  modseqs: number[];
  keywords: (string | null)[];
}

/** What {@link readView} read, all from one snapshot of the database. */
export interface ImapViewRead {
  state: ImapMailboxState;
  /** True: `rows` is every message; false: only those with a MODSEQ above the one asked. */
  full: boolean;
  rows: ImapViewColumns;
  /** UIDs that left the mailbox since the MODSEQ asked (empty for a full read), ascending. */
  expunged: number[];
  /**
   * False when this process had a write transaction open (its uncommitted rows were read): fine to
   * answer with, not to keep.
   */
  consistent: boolean;
}

const STATE = `SELECT i.uid_validity, i.uid_next, i.highest_modseq, i.purged_modseq, m.account_id
  FROM imap_mailboxes i JOIN mailboxes m ON m.id = i.mailbox_id WHERE i.mailbox_id = ?`;
const ALL = `SELECT m.uid, m.email_id, m.modseq, ${KEYWORDS} AS kw
  FROM email_mailboxes m WHERE m.mailbox_id = ? ORDER BY m.uid`;
const CHANGED = `SELECT m.uid, m.email_id, m.modseq, ${KEYWORDS} AS kw
  FROM email_mailboxes m INDEXED BY email_mailboxes_modseq WHERE m.mailbox_id = ? AND m.modseq > ?`;
const EXPUNGED = "SELECT uid FROM imap_expunges WHERE mailbox_id = ? AND modseq > ?";

/**
 * The state and rows of a mailbox: the changes since `since` when given and the expunge log still
 * reaches back that far, every row otherwise. Undefined when the mailbox is gone.
 */
export function readView(db: Db, mailboxId: number, since?: number): ImapViewRead | undefined {
  // A write transaction of this process is open (an async write awaiting): read inside it, say so.
  const consistent = !db.raw.isTransaction;
  if (consistent) {
    try {
      db.raw.exec("BEGIN");
    } catch (error) {
      throw busyAsUnavailable(error);
    }
  }
  try {
    const row = arrayRows(db, STATE, mailboxId)[0];
    if (!row) return undefined;
    const state: ImapMailboxState = {
      mailboxId,
      uidValidity: Number(row[0]),
      uidNext: Number(row[1]),
      highestModseq: Number(row[2]),
      purgedModseq: Number(row[3]),
      accountId: Number(row[4]),
    };
    const full = since === undefined || since < state.purgedModseq || since > state.highestModseq;
    const rows = columns(full ? arrayRows(db, ALL, mailboxId) : arrayRows(db, CHANGED, mailboxId, since));
    const expunged = full
      ? []
      : arrayRows(db, EXPUNGED, mailboxId, since).map((r) => Number(r[0])).sort((a, b) => a - b);
    return { state, full, rows, expunged, consistent };
  } finally {
    if (consistent && db.raw.isTransaction) db.raw.exec("COMMIT");
  }
}

function columns(rows: unknown[][]): ImapViewColumns {
  // Filled by push: packed arrays of small integers, not holey ones.
  const out: ImapViewColumns = { uids: [], emailIds: [], modseqs: [], keywords: [] };
  for (const row of rows) {
    out.uids.push(Number(row[0]));
    out.emailIds.push(Number(row[1]));
    out.modseqs.push(Number(row[2]));
    out.keywords.push(row[3] === null || row[3] === undefined ? null : String(row[3]));
  }
  return out;
}
