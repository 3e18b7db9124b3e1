/**
 * Emails by id as stored rows (EmailRecord): the one read that both the main connection
 * (store/emails.ts) and a read worker (read_worker.ts, for an Email/get of many ids) run.
 *
 * Up to {@link MAX_JSON_EMAILS} ids, SQLite writes the rows as one JSON text, which JSON.parse reads
 * back: node:sqlite's row objects (an object and a value per column, made one by one) took 1.4× the CPU
 * for a page of 50 emails (0.70× with JSON; 0.87× for 8), and one string is also what a worker posts
 * back cheapest: a copy, where the structured clone of 50 objects took the main thread 200–250 µs of
 * CPU against 95–105 µs (10,000-message corpus, 2,000–4,000 gets each, CPU from /proc).
 */
import type { Db, Row } from "./db.ts";

/**
 * The most ids read as one JSON text: past it, rows one by one, so that a get of a whole large
 * mailbox (an IMAP FETCH 1:*) never builds one string near the engine's limit on a string's length.
 */
export const MAX_JSON_EMAILS = 1000;

/** An email as stored: the properties lists read without opening the message. */
export interface EmailRecord {
  id: number;
  accountId: number;
  threadId: number;
  blobId: number;
  /** The message blob's hash, the base of every blob id of the email. */
  blobHash: Uint8Array;
  size: number;
  receivedAt: number;
  /** RFC 3339 with the sender's offset, or null. */
  sentAt: string | null;
  subject: string;
  hasAttachment: boolean;
  preview: string;
  /** JSON of the header properties (messageId, from, to…), parsed once at import. */
  headers: string;
  mailboxIds: number[];
  keywords: string[];
}

// json(…) around the lists keeps them arrays inside the outer array (a subquery's JSON would otherwise
// be quoted as a string); hex() because JSON has no bytes.
const SELECT_JSON =
  `SELECT json_group_array(json_array(e.id, e.account_id, e.thread_id, e.blob_id, hex(b.hash),
  e.size, e.received_at, e.sent_at, e.subject, e.has_attachment, e.preview, e.headers,
  json((SELECT json_group_array(mailbox_id) FROM email_mailboxes m WHERE m.email_id = e.id)),
  json((SELECT json_group_array(keyword) FROM email_keywords k WHERE k.email_id = e.id)))) AS list
  FROM emails e JOIN blobs b ON b.id = e.blob_id
  -- "+ 0": look the ids up by key; the account index would scan every email of the account.
  WHERE e.account_id + 0 = ? AND e.id IN (SELECT value FROM json_each(?))`;

const SELECT = `SELECT e.*, b.hash AS blob_hash,
  (SELECT group_concat(mailbox_id) FROM email_mailboxes m WHERE m.email_id = e.id) AS mailbox_list,
  (SELECT json_group_array(keyword) FROM email_keywords k WHERE k.email_id = e.id) AS keyword_list
  FROM emails e JOIN blobs b ON b.id = e.blob_id
  WHERE e.account_id + 0 = ? AND e.id IN (SELECT value FROM json_each(?))`;

function toEmail(row: Row): EmailRecord {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    threadId: Number(row.thread_id),
    blobId: Number(row.blob_id),
    blobHash: row.blob_hash as Uint8Array,
    size: Number(row.size),
    receivedAt: Number(row.received_at),
    sentAt: row.sent_at === null ? null : String(row.sent_at),
    subject: String(row.subject),
    hasAttachment: Number(row.has_attachment) === 1,
    preview: String(row.preview),
    headers: String(row.headers),
    mailboxIds: row.mailbox_list === null
      ? []
      : String(row.mailbox_list).split(",").map(Number).sort((a, b) => a - b),
    keywords: (JSON.parse(String(row.keyword_list ?? "[]")) as string[]).sort(),
  };
}

/** What {@link readEmails} reads: an account's emails by id. */
export interface EmailsById {
  accountId: number;
  ids: readonly number[];
}

/**
 * The emails of `ids` (at most {@link MAX_JSON_EMAILS}) in the account as JSON text for
 * {@link emailsFromJson}, in one statement (one snapshot).
 */
export function emailsJson(db: Db, { accountId, ids }: EmailsById): string {
  if (ids.length === 0) return "[]";
  if (ids.length > MAX_JSON_EMAILS) {
    throw new Error(`At most ${MAX_JSON_EMAILS} emails as JSON: ${ids.length}`);
  }
  return String(db.get<{ list: string }>(SELECT_JSON, accountId, JSON.stringify(ids))!.list);
}

/**
 * A text column as node:sqlite reads it: up to its first NUL (it takes the C string). JSON keeps the
 * rest; cut here, a stored NUL answers as it did when rows were read one by one.
 */
function column(value: unknown): string {
  const text = String(value);
  const nul = text.indexOf("\0");
  return nul < 0 ? text : text.slice(0, nul);
}

/** The EmailRecords of {@link emailsJson}'s text. */
export function emailsFromJson(text: string): EmailRecord[] {
  return (JSON.parse(text) as unknown[][]).map((row) => ({
    id: row[0] as number,
    accountId: row[1] as number,
    threadId: row[2] as number,
    blobId: row[3] as number,
    blobHash: Uint8Array.fromHex(row[4] as string),
    size: row[5] as number,
    receivedAt: row[6] as number,
    sentAt: row[7] === null ? null : column(row[7]),
    subject: column(row[8]),
    hasAttachment: row[9] === 1,
    preview: column(row[10]),
    headers: column(row[11]),
    mailboxIds: (row[12] as number[]).sort((a, b) => a - b),
    keywords: (row[13] as string[]).sort(),
  }));
}

/** The emails of `ids` in the account; ids not found are left out. */
export function readEmails(db: Db, query: EmailsById): EmailRecord[] {
  if (query.ids.length <= MAX_JSON_EMAILS) return emailsFromJson(emailsJson(db, query));
  return db.all(SELECT, query.accountId, JSON.stringify(query.ids)).map(toEmail);
}
