/** Reading stored emails: the rows of emails.ts's `get`, on the main connection or a read worker. */
import type { Db, Row } from "./db.ts";

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

const SELECT = `SELECT e.*, b.hash AS blob_hash,
  (SELECT group_concat(mailbox_id) FROM email_mailboxes m WHERE m.email_id = e.id) AS mailbox_list,
  (SELECT json_group_array(keyword) FROM email_keywords k WHERE k.email_id = e.id) AS keyword_list
  FROM emails e JOIN blobs b ON b.id = e.blob_id`;

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

/** The emails of `ids` in the account (ids not found are left out), in one statement. */
export function readEmails(db: Db, args: { accountId: number; ids: readonly number[] }): EmailRecord[] {
  const rows = db.all(
    // "+ 0": look the ids up by key; the account index would scan every email of the account.
    `${SELECT} WHERE e.account_id + 0 = ? AND e.id IN (SELECT value FROM json_each(?))`,
    args.accountId,
    JSON.stringify(args.ids),
  );
  return rows.map(toEmail);
}
