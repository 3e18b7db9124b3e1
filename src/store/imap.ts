/**
 * IMAP's view of mailboxes as the database keeps it (migrations/041_imap.ts): UIDVALIDITY, UIDNEXT
 * and HIGHESTMODSEQ per mailbox, a UID and a MODSEQ per message in a mailbox, and the expunge log.
 * Reads only: every write that changes them is an email write (emails.ts), and the triggers follow.
 */
import { CommitMemo } from "./commit_memo.ts";
import type { Db, Row } from "./db.ts";
import {
  arrayRows,
  bodiesIn,
  type ImapMessageRow,
  type KeywordChange,
  KEYWORDS,
  messageRow,
  messageRows,
  otherMailboxes,
  rowsIn,
  setKeywordsOf,
  type UidRanges,
} from "./imap_batch.ts";
import { type ImapMailboxState, type ImapViewColumns, type ImapViewRead, readView } from "./imap_view.ts";

export type { ImapMailboxState, ImapMessageRow, ImapViewColumns, ImapViewRead, KeywordChange, UidRanges };

/**
 * What FETCH needs of a message without opening it. No blob is joined: a blob row holds the bytes,
 * so reading even its hash costs a page per message (message bytes: ImapRepository.bodies).
 */
export interface ImapMessageFactsRow extends ImapMessageRow {
  threadId: number;
  /** RFC822.SIZE: the size as FETCH serves it, bare LFs made CRLF (migrations/045_imap_size.ts). */
  size: number;
  /** The internal date (RFC 9051 §2.3.3), ms since the epoch: the email's receivedAt. */
  receivedAt: number;
}

/** What SORT and THREAD (RFC 5256) read of a message: stored columns, never the message. */
export interface ImapSortRow {
  uid: number;
  size: number;
  receivedAt: number;
  /** The Date header as an instant, the received date when it has none that reads. */
  sentMs: number;
  subject: string;
  /** JSON of the header properties kept at import (messageId, references, from, to, cc…). */
  headers: string;
}

/** Reads of IMAP's view of mailboxes. */
export interface ImapRepository {
  /** The states of the mailboxes asked for (a missing mailbox is left out). */
  states(mailboxIds: readonly number[]): Promise<Map<number, ImapMailboxState>>;
  /**
   * A mailbox's state with every row, or with the rows changed and UIDs expunged since `since`, read
   * in one transaction (store/imap_view.ts); undefined when the mailbox is gone.
   */
  viewRead(mailboxId: number, since?: number): Promise<ImapViewRead | undefined>;
  /** Every message of a mailbox, by ascending UID. */
  messages(mailboxId: number): Promise<ImapMessageRow[]>;
  /** The messages of a mailbox whose MODSEQ is above `modseq`, by ascending UID. */
  changedSince(mailboxId: number, modseq: number): Promise<ImapMessageRow[]>;
  /** UIDs that left the mailbox with a MODSEQ above `modseq` (exact only above purgedModseq). */
  expungedSince(mailboxId: number, modseq: number): Promise<number[]>;
  /** The messages of `uids` in a mailbox with their facts, by ascending UID. */
  facts(mailboxId: number, uids: UidRanges): Promise<ImapMessageFactsRow[]>;
  /** UIDs of the messages of a mailbox that have `keyword` (EXPUNGE's \Deleted), ascending. */
  withKeyword(mailboxId: number, keyword: string): Promise<number[]>;
  /** Size of all messages of a mailbox and how many have `keyword` (STATUS SIZE and DELETED). */
  totals(mailboxId: number, keyword: string): Promise<{ size: number; withKeyword: number }>;
  /** The UID of each email of `emailIds` in a mailbox (emails not in it are left out). */
  uidsOf(mailboxId: number, emailIds: readonly number[]): Promise<Map<number, number>>;
  /** The sort and thread facts of the messages of `uids` in a mailbox (missing UIDs are left out). */
  sortRows(mailboxId: number, uids: readonly number[]): Promise<ImapSortRow[]>;
  /** The messages of `uids` in a mailbox without their facts (no email or blob read), by ascending UID. */
  rows(mailboxId: number, uids: UidRanges): Promise<ImapMessageRow[]>;
  /** The mailboxes other than `mailboxId` each email of `emailIds` is in (an email in no other is left out). */
  otherMailboxes(mailboxId: number, emailIds: readonly number[]): Promise<Map<number, number[]>>;
  /** The stored bytes of the messages of `uids` in a mailbox, by UID (a UID not in it is left out). */
  bodies(mailboxId: number, uids: readonly number[]): Promise<Map<number, Uint8Array<ArrayBuffer>>>;
  /**
   * One keyword change for every email of `emailIds`, set-based (STORE on a set); call it in the
   * write's transaction. The emails it changed share one new MODSEQ; returns each one's MODSEQ.
   */
  setKeywords(emailIds: readonly number[], change: KeywordChange): Promise<Map<number, number>>;
  /** How many expunges a mailbox's log keeps after a purge (it purges past twice that). */
  setKeepExpunges(count: number): Promise<void>;
  /**
   * Gives every mailbox a new UIDVALIDITY (after a restore from a backup: UIDs handed out since the
   * backup are handed out again, so clients must forget what they cached).
   */
  renewUidValidity(): Promise<void>;
}

/**
 * SQLite implementation of {@link ImapRepository}. `changeSignal` is the WAL-index change counter
 * (store/wal_signal.ts): one mailbox's state, read before every command of a session in the selected
 * state, is remembered until the next commit (commit_memo.ts).
 */
export function sqliteImap(db: Db, changeSignal: () => number | undefined = () => undefined): ImapRepository {
  const done = <T>(value: T) => Promise.resolve(value);
  const stateMemo = new CommitMemo<number, ImapMailboxState | undefined>(db, changeSignal);
  const stateOf = (mailboxId: number) => {
    const row = db.get(`${STATE_SELECT} WHERE i.mailbox_id = ?`, mailboxId);
    return row ? Object.freeze(toState(row)) : undefined;
  };
  return {
    states(mailboxIds) {
      const out = new Map<number, ImapMailboxState>();
      if (mailboxIds.length === 1) {
        const state = stateMemo.get(mailboxIds[0], () => stateOf(mailboxIds[0]));
        if (state) out.set(state.mailboxId, state);
        return done(out);
      }
      if (mailboxIds.length === 0) return done(out);
      const rows = db.all(
        `${STATE_SELECT} WHERE i.mailbox_id IN (SELECT value FROM json_each(?))`,
        JSON.stringify(mailboxIds),
      );
      for (const row of rows) out.set(Number(row.mailbox_id), toState(row));
      return done(out);
    },
    viewRead(mailboxId, since) {
      return done(readView(db, mailboxId, since));
    },
    messages(mailboxId) {
      return done(messageRows(
        db,
        `SELECT m.uid, m.email_id, m.modseq, ${KEYWORDS} AS kw
         FROM email_mailboxes m WHERE m.mailbox_id = ? ORDER BY m.uid`,
        mailboxId,
      ));
    },
    changedSince(mailboxId, modseq) {
      const rows = messageRows(
        db,
        `SELECT m.uid, m.email_id, m.modseq, ${KEYWORDS} AS kw
         FROM email_mailboxes m INDEXED BY email_mailboxes_modseq
         WHERE m.mailbox_id = ? AND m.modseq > ?`,
        mailboxId,
        modseq,
      );
      return done(rows.sort((a, b) => a.uid - b.uid));
    },
    expungedSince(mailboxId, modseq) {
      const rows = db.all<{ uid: number }>(
        "SELECT uid FROM imap_expunges WHERE mailbox_id = ? AND modseq > ?",
        mailboxId,
        modseq,
      );
      return done(rows.map((r) => Number(r.uid)).sort((a, b) => a - b));
    },
    facts(mailboxId, uids) {
      const out: ImapMessageFactsRow[] = [];
      for (const [first, last] of uids) {
        const rows = arrayRows(
          db,
          `SELECT m.uid, m.email_id, m.modseq, ${KEYWORDS} AS kw, e.thread_id, coalesce(e.imap_size, e.size) AS size,
             e.received_at
           FROM email_mailboxes m JOIN emails e ON e.id = m.email_id
           WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
          mailboxId,
          first,
          last,
        );
        for (const row of rows) {
          out.push({
            ...messageRow(row),
            threadId: Number(row[4]),
            size: Number(row[5]),
            receivedAt: Number(row[6]),
          });
        }
      }
      return done(out.sort((a, b) => a.uid - b.uid));
    },
    withKeyword(mailboxId, keyword) {
      const rows = db.all<{ uid: number }>(
        `SELECT m.uid FROM email_keywords k JOIN email_mailboxes m ON m.email_id = k.email_id
         WHERE k.keyword = ? AND m.mailbox_id = ?`,
        keyword,
        mailboxId,
      );
      return done(rows.map((r) => Number(r.uid)).sort((a, b) => a - b));
    },
    totals(mailboxId, keyword) {
      const row = db.get<{ size: number | null; flagged: number | null }>(
        `SELECT sum(coalesce(e.imap_size, e.size)) AS size,
           sum(EXISTS (SELECT 1 FROM email_keywords k WHERE k.email_id = m.email_id AND k.keyword = ?)) AS flagged
         FROM email_mailboxes m JOIN emails e ON e.id = m.email_id WHERE m.mailbox_id = ?`,
        keyword,
        mailboxId,
      );
      return done({ size: Number(row?.size ?? 0), withKeyword: Number(row?.flagged ?? 0) });
    },
    uidsOf(mailboxId, emailIds) {
      const out = new Map<number, number>();
      if (emailIds.length === 0) return done(out);
      const rows = db.all<{ uid: number; email_id: number }>(
        `SELECT uid, email_id FROM email_mailboxes
         WHERE mailbox_id = ? AND email_id IN (SELECT value FROM json_each(?))`,
        mailboxId,
        JSON.stringify(emailIds),
      );
      for (const row of rows) out.set(Number(row.email_id), Number(row.uid));
      return done(out);
    },
    sortRows(mailboxId, uids) {
      if (uids.length === 0) return done([]);
      const rows = db.all<
        {
          uid: number;
          size: number;
          received_at: number;
          sent_ms: number | null;
          subject: string;
          headers: string;
        }
      >(
        `SELECT m.uid, coalesce(e.imap_size, e.size) AS size, e.received_at, e.sent_ms, e.subject, e.headers
         FROM email_mailboxes m JOIN emails e ON e.id = m.email_id
         WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?))`,
        mailboxId,
        JSON.stringify(uids),
      );
      return done(rows.map((row) => ({
        uid: Number(row.uid),
        size: Number(row.size),
        receivedAt: Number(row.received_at),
        sentMs: Number(row.sent_ms ?? row.received_at),
        subject: String(row.subject),
        headers: String(row.headers),
      })));
    },
    rows(mailboxId, uids) {
      return done(rowsIn(db, mailboxId, uids));
    },
    otherMailboxes(mailboxId, emailIds) {
      return done(otherMailboxes(db, mailboxId, emailIds));
    },
    bodies(mailboxId, uids) {
      return done(bodiesIn(db, mailboxId, uids));
    },
    setKeywords(emailIds, change) {
      return done(setKeywordsOf(db, emailIds, change));
    },
    setKeepExpunges(count) {
      db.run("UPDATE imap_settings SET keep_expunges = ?", count);
      return done(undefined);
    },
    renewUidValidity() {
      renewUidValidity(db.raw);
      return done(undefined);
    },
  };
}

/**
 * Gives every mailbox a new UIDVALIDITY, above every value handed out before, on a raw connection (a
 * restored database file before it is put in place); a database without the IMAP tables is left as
 * it is (its migration assigns fresh values).
 */
export function renewUidValidity(
  db: { exec(sql: string): void; prepare(sql: string): { get(): unknown } },
): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'imap_mailboxes'").get()) return;
  db.exec(`
    UPDATE imap_mailboxes SET uid_validity = r.n FROM (
      SELECT mailbox_id,
        (SELECT max(last_uid_validity + 1, unixepoch()) FROM imap_settings) +
        row_number() OVER (ORDER BY mailbox_id) - 1 AS n
      FROM imap_mailboxes
    ) r WHERE imap_mailboxes.mailbox_id = r.mailbox_id;
    UPDATE imap_settings SET last_uid_validity = max(
      last_uid_validity, IFNULL((SELECT max(uid_validity) FROM imap_mailboxes), 0)
    );
  `);
}

const STATE_SELECT = "SELECT i.*, m.account_id FROM imap_mailboxes i JOIN mailboxes m ON m.id = i.mailbox_id";

function toState(row: Row): ImapMailboxState {
  return {
    mailboxId: Number(row.mailbox_id),
    accountId: Number(row.account_id),
    uidValidity: Number(row.uid_validity),
    uidNext: Number(row.uid_next),
    highestModseq: Number(row.highest_modseq),
    purgedModseq: Number(row.purged_modseq),
  };
}
