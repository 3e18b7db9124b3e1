/**
 * IMAP's statements over many messages at once (imap.ts wires them into ImapRepository): a
 * mailbox's rows without the email and blob joins, the other mailboxes of a set of emails, the bytes
 * of a batch of UIDs, and keyword writes for a whole set in a statement or two.
 *
 * The keyword writes go through email_keywords like any other path, so the unread counts'
 * triggers (store/migrations/014_emails.ts) still run per row; the MODSEQ is given once for the whole
 * write instead of per row (047_imap_statement_modseq.ts). An INSERT OR IGNORE of a keyword already
 * there changes nothing and fires nothing.
 */
import type { SQLInputValue, StatementSync } from "node:sqlite";
import { busyAsUnavailable } from "./busy.ts";
import type { Db } from "./db.ts";

/** A message of a mailbox as IMAP lists it: its UID, email, MODSEQ and keywords (lower case). */
export interface ImapMessageRow {
  uid: number;
  emailId: number;
  modseq: number;
  keywords: string[];
}

/** UIDs as inclusive ranges `[first, last]`, ascending. */
export type UidRanges = readonly (readonly [number, number])[];

/** A keyword write for a set of emails: `add` these, and remove `remove` (or all but `keepOnly`). */
export interface KeywordChange {
  add: readonly string[];
  remove?: readonly string[];
  /** Removes every keyword not listed (STORE FLAGS, a replace); `remove` is then ignored. */
  keepOnly?: readonly string[];
}

/** The keywords subquery of a row of email_mailboxes `m` (space-separated, unordered). */
export const KEYWORDS =
  "(SELECT group_concat(keyword, ' ') FROM email_keywords k WHERE k.email_id = m.email_id)";

const ARRAY_STATEMENTS = new WeakMap<Db, Map<string, StatementSync>>();

/**
 * The rows of a query as arrays: no object per row from SQLite (a SELECT of a large mailbox reads
 * every row; objects cost about four times the query). Statements of their own, so no other reader
 * sees arrays.
 */
export function arrayRows(db: Db, sql: string, ...params: SQLInputValue[]): unknown[][] {
  let statements = ARRAY_STATEMENTS.get(db);
  if (!statements) ARRAY_STATEMENTS.set(db, statements = new Map());
  let stmt = statements.get(sql);
  if (!stmt) {
    stmt = db.raw.prepare(sql);
    // In Deno's node:sqlite (Node 24's API), not yet in its type declarations; rows are read either way.
    (stmt as StatementSync & { setReturnArrays?(on: boolean): void }).setReturnArrays?.(true);
    statements.set(sql, stmt);
  }
  try {
    return stmt.all(...params).map((row) => Array.isArray(row) ? row : Object.values(row as object));
  } catch (error) {
    throw busyAsUnavailable(error);
  }
}

/** The rows of a query selecting uid, email_id, modseq and kw (then anything) as {@link ImapMessageRow}s. */
export function messageRows(db: Db, sql: string, ...params: SQLInputValue[]): ImapMessageRow[] {
  return arrayRows(db, sql, ...params).map(messageRow);
}

/** The first four columns of an array row (uid, email_id, modseq, kw) as an {@link ImapMessageRow}. */
export function messageRow(row: unknown[]): ImapMessageRow {
  return {
    uid: Number(row[0]),
    emailId: Number(row[1]),
    modseq: Number(row[2]),
    keywords: row[3] ? String(row[3]).split(" ").sort() : [],
  };
}

/** The messages of `uids` in a mailbox (UID, email, MODSEQ, keywords), by ascending UID. */
export function rowsIn(db: Db, mailboxId: number, uids: UidRanges): ImapMessageRow[] {
  const out: ImapMessageRow[] = [];
  for (const [first, last] of uids) {
    const rows = messageRows(
      db,
      `SELECT m.uid, m.email_id, m.modseq, ${KEYWORDS} AS kw
       FROM email_mailboxes m WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
      mailboxId,
      first,
      last,
    );
    for (const row of rows) out.push(row);
  }
  return out.sort((a, b) => a.uid - b.uid);
}

/** The mailboxes other than `mailboxId` that each email of `emailIds` is in (emails in none are left out). */
export function otherMailboxes(
  db: Db,
  mailboxId: number,
  emailIds: readonly number[],
): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (emailIds.length === 0) return out;
  const rows = db.all<{ email_id: number; mailbox_id: number }>(
    `SELECT email_id, mailbox_id FROM email_mailboxes
     WHERE email_id IN (SELECT value FROM json_each(?)) AND mailbox_id <> ?`,
    JSON.stringify(emailIds),
    mailboxId,
  );
  for (const row of rows) {
    const id = Number(row.email_id);
    const list = out.get(id);
    if (list) list.push(Number(row.mailbox_id));
    else out.set(id, [Number(row.mailbox_id)]);
  }
  return out;
}

/** The stored bytes of the messages of `uids` (any order) in a mailbox, by UID; a UID not in it is left out. */
export function bodiesIn(
  db: Db,
  mailboxId: number,
  uids: readonly number[],
): Map<number, Uint8Array<ArrayBuffer>> {
  const out = new Map<number, Uint8Array<ArrayBuffer>>();
  if (uids.length === 0) return out;
  const rows = db.all<{ uid: number; data: Uint8Array<ArrayBuffer> }>(
    `SELECT m.uid, b.data FROM email_mailboxes m JOIN emails e ON e.id = m.email_id JOIN blobs b ON b.id = e.blob_id
     WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?))`,
    mailboxId,
    JSON.stringify(uids),
  );
  for (const row of rows) out.set(Number(row.uid), row.data);
  return out;
}

/**
 * Writes a keyword change for every email of `emailIds` set-based: one DELETE and one INSERT, then
 * one MODSEQ for all the emails they changed (RFC 7162 §3.1.3 allows one per command), given to
 * their rows in every mailbox and to those mailboxes' HIGHESTMODSEQ by three statements, where the
 * per-row triggers would run three UPDATEs per keyword row (store/migrations/047_imap_statement_modseq.ts).
 * Returns the MODSEQ each changed email now has; an email whose keywords were already so is left out.
 */
export function setKeywordsOf(
  db: Db,
  emailIds: readonly number[],
  change: KeywordChange,
): Map<number, number> {
  const out = new Map<number, number>();
  if (emailIds.length === 0) return out;
  const ids = JSON.stringify(emailIds);
  const changed = new Set<number>();
  const note = (rows: { email_id: number }[]) => {
    for (const row of rows) changed.add(Number(row.email_id));
  };
  db.run("UPDATE imap_settings SET statement_touch = 1");
  try {
    if (change.keepOnly) {
      note(db.all(
        `DELETE FROM email_keywords WHERE email_id IN (SELECT value FROM json_each(?))
         AND keyword NOT IN (SELECT value FROM json_each(?)) RETURNING email_id`,
        ids,
        JSON.stringify(change.keepOnly),
      ));
    } else if (change.remove?.length) {
      note(db.all(
        `DELETE FROM email_keywords WHERE email_id IN (SELECT value FROM json_each(?))
         AND keyword IN (SELECT value FROM json_each(?)) RETURNING email_id`,
        ids,
        JSON.stringify(change.remove),
      ));
    }
    if (change.add.length) {
      note(db.all(
        `INSERT OR IGNORE INTO email_keywords (email_id, keyword)
         SELECT e.value, k.value FROM json_each(?) e, json_each(?) k RETURNING email_id`,
        ids,
        JSON.stringify(change.add),
      ));
    }
  } finally {
    db.run("UPDATE imap_settings SET statement_touch = 0");
  }
  if (changed.size === 0) return out;
  const touched = JSON.stringify([...changed]);
  db.run(
    `UPDATE imap_accounts SET modseq = modseq + 1 WHERE account_id IN (
       SELECT DISTINCT account_id FROM emails WHERE id IN (SELECT value FROM json_each(?)))`,
    touched,
  );
  const rows = db.all<{ email_id: number; modseq: number }>(
    `UPDATE email_mailboxes SET modseq = IFNULL((
       SELECT a.modseq FROM emails e JOIN imap_accounts a ON a.account_id = e.account_id
       WHERE e.id = email_mailboxes.email_id
     ), modseq) WHERE email_id IN (SELECT value FROM json_each(?)) RETURNING email_id, modseq`,
    touched,
  );
  for (const row of rows) out.set(Number(row.email_id), Number(row.modseq));
  db.run(
    `UPDATE imap_mailboxes SET highest_modseq = IFNULL((
       SELECT a.modseq FROM mailboxes m JOIN imap_accounts a ON a.account_id = m.account_id
       WHERE m.id = imap_mailboxes.mailbox_id
     ), highest_modseq)
     WHERE mailbox_id IN (SELECT mailbox_id FROM email_mailboxes WHERE email_id IN (SELECT value FROM json_each(?)))`,
    touched,
  );
  return out;
}
